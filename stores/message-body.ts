import { FieldCipher } from '../kernel/crypto/field-cipher.ts';
import { RawDeflate } from '../kernel/deflate.ts';

/**
 * Deflate's preset dictionary for bodies: the partners' field names and fixed
 * values as their messages spell them (docs/openapi/*-to-gateway.json), most
 * common last (deflate finds the nearest match first). A body of a few hundred
 * bytes has too little of its own to repeat; with these it deflates to about a
 * third instead of two thirds. Stored bodies need the very bytes they were
 * deflated with: this text is never changed, a new one gets a new format byte.
 */
const DICTIONARY_1 = Buffer.from(
  [
    '"ORIGINAL_SERIES_NUMBER":"SQ","EVAL_STATUS":"","STATUS_TIME":"","OUTCOME":"","reason":"NO_CAPACITY","status":"ended","offerId":"","roomId":"","seatNumbers":[],"holdExpiresAt":"',
    '"eventType":"slot.confirmed","eventType":"slot.released","eventType":"session.status","eventType":"availability.published","category":"building","category":"procurement","category":"road","category":"water",',
    '{"eventId":"evt_","eventType":"slot.requested","occurredAt":"2026-01-01T00:00:00+08:00","data":{"requestId":"CSR-","projectCode":"M430100","sectionCode":"M430100","projectName":"工程采购项目","category":"municipal","start":"2026-01-01T09:00:00+08:00","end":"2026-01-01T17:30:00+08:00","seats":1,"hostCenter":"430100"}}',
    '{"validation":{"DATAUUID":"","SYSTEM_NO":"HNSDD","TIME":"2026","SIGN_METHOD":"HMAC-SM3","TOKEN":""},"data":{"SERIES_NUMBER":"SQ2026","AREA_CODE":"430","CENTER_NAME":"市公共资源交易中心","TENDER_PROJECT_CODE":"M430","BID_SECTION_CODE":"M430","TRADE_TYPE":"GCJS","TENDER_PROJECT_TYPE":"A0","BID_EVAL_START_TIME":"2026","BID_EVAL_END_TIME":"2026","SUB_AREA_CODE":"430200","SEAT_COUNT":1,"TENDER_AGENT_CONTRACT":"","TENDER_AGENT_PHONE":"","REMARK":""}}',
  ].join(''),
  'utf8',
);

/** one zlib state each way for the process's life, not one a call (kernel/deflate.ts) */
const BODIES_1 = new RawDeflate(DICTIONARY_1);

/** A body as received, at rest: deflated with DICTIONARY_1, then sealed (FieldCipher.sealBytes), kept as bytes. */
export function sealBody(cipher: FieldCipher, rawBody: string): Buffer {
  return cipher.sealBytes(BODIES_1.deflate(rawBody));
}

/**
 * The body's text from what the record holds: sealed bytes (sealBody), or a
 * `v1.` text as records written before it hold them. Inflated only once
 * AES-GCM has vouched for the bytes, so nothing but a body the gateway
 * deflated itself is ever inflated.
 */
export function openBody(cipher: FieldCipher, stored: Buffer): string {
  if (!FieldCipher.isSealedBytes(stored)) return cipher.decrypt(stored.toString('utf8'));
  return BODIES_1.inflate(cipher.openBytes(stored)).toString('utf8');
}
