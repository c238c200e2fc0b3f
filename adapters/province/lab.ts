import { parseCompactBeijing } from '../../kernel/beijing-time.ts';
import type { HmacMethod } from '../../kernel/crypto/digest.ts';
import { canonicalJson } from '../../kernel/crypto/jcs.ts';
import type { LabSignature } from '../types.ts';
import { dataDigest, signingString, verifyToken, type ProvinceInterface } from './signature.ts';

const METHODS: readonly string[] = ['HMAC-SM3', 'HMAC-SHA256'];

export interface ProvinceLabSettings {
  systemNo: string;
  inboundSecret: string;
  clockToleranceSeconds: number;
}

function text(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

/**
 * The message lab's view of a province TOKEN: the canonical `data`, its SM3 and
 * the signing string province.md defines, and whether the TOKEN matches under
 * the secret; never the TOKEN it should have been. The province has one inbound
 * secret (no previous one is configured), so `previous` is listed as absent.
 */
export function provinceLabSignature(settings: ProvinceLabSettings, now: number, operation: string, body: unknown): LabSignature {
  const envelope = (typeof body === 'object' && body !== null ? body : {}) as { validation?: Record<string, unknown>; data?: unknown };
  const validation = typeof envelope.validation === 'object' && envelope.validation !== null ? envelope.validation : {};
  const systemNo = text(validation['SYSTEM_NO']);
  const dataUuid = text(validation['DATAUUID']);
  const time = text(validation['TIME']);
  const token = text(validation['TOKEN']);
  const method = validation['SIGN_METHOD'] ?? 'HMAC-SM3';
  const sender = { known: systemNo === settings.systemNo, value: systemNo };
  const unchecked = (problem: string, signed: LabSignature['signed'] = []): LabSignature => ({
    signed,
    sender,
    secrets: [
      { name: 'current', configured: true, matches: false },
      { name: 'previous', configured: false, matches: false },
    ],
    problem,
  });
  if (!('data' in envelope) || envelope.data === undefined) return unchecked('the envelope has no data');
  const canonical = canonicalJson(envelope.data);
  const digest = dataDigest(envelope.data);
  const input = { systemNo, dataUuid, time, interfaceCode: operation as ProvinceInterface, data: envelope.data };
  const signed = [
    { label: 'canonical JSON of data (RFC 8785)', value: canonical },
    { label: 'SM3 of the canonical JSON', value: digest },
    { label: 'signing string (\\n shown as |)', value: signingString(input, digest).replaceAll('\n', '|') },
    { label: 'SIGN_METHOD', value: typeof method === 'string' ? method : JSON.stringify(method) },
  ];
  const signedAt = /^\d{14}$/.test(time) ? parseCompactBeijing(time) : Number.NaN;
  const clock = Number.isFinite(signedAt) ? { signedAt, distanceSeconds: Math.round((now - signedAt) / 1000), toleranceSeconds: settings.clockToleranceSeconds } : undefined;
  if (typeof method !== 'string' || !METHODS.includes(method)) return { ...unchecked(`unknown SIGN_METHOD`, signed), ...(clock ? { clock } : {}) };
  if (!token) return { ...unchecked('no TOKEN', signed), ...(clock ? { clock } : {}) };
  const matches = verifyToken(method as HmacMethod, settings.inboundSecret, input, token, digest);
  return {
    signed,
    sender,
    secrets: [
      { name: 'current', configured: true, matches },
      { name: 'previous', configured: false, matches: false },
    ],
    ...(clock ? { clock } : {}),
    ...(clock ? {} : { problem: 'TIME is not yyyyMMddHHmmss' }),
  };
}
