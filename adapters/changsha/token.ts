import type { PartnerHttp } from '../http.ts';
import { validatorFor } from '../../schemas/registry.ts';
import type { ChangshaToken } from '../../schemas/types.generated.ts';

const validateToken = validatorFor<ChangshaToken>('partners/changsha/token.json');

export class TokenUnavailableError extends Error {
  override name = 'TokenUnavailableError';
}

/**
 * OAuth2 client-credentials token, shared by every worker of the process: one
 * request at a time fetches it, it is reused until `margin` before it expires,
 * and a 401 elsewhere invalidates exactly the token that was refused.
 */
export class TokenSource {
  readonly #http: PartnerHttp;
  readonly #credentials: { clientId: string; clientSecret: string };
  readonly #marginMs: number;
  readonly #now: () => number;
  #current: { token: string; renewAt: number } | undefined;
  #inflight: Promise<string> | undefined;
  /** tokens fetched by this process, for tests and metrics */
  fetched = 0;

  constructor(http: PartnerHttp, credentials: { clientId: string; clientSecret: string }, marginSeconds: number, now: () => number) {
    this.#http = http;
    this.#credentials = credentials;
    this.#marginMs = marginSeconds * 1000;
    this.#now = now;
  }

  async get(): Promise<string> {
    if (this.#current && this.#now() < this.#current.renewAt) return this.#current.token;
    this.#inflight ??= this.#fetch().finally(() => {
      this.#inflight = undefined;
    });
    return this.#inflight;
  }

  /** Forgets `token` if it is still the current one (another worker may have renewed it already). */
  invalidate(token: string): void {
    if (this.#current?.token === token) this.#current = undefined;
  }

  async #fetch(): Promise<string> {
    const form = new URLSearchParams({ grant_type: 'client_credentials', client_id: this.#credentials.clientId, client_secret: this.#credentials.clientSecret });
    let response;
    try {
      response = await this.#http.post('/oauth/token', form.toString(), { headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });
    } catch (error) {
      throw new TokenUnavailableError(`token endpoint unreachable: ${(error as Error).message}`);
    }
    if (response.status !== 200) throw new TokenUnavailableError(`token endpoint answered HTTP ${response.status}`);
    const checked = validateToken(response.data);
    if (!checked.ok) throw new TokenUnavailableError('token endpoint answered an unexpected body');
    this.fetched++;
    const lifetimeMs = checked.value.expires_in * 1000;
    this.#current = { token: checked.value.access_token, renewAt: this.#now() + Math.max(lifetimeMs / 2, lifetimeMs - this.#marginMs) };
    return checked.value.access_token;
  }
}
