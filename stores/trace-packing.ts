import { RawDeflate } from '../kernel/deflate.ts';
import type { RedisCommand } from '../kernel/redis/client.ts';

/** first byte of an element holding several entries, deflated; an entry on its own is JSON text and starts with `{` */
const PACKED = 0x01;

/**
 * Deflate's preset dictionary for packed entries: the entries a message's
 * trace usually holds, with their field names and fixed values, most common
 * last (deflate finds the nearest match first). Stored traces need the very
 * bytes they were deflated with: this text is never changed, a new one gets a
 * new first byte.
 */
const DICTIONARY_1 = Buffer.from(
  [
    '{"at":"2026-01-01T00:00:00.000Z","stage":"answer-queued","partner":"province","operation":"notify","messageId":"","reason":"CIRCUIT_OPEN","kind":"failed","error":"timeout"}',
    '{"at":"2026-01-01T00:00:00.000Z","stage":"answer-sent","partner":"changsha","operation":"slot.offered","messageId":"zz_evt_","body":{"eventId":"zz_evt_","eventType":"slot.declined","occurredAt":"2026-01-01T00:00:00+08:00","data":{"requestId":"CSR-","offerId":"ZZO-","roomId":"ZZ-PBS-0","seatNumbers":["ZZ-PBS-0"],"holdExpiresAt":"2026-01-01T00:00:00+08:00","reason":"NO_CAPACITY"}}}',
    '{"at":"2026-01-01T00:00:00.000Z","stage":"canonical","event":{"partner":"changsha","trackingNo":"01","receivedAt":"2026-01-01T00:00:00+08:00","kind":"hold","requestId":"CSR-","booking":{"hostCenter":"430100","hostCenterName":"","tenderProjectCode":"M430100","bidSectionCode":"M430100","sector":"GCJS","projectType":"A01","start":"2026-01-01T08:00:00+08:00","end":"2026-01-01T17:30:00+08:00","seats":1,"projectName":""}}}',
    '{"at":"2026-01-01T00:00:00.000Z","stage":"canonical","event":{"partner":"province","trackingNo":"01","receivedAt":"2026-01-01T00:00:00+08:00","kind":"apply","requestId":"SQ2026","booking":{"hostCenter":"430","hostCenterName":"市公共资源交易中心","tenderProjectCode":"M430","bidSectionCode":"M430","sector":"GCJS","projectType":"A0","start":"2026-01-01T09:00:00+08:00","end":"2026-01-01T17:30:00+08:00","seats":1,"contact":{"name":"*","phone":"****"},"remark":""}}}',
    '{"at":"2026-01-01T00:00:00.000Z","stage":"decision","requestId":"","kind":"apply","outcome":"rejected","reason":"NO_CAPACITY","roomId":"","seatIds":[],"notifyId":"","decidedAt":"2026-01-01T00:00:00.000Z","state":"in-force","trackingNo":"01","offerId":"","repeated":false}',
    '{"at":"2026-01-01T00:00:00.000Z","stage":"answer-sent","partner":"province","operation":"notify","messageId":"","body":{"SERIES_NUMBER":"SQ2026","STATUS":"1","AREA_CODE":"430200","CENTER_NAME":"株洲市公共资源交易中心","EVAL_ROOM_NAME":"ZZ-PBS-0","EVAL_ROOM_ADDR":"株洲市天元区黄河南路市民中心B座3楼30","SEAT_NUMBER":["ZZ-PBS-0"],"REMARK":""}}',
    '{"at":"2026-01-01T00:00:00.000Z","stage":"delivery-attempt","attempt":1,"direct":true,"messageId":"","kind":"delivered","status":200,"answer":{"State":"200","Success":true,"Msg":"成功","Data":{}}}',
  ].join(''),
  'utf8',
);

/** one zlib state each way for the process's life, not one a call (kernel/deflate.ts) */
const TRACES_1 = new RawDeflate(DICTIONARY_1);

/**
 * The commands to send for `commands`: the entries a write appends to one
 * trace (RPUSH of JSON text to a key under `tracePrefix`), when there are
 * several, become one element, deflated together, in place of the first; the
 * rest is unchanged. A deciding job's four entries of about 1.6 KB take about
 * a third as one (bench/README.md, issue 16); one deflate a write, not one an entry.
 */
export function packTraceWrites(commands: readonly RedisCommand[], tracePrefix: string): RedisCommand[] {
  const entriesByKey = new Map<string, string[]>();
  for (const [name, key, entry, ...rest] of commands) {
    if (name !== 'rpush' || typeof key !== 'string' || !key.startsWith(tracePrefix) || typeof entry !== 'string' || rest.length > 0) continue;
    const entries = entriesByKey.get(key) ?? [];
    entries.push(entry);
    entriesByKey.set(key, entries);
  }
  const packed: RedisCommand[] = [];
  const written = new Set<string>();
  for (const command of commands) {
    const key = command[1];
    const entries = command[0] === 'rpush' && typeof key === 'string' ? entriesByKey.get(key) : undefined;
    if (typeof key !== 'string' || entries === undefined || entries.length < 2) packed.push(command);
    else if (!written.has(key)) {
      written.add(key);
      packed.push(['rpush', key, Buffer.concat([Buffer.of(PACKED), TRACES_1.deflate(`[${entries.join(',')}]`)])]);
    }
  }
  return packed;
}

/** The entries one element of a trace holds, parsed: itself, or those packed in it. Throws when it cannot be read. */
export function unpackTraceElement(element: Buffer): unknown[] {
  if (element[0] !== PACKED) return [JSON.parse(element.toString('utf8'))];
  const entries = JSON.parse(TRACES_1.inflate(element.subarray(1)).toString('utf8')) as unknown;
  if (!Array.isArray(entries)) throw new Error('not a packed trace element');
  return entries;
}
