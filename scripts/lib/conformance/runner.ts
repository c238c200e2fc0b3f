import type { PartnerHttp } from '../../../adapters/http.ts';

/**
 * The conformance run's shared part: one HTTP exchange as it is shown, a
 * contract rule and its result, running the rules in order and printing them
 * with every secret and bearer token masked.
 */

/** One request and its answer, as a failed rule shows it. */
export interface Exchange {
  /** `POST http://host/notify` */
  request: string;
  requestHeaders?: Record<string, string>;
  requestBody?: string;
  /** undefined when no answer came (the error says why) */
  status?: number;
  contentType?: string;
  answer?: string;
  error?: string;
}

export interface RuleOutcome {
  passed: boolean;
  /** what was expected and what came, one line */
  detail: string;
  exchanges: Exchange[];
}

export interface Rule {
  /** short, stable name: `notify-repeat` */
  id: string;
  /** the contract's rule in words */
  title: string;
  run(): Promise<RuleOutcome>;
}

export interface RuleResult extends RuleOutcome {
  id: string;
  title: string;
}

/** An answer to one call, parsed when it is JSON. */
export interface Answer {
  status: number | undefined;
  headers: Record<string, string>;
  text: string;
  /** the parsed body; undefined when it is not JSON */
  json: unknown;
  exchange: Exchange;
}

export interface CallOptions {
  method: 'GET' | 'POST';
  path: string;
  params?: Record<string, string>;
  headers?: Record<string, string>;
  /** sent exactly as given */
  body?: string;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** One call through the adapter's own HTTP client, kept as an exchange. */
export async function call(http: PartnerHttp, options: CallOptions): Promise<Answer> {
  const query = options.params ? `?${new URLSearchParams(options.params).toString()}` : '';
  const base = http.baseURL.replace(/\/$/, '');
  const exchange: Exchange = {
    request: `${options.method} ${base}${options.path}${query}`,
    ...(options.headers ? { requestHeaders: options.headers } : {}),
    ...(options.body === undefined ? {} : { requestBody: options.body }),
  };
  try {
    const response = await http.request({
      method: options.method,
      url: options.path,
      ...(options.params ? { params: options.params } : {}),
      ...(options.body === undefined ? {} : { data: options.body }),
      headers: options.headers ?? {},
      // the raw text both ways: what is sent is the signed string, what came is shown as it came
      transformRequest: [(data: unknown) => data],
      transformResponse: [(data: unknown) => data],
      responseType: 'text',
    });
    const text = typeof response.data === 'string' ? response.data : response.data === undefined || response.data === null ? '' : JSON.stringify(response.data);
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(response.headers)) if (typeof value === 'string') headers[name.toLowerCase()] = value;
    exchange.status = response.status;
    if (headers['content-type'] !== undefined) exchange.contentType = headers['content-type'];
    exchange.answer = text;
    return { status: response.status, headers, text, json: parseJson(text), exchange };
  } catch (error) {
    exchange.error = error instanceof Error ? error.message : String(error);
    return { status: undefined, headers: {}, text: '', json: undefined, exchange };
  }
}

export function pass(detail: string, ...exchanges: Exchange[]): RuleOutcome {
  return { passed: true, detail, exchanges };
}

export function fail(detail: string, ...exchanges: Exchange[]): RuleOutcome {
  return { passed: false, detail, exchanges };
}

/** Runs every rule in order; a rule that throws fails with the error. */
export async function runRules(rules: readonly Rule[]): Promise<RuleResult[]> {
  const results: RuleResult[] = [];
  for (const rule of rules) {
    let outcome: RuleOutcome;
    try {
      outcome = await rule.run();
    } catch (error) {
      outcome = fail(`the rule could not run: ${error instanceof Error ? error.message : String(error)}`);
    }
    results.push({ id: rule.id, title: rule.title, ...outcome });
  }
  return results;
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const SHOWN_BODY_CHARS = 2000;

/**
 * Hides what must never be printed: the secrets given, bearer tokens, and the
 * token and client secret fields of OAuth2 bodies.
 */
export function mask(text: string, secrets: readonly string[]): string {
  let masked = text;
  for (const secret of secrets) if (secret.length >= 4) masked = masked.split(secret).join('***');
  return masked
    .replace(/(Bearer\s+)[^\s",]+/gi, '$1***')
    .replace(/("access_token"\s*:\s*")[^"]*"/g, '$1***"')
    .replace(/(client_secret=)[^&\s]*/g, '$1***');
}

function shown(text: string): string {
  return text.length > SHOWN_BODY_CHARS ? `${text.slice(0, SHOWN_BODY_CHARS)}… (${text.length} characters)` : text;
}

export function formatExchange(exchange: Exchange, secrets: readonly string[]): string[] {
  const lines = [`    > ${exchange.request}`];
  for (const [name, value] of Object.entries(exchange.requestHeaders ?? {})) lines.push(`    > ${name}: ${value}`);
  if (exchange.requestBody !== undefined) lines.push(`    > ${shown(exchange.requestBody)}`);
  if (exchange.status === undefined) lines.push(`    < no answer: ${exchange.error ?? 'unknown error'}`);
  else {
    lines.push(`    < HTTP ${exchange.status}${exchange.contentType ? ` (${exchange.contentType})` : ''}`);
    lines.push(`    < ${shown(exchange.answer ?? '')}`);
  }
  return lines.map((line) => mask(line, secrets));
}

/** `PASS id — title`, and under a FAIL what came and the exchanges that show it. */
export function formatResults(results: readonly RuleResult[], secrets: readonly string[]): string {
  const lines: string[] = [];
  for (const result of results) {
    lines.push(`${result.passed ? 'PASS' : 'FAIL'} ${result.id} — ${result.title}`);
    if (!result.passed) {
      lines.push(mask(`    ${result.detail}`, secrets));
      for (const exchange of result.exchanges) lines.push(...formatExchange(exchange, secrets));
    }
  }
  const failed = results.filter((result) => !result.passed).length;
  lines.push(`${results.length - failed} passed, ${failed} failed`);
  return lines.join('\n');
}
