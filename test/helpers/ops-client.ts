import axios, { type AxiosResponse } from 'axios';
import type { Job, Worker } from 'bullmq';
import { expect } from 'chai';
import { AccountStore, type OperatorRole } from '../../stores/accounts.ts';
import type { TestGateway } from './gateway.ts';

export const OPS_PASSWORD = 'correct horse battery';

/** A browser-like client of the dashboard API: keeps the session cookie, sends the CSRF token it was given. */
export class OpsClient {
  cookie = '';
  csrf = '';
  readonly #base: string;
  constructor(base: string) {
    this.#base = base;
  }
  async request(method: 'GET' | 'POST' | 'PUT' | 'PATCH', path: string, body?: unknown, headers: Record<string, string> = {}): Promise<AxiosResponse> {
    const response = await axios.request({
      method,
      url: `${this.#base}${path}`,
      data: body,
      headers: { ...(this.cookie ? { Cookie: this.cookie } : {}), ...(this.csrf ? { 'X-CSRF-Token': this.csrf } : {}), ...headers },
      validateStatus: () => true,
      maxRedirects: 0,
    });
    const setCookie = response.headers['set-cookie']?.find((cookie) => cookie.startsWith('zzgw.sid='));
    if (setCookie) this.cookie = setCookie.split(';')[0] ?? '';
    const token = (response.data as { csrfToken?: string } | undefined)?.csrfToken;
    if (token) this.csrf = token;
    return response;
  }
  login(username: string, password: string): Promise<AxiosResponse> {
    return this.request('POST', '/ops/api/login', { username, password });
  }
  get<T>(path: string): Promise<T> {
    return this.request('GET', path).then((response) => {
      expect(response.status, `GET ${path}: ${JSON.stringify(response.data)}`).to.equal(200);
      return response.data as T;
    });
  }
}

/** Creates (or resets) an account with OPS_PASSWORD. */
export async function createAccount(gateway: TestGateway, username: string, role: OperatorRole): Promise<void> {
  await gateway.runtime.redis.del(gateway.runtime.keys.opsAccount(username));
  await new AccountStore(gateway.runtime.redis, gateway.runtime.keys, { attempts: 5, minutes: 15 }).put(username, OPS_PASSWORD, role, Date.now());
}

export async function loggedIn(gateway: TestGateway, username: string, role: OperatorRole): Promise<OpsClient> {
  await createAccount(gateway, username, role);
  const client = new OpsClient(gateway.url);
  const response = await client.login(username, OPS_PASSWORD);
  expect(response.status).to.equal(200);
  return client;
}

/** Resolves with the first job of `worker` that ends (completed or failed) and matches. */
export function nextJob(worker: Worker | undefined, event: 'completed' | 'failed', predicate: (job: Job) => boolean): Promise<Job> {
  if (!worker) throw new Error('no such worker');
  return new Promise((resolve) => {
    const listener = (job: Job | undefined) => {
      if (!job || !predicate(job)) return;
      worker.off(event, listener);
      resolve(job);
    };
    worker.on(event, listener);
  });
}
