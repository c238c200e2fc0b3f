import axios, { type AxiosInstance, type AxiosProxyConfig, type CreateAxiosDefaults } from 'axios';

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

/** The HTTP client of one partner: its base URL, timeout and proxy, no redirects. */
export function partnerHttpClient(settings: PartnerHttpSettings, defaults: CreateAxiosDefaults = {}): AxiosInstance {
  return axios.create({
    ...defaults,
    baseURL: settings.baseUrl,
    timeout: settings.delivery.timeoutMs,
    proxy: proxyFromUrl(settings.delivery.proxyUrl),
    // Delivery URLs come from config only: a redirect could send partner data elsewhere.
    maxRedirects: 0,
    // every status is classified by the adapter, not thrown
    validateStatus: () => true,
  });
}
