import { canonicalJson } from '../../kernel/crypto/jcs.ts';
import { hexEquals, hmacHex, sm3Hex, type HmacMethod } from '../../kernel/crypto/digest.ts';

/** The province's interface codes, the fourth line of the signing string. */
export type ProvinceInterface =
  | 'apply'
  | 'change'
  | 'cancel'
  | 'query'
  | 'notify'
  | 'exception'
  | 'schedule'
  | 'seat-check'
  | 'host-apply'
  | 'host-change'
  | 'host-cancel'
  | 'eval-status'
  | 'host-result'
  | 'host-outcome';

export interface SigningInput {
  systemNo: string;
  dataUuid: string;
  time: string;
  interfaceCode: ProvinceInterface;
  data: unknown;
}

/** Lowercase hex SM3 of the RFC 8785 canonical form of `data`. */
export function dataDigest(data: unknown): string {
  return sm3Hex(canonicalJson(data));
}

export function signingString(input: SigningInput, digest = dataDigest(input.data)): string {
  return [input.systemNo, input.dataUuid, input.time, input.interfaceCode, digest].join('\n');
}

export function signToken(method: HmacMethod, secret: string, input: SigningInput, digest?: string): string {
  return hmacHex(method, secret, signingString(input, digest));
}

export function verifyToken(method: HmacMethod, secret: string, input: SigningInput, token: string, digest?: string): boolean {
  return hexEquals(signToken(method, secret, input, digest), token);
}

export interface Envelope<T> {
  validation: { DATAUUID: string; SYSTEM_NO: string; TIME: string; SIGN_METHOD: HmacMethod; TOKEN: string };
  data: T;
}

/** A signed province envelope, as either side sends it. */
export function buildEnvelope<T>(
  options: { secret: string; method: HmacMethod; systemNo: string; dataUuid: string; time: string; interfaceCode: ProvinceInterface },
  data: T,
): Envelope<T> {
  const { secret, method, systemNo, dataUuid, time, interfaceCode } = options;
  const token = signToken(method, secret, { systemNo, dataUuid, time, interfaceCode, data });
  return { validation: { DATAUUID: dataUuid, SYSTEM_NO: systemNo, TIME: time, SIGN_METHOD: method, TOKEN: token }, data };
}
