import { hexEquals, hmacHex } from '../../kernel/crypto/digest.ts';

/** `X-YCH-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>]` as changsha.md gives it. */
export interface ParsedSignature {
  timestamp: number;
  signatures: string[];
}

export const KEY_ID_HEADER = 'x-ych-key-id';
export const SIGNATURE_HEADER = 'x-ych-signature';

export function parseSignatureHeader(header: string): ParsedSignature | undefined {
  let timestamp: number | undefined;
  const signatures: string[] = [];
  for (const part of header.split(',')) {
    const [name, value, ...rest] = part.trim().split('=');
    if (rest.length > 0 || value === undefined) return undefined;
    if (name === 't' && /^\d{1,12}$/.test(value) && timestamp === undefined) timestamp = Number(value);
    else if (name === 'v1' && /^[0-9a-f]{64}$/.test(value)) signatures.push(value);
    else return undefined;
  }
  if (timestamp === undefined || signatures.length === 0) return undefined;
  return { timestamp, signatures };
}

/** Lowercase hex HMAC-SHA256 over `t + "." + rawBody`. */
export function signBody(secret: string, timestamp: number, rawBody: string | Buffer): string {
  return hmacHex('HMAC-SHA256', secret, `${timestamp}.${Buffer.isBuffer(rawBody) ? rawBody.toString('utf8') : rawBody}`);
}

export function signatureHeaders(keyId: string, secret: string, timestamp: number, rawBody: string): Record<string, string> {
  return { 'X-YCH-Key-Id': keyId, 'X-YCH-Signature': `t=${timestamp},v1=${signBody(secret, timestamp, rawBody)}` };
}

/** One matching `v1` under any of the key's secrets (current and previous) is enough. */
export function verifySignature(secrets: readonly string[], signature: ParsedSignature, rawBody: Buffer): boolean {
  let matched = false;
  for (const secret of secrets) {
    const expected = signBody(secret, signature.timestamp, rawBody);
    // every comparison runs, so timing does not tell which secret or v1 matched
    for (const candidate of signature.signatures) matched = hexEquals(expected, candidate) || matched;
  }
  return matched;
}
