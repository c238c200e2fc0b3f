import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/** HMAC algorithms the partners use, by their wire names. */
export type HmacMethod = 'HMAC-SM3' | 'HMAC-SHA256';

const NODE_ALGORITHM: Record<HmacMethod, string> = {
  'HMAC-SM3': 'sm3',
  'HMAC-SHA256': 'sha256',
};

/** SM3 (GB/T 32905-2016) from Node's OpenSSL, as lowercase hex. */
export function sm3Hex(input: string | Buffer): string {
  return createHash('sm3').update(input).digest('hex');
}

export function hmacHex(method: HmacMethod, secret: string, message: string): string {
  return createHmac(NODE_ALGORITHM[method], secret).update(message, 'utf8').digest('hex');
}

/** Compares two hex strings in constant time for equal lengths; unequal lengths are simply unequal. */
export function hexEquals(expected: string, actual: string): boolean {
  const a = Buffer.from(expected, 'utf8');
  const b = Buffer.from(actual, 'utf8');
  if (a.length !== b.length) return false;
  return timingSafeEqual(a, b);
}
