import { canonicalJson } from '../../kernel/crypto/jcs.ts';
import { sm3Hex } from '../../kernel/crypto/digest.ts';
import type { InboundHttp, LabSignature } from '../types.ts';
import { KEY_ID_HEADER, parseSignatureHeader, SIGNATURE_HEADER, verifySignature } from './signature.ts';

/**
 * The message lab's view of an `X-YCH-Signature`: the string signed (`t.rawBody`)
 * and whether any `v1` matches under the key id's current and previous secret;
 * never the `v1` it should have been. Canonical JSON and its SM3 are shown for
 * comparison only: Changsha signs the raw bytes.
 */
export function changshaLabSignature(keys: ReadonlyMap<string, readonly string[]>, toleranceSeconds: number, now: number, inbound: InboundHttp, body: unknown): LabSignature {
  const keyIdHeader = inbound.headers[KEY_ID_HEADER];
  const keyId = typeof keyIdHeader === 'string' ? keyIdHeader : '';
  const secrets = keys.get(keyId);
  const sender = { known: secrets !== undefined, value: keyId };
  const raw = inbound.rawBody.toString('utf8');
  const canonical = body === undefined ? [] : [{ label: 'canonical JSON of the body (RFC 8785, not what is signed)', value: canonicalJson(body) }, { label: 'SM3 of the canonical JSON', value: sm3Hex(canonicalJson(body)) }];
  const header = inbound.headers[SIGNATURE_HEADER];
  const parsed = typeof header === 'string' ? parseSignatureHeader(header) : undefined;
  const listed = (match: (secret: string) => boolean): LabSignature['secrets'] => [
    { name: 'current', configured: secrets?.[0] !== undefined, matches: secrets?.[0] !== undefined && match(secrets[0]) },
    { name: 'previous', configured: secrets?.[1] !== undefined, matches: secrets?.[1] !== undefined && match(secrets[1]) },
  ];
  if (!parsed) return { signed: canonical, sender, secrets: listed(() => false), problem: typeof header === 'string' ? 'malformed X-YCH-Signature' : 'no X-YCH-Signature' };
  return {
    signed: [...canonical, { label: 'signed string: t + "." + raw body', value: `${parsed.timestamp}.${raw}` }, { label: 'v1 values given', value: String(parsed.signatures.length) }],
    sender,
    secrets: listed((secret) => verifySignature([secret], parsed, inbound.rawBody)),
    clock: { signedAt: parsed.timestamp * 1000, distanceSeconds: Math.round(now / 1000 - parsed.timestamp), toleranceSeconds },
    ...(secrets ? {} : { problem: 'unknown X-YCH-Key-Id' }),
  };
}
