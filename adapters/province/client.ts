import type { DeliveryResult } from '../types.ts';
import { isAxiosError, partnerHttpClient, retryAfterMs, type PartnerHttp, type PartnerHttpSettings } from '../http.ts';

export function createHttpClient(settings: PartnerHttpSettings): PartnerHttp {
  return partnerHttpClient(settings, {
    headers: { 'Content-Type': 'application/json; charset=utf-8' },
    // The province answers JSON; anything else is kept as text for the operator.
    transitional: { silentJSONParsing: true, forcedJSONParsing: true },
  });
}

/**
 * The province's answer rules: State 200 is success; HTTP 5xx, a timeout, or
 * State 500/503/429 means try again later; anything else is a permanent refusal.
 */
export function classifyProvinceAnswer(status: number, body: unknown, retryAfter: number | undefined): DeliveryResult {
  const state = typeof body === 'object' && body !== null ? (body as { State?: unknown }).State : undefined;
  if (status >= 500 || status === 429) {
    return { kind: 'retry', status, answer: body, reason: `HTTP ${status}`, ...(retryAfter === undefined ? {} : { retryAfterMs: retryAfter }) };
  }
  if (state === '200') return { kind: 'delivered', status, answer: body };
  if (state === '500' || state === '503' || state === '429') {
    return { kind: 'retry', status, answer: body, reason: `State ${state}`, ...(retryAfter === undefined ? {} : { retryAfterMs: retryAfter }) };
  }
  return { kind: 'refused', status, answer: body, reason: state === undefined ? `HTTP ${status} without State` : `State ${JSON.stringify(state)}` };
}

export async function postJson(client: PartnerHttp, path: string, body: unknown, now: () => number, timeoutMs?: number): Promise<DeliveryResult> {
  try {
    const response = await client.post(path, body, timeoutMs === undefined ? undefined : { timeout: timeoutMs });
    return classifyProvinceAnswer(response.status, response.data, retryAfterMs(response.headers['retry-after'], now()));
  } catch (error) {
    const reason = isAxiosError(error) ? `${error.code ?? 'network error'}: ${error.message}` : String(error);
    return { kind: 'retry', reason };
  }
}
