/* global fetch */
// Talks to /ops/api with the session cookie; every action carries the session's
// CSRF token (X-CSRF-Token), as the server wants.

let csrfToken = '';
/** @type {() => void} */
let unauthorized = () => {};

/** The request never got an answer (the browser is offline, or the gateway is down). */
export class NetworkError extends Error {}

export class ApiError extends Error {
  /**
   * @param {number} status
   * @param {Record<string, unknown>} body
   */
  constructor(status, body) {
    super(typeof body['title'] === 'string' ? body['title'] : `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

/** @param {string} token */
export function setCsrfToken(token) {
  csrfToken = token;
}

/** Called when the session is gone (401): the app shows the login page. @param {() => void} handler */
export function onUnauthorized(handler) {
  unauthorized = handler;
}

/**
 * @param {Response} response
 * @returns {Promise<Record<string, unknown>>}
 */
async function bodyOf(response) {
  const text = await response.text();
  if (text === '') return {};
  try {
    const parsed = /** @type {unknown} */ (JSON.parse(text));
    return typeof parsed === 'object' && parsed !== null ? /** @type {Record<string, unknown>} */ (parsed) : { value: parsed };
  } catch {
    return { title: text.slice(0, 200) };
  }
}

/**
 * @param {string} method
 * @param {string} path
 * @param {unknown} [body]
 * @param {{ quiet401?: boolean }} [options]
 * @returns {Promise<unknown>}
 */
async function request(method, path, body, options = {}) {
  /** @type {Record<string, string>} */
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && csrfToken) headers['X-CSRF-Token'] = csrfToken;
  /** @type {Response} */
  let response;
  try {
    response = await fetch(path, { method, headers, credentials: 'same-origin', cache: 'no-store', ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  } catch (error) {
    throw new NetworkError(error instanceof Error ? error.message : String(error));
  }
  const data = await bodyOf(response);
  if (response.status === 401 && !options.quiet401) unauthorized();
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

/** @param {string} path @param {Record<string, string | number | undefined>} [query] */
export function get(path, query) {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query ?? {})) if (value !== undefined && value !== '') params.set(name, String(value));
  const search = params.toString();
  return request('GET', search ? `${path}?${search}` : path);
}

/** @param {string} path @param {unknown} [body] */
export function post(path, body = {}) {
  return request('POST', path, body);
}

/** The current session, or undefined when not logged in. */
export async function session() {
  try {
    const data = /** @type {{ user: import('./model.js').User, csrfToken: string }} */ (await request('GET', '/ops/api/session', undefined, { quiet401: true }));
    setCsrfToken(data.csrfToken);
    return data.user;
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return undefined;
    throw error;
  }
}

/**
 * @param {string} username
 * @param {string} password
 */
export async function login(username, password) {
  const data = /** @type {{ user: import('./model.js').User, csrfToken: string }} */ (await request('POST', '/ops/api/login', { username, password }, { quiet401: true }));
  setCsrfToken(data.csrfToken);
  return data.user;
}

export async function logout() {
  try {
    await request('POST', '/ops/api/logout', {}, { quiet401: true });
  } finally {
    csrfToken = '';
  }
}
