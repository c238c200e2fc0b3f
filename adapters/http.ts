import type { AxiosInstance, AxiosProxyConfig, AxiosRequestConfig, AxiosResponse, CreateAxiosDefaults } from 'axios';

/** Parses Retry-After (seconds or HTTP date) into milliseconds. */
export function retryAfterMs(header: unknown, now: number): number | undefined {
  if (typeof header !== 'string' || header.trim() === '') return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

export interface PartnerHttpSettings {
  baseUrl: string;
  delivery: { timeoutMs: number; proxyUrl?: string };
}

/**
 * The proxy named in config, or none. Never `undefined`: axios would then read
 * HTTP_PROXY / NO_PROXY from the environment on every call, and where partner
 * data goes must be decided by the gateway's config alone.
 */
export function proxyFromUrl(proxyUrl: string | undefined): AxiosProxyConfig | false {
  if (proxyUrl === undefined) return false;
  const url = new URL(proxyUrl);
  const https = url.protocol === 'https:';
  return {
    protocol: https ? 'https' : 'http',
    host: url.hostname,
    port: url.port === '' ? (https ? 443 : 80) : Number(url.port),
    ...(url.username === '' ? {} : { auth: { username: decodeURIComponent(url.username), password: decodeURIComponent(url.password) } }),
  };
}

/** What an adapter (and the conformance run, scripts/lib/conformance) asks of a partner's HTTP client: axios's calls. */
export interface PartnerHttp {
  readonly baseURL: string;
  request(config: AxiosRequestConfig): Promise<AxiosResponse<unknown>>;
  get(url: string, config?: AxiosRequestConfig): Promise<AxiosResponse<unknown>>;
  post(url: string, data?: unknown, config?: AxiosRequestConfig): Promise<AxiosResponse<unknown>>;
}

/**
 * The HTTP client of one partner: its base URL, timeout and proxy, no redirects.
 * axios itself (with form-data, mime-db and follow-redirects, about 3.6 MB of heap)
 * loads with the process's first call to a partner, so an api process, which calls
 * none, never holds it (bench/README.md, issue 16, fifth round).
 */
export function partnerHttpClient(settings: PartnerHttpSettings, defaults: CreateAxiosDefaults = {}): PartnerHttp {
  // read now, so that a proxy URL that does not parse stops the process at start, not each call
  const proxy = proxyFromUrl(settings.delivery.proxyUrl);
  let instance: Promise<AxiosInstance> | undefined;
  const client = (): Promise<AxiosInstance> => {
    instance ??= import('axios').then(({ default: axios }) =>
      axios.create({
        ...defaults,
        baseURL: settings.baseUrl,
        timeout: settings.delivery.timeoutMs,
        proxy,
        // Delivery URLs come from config only: a redirect could send partner data elsewhere.
        maxRedirects: 0,
        // every status is classified by the adapter, not thrown
        validateStatus: () => true,
      }),
    );
    return instance;
  };
  return {
    baseURL: settings.baseUrl,
    request: async (config) => (await client()).request(config),
    get: async (url, config) => (await client()).get(url, config),
    post: async (url, data, config) => (await client()).post(url, data, config),
  };
}

/** axios's own test (`axios.isAxiosError`), without loading axios to make it. */
export function isAxiosError(error: unknown): error is Error & { code?: string } {
  return typeof error === 'object' && error !== null && (error as { isAxiosError?: unknown }).isAxiosError === true;
}
