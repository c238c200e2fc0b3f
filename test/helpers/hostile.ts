import { expect } from 'chai';
import fc from 'fast-check';
import { fork, type ChildProcess } from 'node:child_process';
import { Agent, request, type IncomingHttpHeaders } from 'node:http';
import { join } from 'node:path';
import type { PartnerId } from '../../adapters/types.ts';
import { signBody } from '../../adapters/changsha/signature.ts';
import { buildEnvelope, signToken, type ProvinceInterface } from '../../adapters/province/signature.ts';
import { formatCompactBeijing } from '../../kernel/beijing-time.ts';
import type { Runtime } from '../../usecases/runtime.ts';
import { validatorFor } from '../../schemas/registry.ts';
import { at } from './dates.ts';
import { CHANGSHA, INBOUND_SECRET } from './gateway.ts';

/* ------------------------------------------------------------------------ */
/* raw HTTP                                                                  */
/* ------------------------------------------------------------------------ */

export interface RawAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  /** the connection was closed before an answer (Node does so after a 431) */
  reset: boolean;
}

const agent = new Agent({ keepAlive: true, maxSockets: 16 });

/** Closes the keep-alive sockets this module opened (call once, after the suite). */
export function closeHostileAgent(): void {
  agent.destroy();
}

/**
 * POSTs exactly `body` (bytes as given: invalid UTF-8 and duplicate keys reach
 * the server as written). A header given as undefined is not sent; an array
 * sends the header several times. Content-Length is set unless given.
 */
export function postRaw(baseUrl: string, path: string, body: Buffer | string, headers: Record<string, string | string[] | undefined> = {}): Promise<RawAnswer> {
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  const sent: Record<string, string | string[]> = { 'Content-Length': String(bytes.length) };
  for (const [name, value] of Object.entries(headers)) {
    for (const key of Object.keys(sent)) if (key.toLowerCase() === name.toLowerCase()) delete sent[key];
    if (value !== undefined) sent[name] = value;
  }
  return new Promise((resolve, reject) => {
    const req = request(`${baseUrl}${path}`, { method: 'POST', headers: sent, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8'), reset: false }));
    });
    req.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ECONNRESET' || error.code === 'EPIPE') resolve({ status: 0, headers: {}, text: '', reset: true });
      else reject(error);
    });
    req.end(bytes);
  });
}

export const JSON_TYPE = 'application/json; charset=utf-8';

/* ------------------------------------------------------------------------ */
/* answers                                                                   */
/* ------------------------------------------------------------------------ */

/** Text that only a leaked stack trace or source path would put in an answer. */
const STACK_TRACE = /\n\s+at\s|\bat\s+(?:async\s+)?[\w$.<>[\]]+\s+\((?:file:|node:|\/)|\bat\s+(?:file:|node:)|\.ts:\d+|node_modules|node:internal/;

/** An answer to a request with many small violations may not be bigger than this (no amplification). */
export const MAX_ANSWER_BYTES = 64 * 1024;

export interface ProvinceAnswerBody {
  State: string;
  Success: boolean;
  Msg: string;
  Data: Record<string, unknown> & { TRACKING_NO?: string; errors?: { path: string; message: string }[] };
}

export interface ChangshaAnswerBody {
  accepted?: boolean;
  trackingId?: string;
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
  errors?: { path: string; message: string }[];
}

/**
 * The answer is under 500, in the partner's format, without a stack trace,
 * and (when `maxBytes` is given) not bigger than that. Returns the tracking
 * number when the message was accepted.
 */
export function expectPartnerAnswer(partner: PartnerId, answer: RawAnswer, requestBytes: number, context = '', maxBytes?: number): string | undefined {
  const where = `${partner} ${context} -> ${answer.status} ${answer.text.slice(0, 300)}`;
  if (answer.reset) return undefined;
  expect(answer.status, where).to.be.within(200, 499);
  expect(STACK_TRACE.test(answer.text), `stack trace in ${where}`).to.equal(false);
  if (maxBytes !== undefined) expect(Buffer.byteLength(answer.text), `answer of ${Buffer.byteLength(answer.text)} bytes to ${requestBytes} bytes: ${where}`).to.be.at.most(maxBytes);
  // Node itself answers an oversized header block, before any route
  if (answer.status === 431) return undefined;
  const type = String(answer.headers['content-type'] ?? '');
  let body: unknown;
  try {
    body = JSON.parse(answer.text);
  } catch {
    expect.fail(`answer is not JSON: ${where}`);
  }
  if (partner === 'province') {
    expect(type, where).to.match(/^application\/json\b/);
    const province = body as ProvinceAnswerBody;
    expect(province.State, where).to.equal(String(answer.status));
    expect(province.Success, where).to.equal(answer.status === 200);
    expect(province.Msg, where).to.be.a('string').and.not.equal('');
    expect(province.Data, where).to.be.an('object');
    if (answer.status === 200) {
      expect(province.Data.TRACKING_NO, where).to.match(/^[0-9A-Z]{26}$/);
      return province.Data.TRACKING_NO;
    }
    return undefined;
  }
  const changsha = body as ChangshaAnswerBody;
  if (answer.status === 202) {
    expect(changsha.accepted, where).to.equal(true);
    expect(changsha.trackingId, where).to.match(/^[0-9A-Z]{26}$/);
    return changsha.trackingId;
  }
  expect(type, where).to.match(/^application\/problem\+json\b/);
  expect(changsha.title, where).to.be.a('string').and.not.equal('');
  expect(changsha.status, where).to.equal(answer.status);
  return undefined;
}

/* ------------------------------------------------------------------------ */
/* what the gateway recorded                                                 */
/* ------------------------------------------------------------------------ */

export interface IntakeSnapshot {
  /** every intake key of the partner (records, idempotency keys, time index), traces, index keys and their members */
  keys: string[];
  records: string[];
  queued: number;
}

/** What intake has written so far for a partner (the rate limiter's own key aside). */
export async function intakeSnapshot(runtime: Runtime, partner: PartnerId): Promise<IntakeSnapshot> {
  const ns = runtime.config.redis.namespace;
  const base = `${ns}:{in:${partner}}`;
  const [intake, traces, index, queued] = await Promise.all([
    runtime.redis.keys(`${base}:*`),
    runtime.redis.keys(`${ns}:trace:*`),
    runtime.redis.keys(`${ns}:{ix}:*`),
    runtime.inboundQueue.count(),
  ]);
  // the search index is one sorted set a kind: what a message adds is a member, not a key
  const members = await Promise.all(index.map(async (key) => ((await runtime.redis.type(key)) === 'zset' ? (await runtime.redis.zrange(key, '0', '-1')).map((member) => `${key} ${member}`) : [])));
  const keys = [...intake.filter((key) => !key.startsWith(`${base}:rate`)), ...traces, ...index, ...members.flat()].sort();
  return { keys, records: intake.filter((key) => key.startsWith(`${base}:msg:`)).sort(), queued };
}

/** Nothing at all was written for a rejected message. */
export function expectNothingRecorded(before: IntakeSnapshot, after: IntakeSnapshot, context = ''): void {
  expect(after.keys, `keys written for rejected input ${context}`).to.deep.equal(before.keys);
  expect(after.queued, `job queued for rejected input ${context}`).to.equal(before.queued);
}

const canonicalValidators = {
  booking: validatorFor<unknown>('canonical/booking-request.json'),
  host: validatorFor<unknown>('canonical/host-event.json'),
  availability: validatorFor<unknown>('canonical/availability.json'),
};

/**
 * What a worker does first with a recorded message (usecases/decisions.ts
 * loadCanonical): decrypt, JSON.parse, decode, check against the canonical
 * schema. A message acknowledged to a partner must get through this, or it is
 * acknowledged and then never processed.
 */
export async function expectProcessable(runtime: Runtime, partner: PartnerId, trackingNo: string, context = ''): Promise<unknown> {
  const record = await runtime.redis.hgetall(runtime.keys.intake(partner).record(trackingNo));
  const text = await runtime.messages.rawBody(partner, trackingNo);
  expect(text, `record of ${trackingNo} ${context}`).to.be.a('string');
  let body: unknown;
  try {
    body = JSON.parse(text ?? '');
  } catch (error) {
    expect.fail(`accepted ${partner} message ${trackingNo} is recorded as text a worker cannot parse (${(error as Error).message}) ${context}`);
  }
  const event = runtime.adapters[partner].decode(record['operation'] ?? '', body, { trackingNo, receivedAt: Number(record['receivedAt']) });
  const kind = event.kind === 'offered' || event.kind === 'declined' ? 'host' : event.kind === 'availability' ? 'availability' : 'booking';
  const checked = canonicalValidators[kind](event);
  expect(checked.ok ? [] : checked.violations, `accepted ${partner} message ${trackingNo} decodes to an invalid canonical event ${context}: ${JSON.stringify(event).slice(0, 400)}`).to.deep.equal([]);
  return body;
}

/* ------------------------------------------------------------------------ */
/* prototype pollution                                                       */
/* ------------------------------------------------------------------------ */

const PROTOTYPES = { Object: Object.prototype, Array: Array.prototype, Function: Function.prototype, String: String.prototype } as const;

export type PrototypeBaseline = Record<keyof typeof PROTOTYPES, string[]>;

export function prototypeBaseline(): PrototypeBaseline {
  return Object.fromEntries(Object.entries(PROTOTYPES).map(([name, proto]) => [name, Reflect.ownKeys(proto).map(String).sort()])) as PrototypeBaseline;
}

export function expectNoPollution(baseline: PrototypeBaseline, context = ''): void {
  const probe = {} as Record<string, unknown>;
  for (const name of ['polluted', 'isAdmin', 'admin', 'hacked']) expect(probe[name], `({}).${name} ${context}`).to.equal(undefined);
  expect(prototypeBaseline(), `prototypes changed ${context}`).to.deep.equal(baseline);
}

/* ------------------------------------------------------------------------ */
/* valid partner messages                                                    */
/* ------------------------------------------------------------------------ */

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

const HOST_AREAS = ['430100', '430300', '430400', '430500', '430600', '430700', '430800', '430900', '431000', '431100', '431200', '431300', '433100'];
const PROJECT_TYPES = ['A01', 'A02', 'A03', 'A04', 'A05', 'A06', 'A07', 'A08', 'A09', 'A10', 'A11', 'A12', 'A13', 'A14', 'A97', 'A98', 'A99'];
const NAMES = ['李明', '王芳', '欧阳娜娜', 'Zhang Wei', '张', 'Ōno Tarō', '😀测试'];

const hour = (n: number) => `${String(n).padStart(2, '0')}:00`;
const digits = (n: number) => fc.stringMatching(new RegExp(`^[0-9]{${n}}$`));
const upperAlnum = (n: number) => fc.stringMatching(new RegExp(`^[A-Z0-9]{${n}}$`));

/** A window of whole hours inside 08:00-18:00 of `day` (yyyyMMdd): start and end hours. */
const window = fc.integer({ min: 8, max: 16 }).chain((start) => fc.tuple(fc.constant(start), fc.integer({ min: start + 1, max: 17 })));

/** `data` of a valid province apply for `day` (yyyyMMdd, open and ahead). */
export function provinceApplyData(day: string, prefix: 'SQ' | 'BG' = 'SQ'): fc.Arbitrary<JsonObject> {
  return fc
    .record({
      serial: digits(20),
      area: fc.constantFrom(...HOST_AREAS),
      centerName: fc.oneof(fc.constant('长沙市公共资源交易中心'), fc.string({ minLength: 1, maxLength: 40, unit: 'binary' })),
      project: upperAlnum(20),
      sectionSuffix: upperAlnum(3),
      gcjs: fc.boolean(),
      projectType: fc.constantFrom(...PROJECT_TYPES),
      window,
      seats: fc.integer({ min: 1, max: 15 }),
      contact: fc.oneof(fc.constantFrom(...NAMES), fc.string({ minLength: 1, maxLength: 12, unit: 'binary' })),
      phone: fc.stringMatching(/^[0-9-]{7,20}$/),
      remark: fc.option(fc.string({ maxLength: 60, unit: 'binary' }), { nil: undefined }),
    })
    .map((r) => {
      const data: JsonObject = {
        SERIES_NUMBER: `${prefix}${r.serial}`,
        AREA_CODE: r.area,
        CENTER_NAME: r.centerName,
        TENDER_PROJECT_CODE: r.project,
        BID_SECTION_CODE: r.project + r.sectionSuffix,
        TRADE_TYPE: r.gcjs ? 'GCJS' : 'ZFCG',
        BID_EVAL_START_TIME: at(day, hour(r.window[0])),
        BID_EVAL_END_TIME: at(day, hour(r.window[1])),
        SUB_AREA_CODE: '430200',
        SEAT_COUNT: r.seats,
        TENDER_AGENT_CONTRACT: r.contact,
        TENDER_AGENT_PHONE: r.phone,
      };
      if (r.gcjs) data['TENDER_PROJECT_TYPE'] = r.projectType;
      if (prefix === 'BG') data['REMARK'] = r.remark || '评标时间调整';
      else if (r.remark !== undefined) data['REMARK'] = r.remark;
      return data;
    });
}

export interface ProvinceMessage {
  operation: Extract<ProvinceInterface, 'apply' | 'change' | 'cancel' | 'query'>;
  data: JsonObject;
}

/** A valid province message of any of the four interfaces (a query may name nothing known: 404). */
export function provinceMessage(day: string): fc.Arbitrary<ProvinceMessage> {
  return fc.oneof(
    provinceApplyData(day).map((data): ProvinceMessage => ({ operation: 'apply', data })),
    fc
      .tuple(provinceApplyData(day, 'BG'), fc.constantFrom('SQ', 'BG'), digits(20))
      .map(([data, kind, serial]): ProvinceMessage => ({ operation: 'change', data: { ...data, ORIGINAL_SERIES_NUMBER: `${kind}${serial}` } })),
    fc
      .tuple(digits(20), fc.constantFrom('SQ', 'BG'), digits(20), fc.string({ minLength: 1, maxLength: 80, unit: 'binary' }))
      .map(([serial, kind, original, reason]): ProvinceMessage => ({
        operation: 'cancel',
        data: { SERIES_NUMBER: `QX${serial}`, ORIGINAL_SERIES_NUMBER: `${kind}${original}`, REMARK: reason },
      })),
    fc.tuple(fc.constantFrom('SQ', 'BG', 'QX'), digits(20)).map(([kind, serial]): ProvinceMessage => ({ operation: 'query', data: { SERIES_NUMBER: `${kind}${serial}` } })),
  );
}

export interface ProvinceSigning {
  secret?: string;
  systemNo?: string;
  time?: string;
  dataUuid?: string;
  method?: 'HMAC-SM3' | 'HMAC-SHA256';
  interfaceCode?: ProvinceInterface;
}

/** The signed envelope of a province message, as a plain JSON object. */
export function provinceEnvelope(message: ProvinceMessage, now: number, signing: ProvinceSigning = {}): JsonObject {
  const envelope = buildEnvelope(
    {
      secret: signing.secret ?? INBOUND_SECRET,
      method: signing.method ?? 'HMAC-SM3',
      systemNo: signing.systemNo ?? 'HNSDD',
      dataUuid: signing.dataUuid ?? randomHex32(),
      time: signing.time ?? formatCompactBeijing(now),
      interfaceCode: signing.interfaceCode ?? message.operation,
    },
    message.data,
  );
  return envelope as unknown as JsonObject;
}

/**
 * Signs `data` again into the envelope's `validation`, when the validation
 * fields still allow it; the TOKEN is left alone otherwise.
 */
export function resignProvince(parsed: unknown, operation: ProvinceInterface, secret = INBOUND_SECRET): string | undefined {
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
  const { validation, data } = parsed as { validation?: unknown; data?: unknown };
  if (typeof validation !== 'object' || validation === null) return undefined;
  const v = validation as Record<string, unknown>;
  const method = v['SIGN_METHOD'] === 'HMAC-SHA256' ? 'HMAC-SHA256' : 'HMAC-SM3';
  try {
    return signToken(method, secret, { systemNo: String(v['SYSTEM_NO']), dataUuid: String(v['DATAUUID']), time: String(v['TIME']), interfaceCode: operation, data });
  } catch {
    return undefined;
  }
}

let uuidCounter = 0;
/** 32 lowercase hex, unique within the process. */
export function randomHex32(): string {
  uuidCounter += 1;
  return (Date.now().toString(16) + uuidCounter.toString(16).padStart(8, '0') + Math.random().toString(16).slice(2)).padEnd(32, '0').slice(0, 32);
}

/** ISO 8601 with +08:00 of an hour of `day` (yyyyMMdd). */
export function isoOf(day: string, h: number, minute = 0): string {
  return `${day.slice(0, 4)}-${day.slice(4, 6)}-${day.slice(6, 8)}T${String(h).padStart(2, '0')}:${String(minute).padStart(2, '0')}:00+08:00`;
}

const changshaId = (min: number) => fc.stringMatching(new RegExp(`^[A-Za-z0-9_-]{${min},64}$`));

/** A valid Changsha event of any type, for `day` (yyyyMMdd, open and ahead). */
export function changshaEvent(day: string, now: () => number): fc.Arbitrary<JsonObject> {
  const requestId = changshaId(6);
  const data = fc.oneof(
    fc
      .record({
        requestId,
        project: upperAlnum(20),
        suffix: upperAlnum(3),
        projectName: fc.oneof(fc.constant('长沙市智慧教育装备采购项目'), fc.string({ minLength: 1, maxLength: 80, unit: 'binary' })),
        category: fc.constantFrom('building', 'municipal', 'road', 'water', 'agent-build', 'procurement', 'other'),
        window,
        seats: fc.integer({ min: 1, max: 15 }),
      })
      .map((r) => ({
        eventType: 'slot.requested',
        data: {
          requestId: r.requestId,
          projectCode: r.project,
          sectionCode: r.project + r.suffix,
          projectName: r.projectName,
          category: r.category,
          start: isoOf(day, r.window[0]),
          end: isoOf(day, r.window[1]),
          seats: r.seats,
          hostCenter: '430100',
        },
      })),
    fc.record({ requestId, offerId: changshaId(1) }).map((d) => ({ eventType: 'slot.confirmed', data: d })),
    fc.record({ requestId, reason: fc.constantFrom('PROJECT_POSTPONED', 'PROJECT_CANCELLED', 'HOLD_EXPIRED', 'OTHER') }).map((d) => ({ eventType: 'slot.released', data: d })),
    fc.record({ requestId, reason: fc.constantFrom('NO_CAPACITY', 'INVALID_WINDOW', 'CENTER_CLOSED') }).map((d) => ({ eventType: 'slot.declined', data: d })),
    fc
      .record({ requestId, offerId: changshaId(1), roomId: changshaId(1), seats: fc.uniqueArray(fc.string({ minLength: 1, maxLength: 20 }), { minLength: 1, maxLength: 15 }) })
      .map((r) => ({
        eventType: 'slot.offered',
        data: { requestId: r.requestId, offerId: r.offerId, roomId: r.roomId, seatNumbers: r.seats, holdExpiresAt: isoOf(day, 7) },
      })),
    fc
      .array(fc.record({ roomId: changshaId(1), seats: fc.integer({ min: 1, max: 999 }), free: fc.array(window.map(([s, e]) => ({ start: isoOf(day, s), end: isoOf(day, e) })), { maxLength: 3 }) }), { maxLength: 4 })
      .map((rooms) => ({ eventType: 'availability.published', data: { center: '430100', from: isoOf(day, 0), to: isoOf(day, 23), rooms } })),
  );
  return fc.tuple(changshaId(8), data).map(([eventId, { eventType, data: payload }]) => ({
    eventId,
    eventType,
    occurredAt: new Date(now()).toISOString(),
    data: payload,
  }));
}

/** Signature headers of Changsha over exactly `raw`. */
export function changshaHeaders(raw: Buffer | string, options: { timestamp?: number; secret?: string; keyId?: string; contentType?: string | undefined } = {}): Record<string, string | undefined> {
  const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000);
  return {
    'Content-Type': 'contentType' in options ? options.contentType : JSON_TYPE,
    'X-YCH-Key-Id': options.keyId ?? CHANGSHA.inboundKeyId,
    'X-YCH-Signature': `t=${timestamp},v1=${signBody(options.secret ?? CHANGSHA.inboundSecret, timestamp, raw)}`,
  };
}

/* ------------------------------------------------------------------------ */
/* hostile values and mutations                                              */
/* ------------------------------------------------------------------------ */

/** Raw JSON texts too big or too deep to build as values; they replace a marker string after serialising. */
export const HUGE: Record<string, () => string> = {
  '@@huge-string@@': () => JSON.stringify('界'.repeat(2048) + 'x'.repeat(200 * 1024 - 3 * 2048)),
  '@@huge-array@@': () => `[${Array.from({ length: 10_000 }, (_, n) => String(n % 10)).join(',')}]`,
  '@@huge-object-array@@': () => `[${Array(10_000).fill('{}').join(',')}]`,
  '@@many-keys@@': () => `{${Array.from({ length: 10_000 }, (_, n) => `"k${n}":0`).join(',')}}`,
  '@@deep-array@@': () => '['.repeat(5000) + ']'.repeat(5000),
  '@@deep-object@@': () => '{"a":'.repeat(5000) + '1' + '}'.repeat(5000),
  '@@huge-number@@': () => '1' + '0'.repeat(5000),
};

/** Serialises `value`, putting the raw texts of HUGE in place of their markers. */
export function serialise(value: unknown): string {
  let text = JSON.stringify(value) ?? 'null';
  for (const [marker, make] of Object.entries(HUGE)) {
    const quoted = JSON.stringify(marker);
    if (text.includes(quoted)) text = text.split(quoted).join(make());
  }
  return text;
}

export const PROTO_KEYS = ['__proto__', 'constructor', 'prototype'] as const;

/** Values of the wrong type, of odd sizes, and the raw monsters above. */
export const hostileValue: fc.Arbitrary<Json> = fc.oneof(
  { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json> },
  { weight: 2, arbitrary: fc.constantFrom<Json>(null, true, false, 0, -1, 1.5, -0, 1e308, '', ' ', '0', 'null', [], {}, [null], { '': '' }) },
  { weight: 1, arbitrary: fc.constantFrom<Json>(...Object.keys(HUGE)) },
  { weight: 1, arbitrary: fc.constantFrom(...PROTO_KEYS).map((key): Json => ({ [key]: { polluted: 'yes' } })) },
  { weight: 1, arbitrary: fc.string({ maxLength: 40, unit: 'binary' }) },
);

/** Every path to a value inside `value` (objects and arrays), root excluded. */
export function pathsOf(value: Json, prefix: (string | number)[] = []): (string | number)[][] {
  if (Array.isArray(value)) return value.flatMap((item, n) => [[...prefix, n], ...pathsOf(item, [...prefix, n])]);
  if (value !== null && typeof value === 'object') return Object.entries(value).flatMap(([key, item]) => [[...prefix, key], ...pathsOf(item, [...prefix, key])]);
  return [];
}

/** Every path to an object inside `value`, root included. */
export function objectPathsOf(value: Json, prefix: (string | number)[] = []): (string | number)[][] {
  if (Array.isArray(value)) return value.flatMap((item, n) => objectPathsOf(item, [...prefix, n]));
  if (value !== null && typeof value === 'object') return [prefix, ...Object.entries(value).flatMap(([key, item]) => objectPathsOf(item, [...prefix, key]))];
  return [];
}

function parentOf(root: Json, path: (string | number)[]): { container: Json[] | JsonObject; last: string | number } | undefined {
  let node: Json = root;
  for (const step of path.slice(0, -1)) {
    if (node === null || typeof node !== 'object') return undefined;
    node = Array.isArray(node) ? (node[step as number] ?? null) : (node[step as string] ?? null);
  }
  const last = path[path.length - 1];
  if (node === null || typeof node !== 'object' || last === undefined) return undefined;
  return { container: node, last };
}

export type Mutation =
  | { kind: 'drop'; pick: number }
  | { kind: 'retype'; pick: number; value: Json }
  | { kind: 'add'; pick: number; key: string; value: Json }
  | { kind: 'replace-root'; value: Json };

export const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('drop' as const), pick: fc.nat() }),
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('retype' as const), pick: fc.nat(), value: hostileValue }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('add' as const),
      pick: fc.nat(),
      key: fc.oneof(fc.constantFrom(...PROTO_KEYS, 'toString', 'hasOwnProperty', 'valueOf', '', ' ', 'data', 'validation'), fc.string({ maxLength: 12 })),
      value: hostileValue,
    }),
  },
  fc.record({ kind: fc.constant('replace-root' as const), value: hostileValue }),
);

/**
 * Applies a mutation to a deep copy. An added `__proto__` is an own property,
 * as JSON.parse makes it, so that it reaches the server as written.
 */
export function mutate(value: JsonObject, change: Mutation): Json {
  if (change.kind === 'replace-root') return change.value;
  const copy = JSON.parse(JSON.stringify(value)) as JsonObject;
  if (change.kind === 'add') {
    const objects = objectPathsOf(copy);
    const path = objects[change.pick % objects.length] ?? [];
    let node: Json = copy;
    for (const step of path) node = (node as JsonObject)[step as string] ?? null;
    Object.defineProperty(node, change.key, { value: change.value, enumerable: true, writable: true, configurable: true });
    return copy;
  }
  const paths = pathsOf(copy);
  const path = paths[change.pick % paths.length];
  if (!path) return copy;
  const parent = parentOf(copy, path);
  if (!parent) return copy;
  const { container, last } = parent;
  if (change.kind === 'drop') {
    if (Array.isArray(container)) container.splice(last as number, 1);
    else delete container[last as string];
  } else if (Array.isArray(container)) {
    container[last as number] = change.value;
  } else {
    Object.defineProperty(container, last, { value: change.value, enumerable: true, writable: true, configurable: true });
  }
  return copy;
}

/** JSON text of an object whose member `key` at `path` appears twice: `extra` (raw JSON) first or last. */
export function withDuplicateKey(value: Json, path: (string | number)[], key: string, extra: string, extraFirst: boolean): string {
  const write = (node: Json, here: (string | number)[]): string => {
    if (Array.isArray(node)) return `[${node.map((item, n) => write(item, [...here, n])).join(',')}]`;
    if (node === null || typeof node !== 'object') return JSON.stringify(node);
    const members = Object.entries(node).map(([name, item]) => `${JSON.stringify(name)}:${write(item, [...here, name])}`);
    if (here.length === path.length && here.every((step, n) => step === path[n])) {
      const duplicate = `${JSON.stringify(key)}:${extra}`;
      if (extraFirst) members.unshift(duplicate);
      else members.push(duplicate);
    }
    return `{${members.join(',')}}`;
  };
  return write(value, []);
}

/** Byte sequences no UTF-8 decoder may accept. */
export const INVALID_UTF8: readonly number[][] = [
  [0xff],
  [0xfe, 0xff],
  [0x80],
  [0xbf, 0xbf],
  [0xc0, 0x80], // overlong NUL
  [0xc1, 0xbf], // overlong
  [0xe0, 0x80, 0xaf], // overlong '/'
  [0xed, 0xa0, 0x80], // UTF-16 surrogate (CESU-8)
  [0xed, 0xbf, 0xbf],
  [0xf4, 0x90, 0x80, 0x80], // above U+10FFFF
  [0xf5, 0x80, 0x80, 0x80],
  [0xe4, 0xb8], // truncated 中
  [0xf0, 0x9f, 0x98], // truncated 😀
  [0xc3], // lone lead byte
];

/* ------------------------------------------------------------------------ */
/* api processes                                                             */
/* ------------------------------------------------------------------------ */

export interface ApiProcess {
  child: ChildProcess;
  url: string;
}

/**
 * A real `node server/main.ts` with GATEWAY_ROLE=api on a free loopback
 * port; resolves once it listens and its Redis answers (an api process alone
 * never reports ready on /readyz: there is no inbound worker).
 */
export async function spawnApiProcess(env: Record<string, string>): Promise<ApiProcess> {
  const child = fork(join(import.meta.dirname, '..', '..', 'server', 'main.ts'), [], {
    env: { ...process.env, ...env, GATEWAY_ROLE: 'api', PORT: '0', HOST: '127.0.0.1' },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    const onExit = (code: number | null) => reject(new Error(`api process exited with ${code} before listening`));
    child.once('exit', onExit);
    child.on('message', (message: { type?: string; port?: number }) => {
      if (message.type === 'listening' && typeof message.port === 'number') {
        child.off('exit', onExit);
        resolve(message.port);
      }
    });
  });
  const url = `http://127.0.0.1:${port}`;
  for (let attempt = 0; ; attempt++) {
    const answer = await fetch(`${url}/readyz`).then(async (response) => (await response.json()) as { checks?: { redis?: string } });
    if (answer.checks?.redis === 'ok') break;
    if (attempt > 200) throw new Error('api process never reached Redis');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return { child, url };
}

export async function stopApiProcess(api: ApiProcess): Promise<void> {
  const { child } = api;
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  await exited;
}
