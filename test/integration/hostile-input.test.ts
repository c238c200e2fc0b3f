import { expect } from 'chai';
import fc from 'fast-check';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import type { PartnerId } from '../../adapters/types.ts';
import type { ProvinceInterface } from '../../adapters/province/signature.ts';
import { formatCompactBeijing, parseCompactBeijing } from '../../kernel/beijing-time.ts';
import { maskName, maskPhone } from '../../kernel/pii.ts';
import { futureDay } from '../helpers/dates.ts';
import { API_KEY, CHANGSHA, deleteNamespace, startTestGateway, testEnv, testRedisUrl, type TestGateway } from '../helpers/gateway.ts';
import {
  changshaEvent,
  changshaHeaders,
  closeHostileAgent,
  expectNoPollution,
  expectNothingRecorded,
  expectPartnerAnswer,
  expectProcessable,
  HUGE,
  intakeSnapshot,
  INVALID_UTF8,
  isoOf,
  JSON_TYPE,
  MAX_ANSWER_BYTES,
  mutate,
  mutation,
  objectPathsOf,
  postRaw,
  PROTO_KEYS,
  prototypeBaseline,
  provinceEnvelope,
  provinceMessage,
  randomHex32,
  resignProvince,
  serialise,
  spawnApiProcess,
  stopApiProcess,
  withDuplicateKey,
  hostileValue,
  type ApiProcess,
  type Json,
  type JsonObject,
  type PrototypeBaseline,
  type ProvinceMessage,
  type RawAnswer,
} from '../helpers/hostile.ts';

const LIMIT = 256 * 1024;
/** fast-check settings: moderate, so that the whole file stays well under a minute */
const runs = (numRuns: number) => ({ numRuns, endOnFailure: true });

type Endpoint = { partner: 'province'; operation: ProvinceMessage['operation'] } | { partner: 'changsha'; operation: 'events' };
const ENDPOINTS: readonly Endpoint[] = [
  { partner: 'province', operation: 'apply' },
  { partner: 'province', operation: 'change' },
  { partner: 'province', operation: 'cancel' },
  { partner: 'province', operation: 'query' },
  { partner: 'changsha', operation: 'events' },
];
const pathOf = (endpoint: Endpoint) => `/partners/${endpoint.partner}/${endpoint.operation}`;

/** A signed message ready to send: its bytes, headers and path. */
interface Wire {
  partner: PartnerId;
  path: string;
  body: Buffer;
  headers: Record<string, string | string[] | undefined>;
  /** for the province: what the message is, so that it can be signed again */
  operation?: ProvinceInterface;
}

describe('hostile input on every inbound endpoint (fast-check over a real gateway)', function () {
  this.timeout(120_000);
  let gateway: TestGateway;
  let baseline: PrototypeBaseline;
  const day = futureDay({ open: true, skip: 3 });
  const now = () => gateway.runtime.clock.now();

  before(async () => {
    gateway = await startTestGateway({ workers: false, env: { PROVINCE_RATE_LIMIT: '1000000', CHANGSHA_RATE_LIMIT: '1000000', INTAKE_SOURCE_RATE_LIMIT: '1000000' } });
    baseline = prototypeBaseline();
  });
  after(async () => {
    await gateway.close();
    closeHostileAgent();
  });

  /**
   * Sends one message and checks every invariant: an answer under 500 in the
   * partner's format, nothing recorded unless accepted, an accepted message a
   * worker can decode, personal data masked where operators see it, and no
   * prototype touched.
   */
  async function exchange(wire: Wire, context: string): Promise<{ answer: RawAnswer; trackingNo: string | undefined; isNew: boolean }> {
    const { runtime } = gateway;
    const before = await intakeSnapshot(runtime, wire.partner);
    const answer = await postRaw(gateway.url, wire.path, wire.body, wire.headers);
    const trackingNo = expectPartnerAnswer(wire.partner, answer, wire.body.length, context);
    const after = await intakeSnapshot(runtime, wire.partner);
    let isNew = false;
    if (trackingNo === undefined) {
      expectNothingRecorded(before, after, `${context} -> ${answer.status} ${answer.text.slice(0, 200)}`);
    } else {
      const record = runtime.keys.intake(wire.partner).record(trackingNo);
      isNew = !before.records.includes(record);
      expect(after.records, context).to.include(record);
      expect(after.records.length - before.records.length, context).to.equal(isNew ? 1 : 0);
      expect(after.queued - before.queued, context).to.equal(isNew ? 1 : 0);
      const body = await expectProcessable(runtime, wire.partner, trackingNo, context);
      if (wire.partner === 'province') await expectMasked(trackingNo, body);
    }
    expectNoPollution(baseline, context);
    return { answer, trackingNo, isNew };
  }

  /** What operators see of an accepted province message has its contact masked. */
  async function expectMasked(trackingNo: string, body: unknown): Promise<void> {
    const data = (body as { data?: Record<string, unknown> }).data ?? {};
    const name = data['TENDER_AGENT_CONTRACT'];
    const phone = data['TENDER_AGENT_PHONE'];
    if (typeof name !== 'string' || typeof phone !== 'string') return;
    const response = await fetch(`${gateway.url}/api/v1/messages/${trackingNo}`, { headers: { 'X-Api-Key': API_KEY } });
    expect(response.status).to.equal(200);
    const text = await response.text();
    const view = JSON.parse(text) as { raw: { data: Record<string, unknown> } };
    expect(view.raw.data['TENDER_AGENT_CONTRACT']).to.equal(maskName(name));
    expect(view.raw.data['TENDER_AGENT_PHONE']).to.equal(maskPhone(phone));
    // the phone never appears whole (its pattern keeps it from equalling another field by chance)
    expect(text).to.not.include(JSON.stringify(phone));
  }

  function provinceWire(message: ProvinceMessage, envelope: Json, headers: Record<string, string | undefined> = { 'Content-Type': JSON_TYPE }): Wire {
    return { partner: 'province', path: `/partners/province/${message.operation}`, body: Buffer.from(serialise(envelope)), headers, operation: message.operation };
  }

  function changshaWire(text: string | Buffer, signing: Parameters<typeof changshaHeaders>[1] = {}): Wire {
    const body = Buffer.isBuffer(text) ? text : Buffer.from(text);
    return { partner: 'changsha', path: '/partners/changsha/events', body, headers: changshaHeaders(body, signing) };
  }

  /** Serialises a (possibly mutated) province envelope, signing its data again when `resign`. */
  function provinceText(operation: ProvinceInterface, value: Json, resign: boolean): string {
    let text = serialise(value);
    if (!resign) return text;
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return text;
    }
    const token = resignProvince(parsed, operation);
    const validation = (value as { validation?: unknown } | null)?.validation;
    if (token && validation && typeof validation === 'object' && !Array.isArray(validation) && typeof (validation as JsonObject)['TOKEN'] === 'string' && /^[0-9a-f]{64}$/.test((validation as JsonObject)['TOKEN'] as string)) {
      (validation as JsonObject)['TOKEN'] = token;
      text = serialise(value);
    }
    return text;
  }

  describe('(1) random bodies and mutations of valid messages', () => {
    it('random JSON, random bytes and random envelopes, unsigned or signed over the bytes: < 500, partner format, nothing recorded', async () => {
      const body = fc.oneof(
        fc.jsonValue().map((value) => Buffer.from(JSON.stringify(value) ?? 'null')),
        fc.uint8Array({ maxLength: 600 }).map((bytes) => Buffer.from(bytes)),
        fc.record({ validation: fc.jsonValue(), data: fc.jsonValue() }).map((value) => Buffer.from(JSON.stringify(value))),
        fc.record({ eventId: fc.jsonValue(), eventType: fc.constantFrom('slot.requested', 'slot.released', 'x'), occurredAt: fc.jsonValue(), data: fc.jsonValue() }).map((value) => Buffer.from(JSON.stringify(value))),
        fc.string({ maxLength: 300, unit: 'binary' }).map((text) => Buffer.from(text)),
      );
      await fc.assert(
        fc.asyncProperty(fc.constantFrom(...ENDPOINTS), body, fc.boolean(), async (endpoint, bytes, signed) => {
          const headers = endpoint.partner === 'changsha' && signed ? changshaHeaders(bytes) : { 'Content-Type': JSON_TYPE };
          const { trackingNo } = await exchange({ partner: endpoint.partner, path: pathOf(endpoint), body: bytes, headers }, `random body on ${pathOf(endpoint)}`);
          expect(trackingNo).to.equal(undefined);
        }),
        runs(150),
      );
    });

    it('mutated province messages (fields dropped, retyped, added; 200 KiB strings, 10k-item arrays, 10k keys, depth 5,000), signed again or not', async () => {
      await fc.assert(
        fc.asyncProperty(provinceMessage(day), mutation, fc.boolean(), fc.constantFrom<'HMAC-SM3' | 'HMAC-SHA256'>('HMAC-SM3', 'HMAC-SHA256'), async (message, change, resign, method) => {
          const envelope = provinceEnvelope(message, now(), { method });
          const mutated = mutate(envelope, change);
          const text = provinceText(message.operation, mutated, resign);
          await exchange({ partner: 'province', path: `/partners/province/${message.operation}`, body: Buffer.from(text), headers: { 'Content-Type': JSON_TYPE } }, `${message.operation} ${JSON.stringify(change).slice(0, 200)} resigned=${resign}`);
        }),
        runs(200),
      );
    });

    it('mutated Changsha events, signed over the mutated bytes or not', async () => {
      await fc.assert(
        fc.asyncProperty(changshaEvent(day, now), mutation, fc.boolean(), async (event, change, signed) => {
          const text = serialise(mutate(event, change));
          const wire = changshaWire(text);
          if (!signed) wire.headers = changshaHeaders(JSON.stringify(event));
          await exchange(wire, `${JSON.stringify(event['eventType'])} ${JSON.stringify(change).slice(0, 200)} signed=${signed}`);
        }),
        runs(200),
      );
    });

    it('valid messages are accepted, and a worker can decode what was recorded (the properties above are not vacuous)', async () => {
      let accepted = 0;
      await fc.assert(
        fc.asyncProperty(fc.oneof(provinceMessage(day).map((m) => ({ province: m })), changshaEvent(day, now).map((e) => ({ changsha: e }))), async (input) => {
          const wire = 'province' in input ? provinceWire(input.province, provinceEnvelope(input.province, now())) : changshaWire(JSON.stringify(input.changsha));
          const { answer, trackingNo } = await exchange(wire, 'valid message');
          const operation = 'province' in input ? input.province.operation : 'events';
          // a query names nothing known (404), a change or cancel may clash (409); everything else is accepted
          if (operation === 'apply' || operation === 'events') expect([200, 202, 409], answer.text).to.include(answer.status);
          if (trackingNo) accepted++;
        }),
        runs(60),
      );
      expect(accepted).to.be.greaterThan(20);
    });

    it('many small violations (10,000 empty rooms or free windows, 10,000 unknown keys), unsigned: 400 with a bounded answer, not a list of every violation (no amplification)', async () => {
      const shapes = {
        rooms: (payload: string) => `{"eventId":"evt_amplify_1","eventType":"availability.published","occurredAt":"${isoOf(day, 9)}","data":{"center":"430100","from":"${isoOf(day, 0)}","to":"${isoOf(day, 23)}","rooms":${payload}}}`,
        free: (payload: string) => `{"eventId":"evt_amplify_2","eventType":"availability.published","occurredAt":"${isoOf(day, 9)}","data":{"center":"430100","from":"${isoOf(day, 0)}","to":"${isoOf(day, 23)}","rooms":[{"roomId":"r","seats":1,"free":${payload}}]}}`,
        eventData: (payload: string) => `{"eventId":"evt_amplify_3","eventType":"slot.released","occurredAt":"${isoOf(day, 9)}","data":${payload}}`,
        eventTop: (payload: string) => `${payload.slice(0, -1)},"eventId":"evt_amplify_4"}`,
        provinceData: (payload: string) => `{"validation":{},"data":${payload}}`,
        provinceValidation: (payload: string) => `{"validation":${payload},"data":{}}`,
        provinceTop: (payload: string) => payload,
      } as const;
      const payloads = { objects: HUGE['@@huge-object-array@@'], numbers: HUGE['@@huge-array@@'], keys: HUGE['@@many-keys@@'] };
      await fc.assert(
        fc.asyncProperty(fc.constantFrom(...(Object.keys(shapes) as (keyof typeof shapes)[])), fc.constantFrom(...(Object.keys(payloads) as (keyof typeof payloads)[])), fc.constantFrom('apply', 'change', 'cancel', 'query'), async (shape, payload, operation) => {
          const body = Buffer.from(shapes[shape](payloads[payload]?.() ?? '{}'));
          const partner: PartnerId = shape.startsWith('province') ? 'province' : 'changsha';
          const path = partner === 'province' ? `/partners/province/${operation}` : '/partners/changsha/events';
          const started = performance.now();
          const answer = await postRaw(gateway.url, path, body, { 'Content-Type': JSON_TYPE });
          const elapsed = (performance.now() - started).toFixed(0);
          // the province answers the schema first (its TOKEN signs the parsed data); Changsha checks its signature first
          expect(partner === 'province' ? [400] : [400, 401], answer.text.slice(0, 200)).to.include(answer.status);
          expectPartnerAnswer(partner, answer, body.length, `${shape} of ${payload}, unauthenticated, answered in ${elapsed} ms`, MAX_ANSWER_BYTES);
        }),
        { numRuns: 30, endOnFailure: true },
      );
    });
  });

  describe('(2) __proto__, constructor and prototype keys', () => {
    const payload = fc.constantFrom<Json>({ polluted: 'yes' }, { prototype: { polluted: 'yes' } }, { constructor: { prototype: { polluted: 'yes' } } }, 'polluted', null, [], { toString: 'x', isAdmin: true });

    it('anywhere in a correctly signed province message: 400 naming the key, nothing recorded, no prototype touched', async () => {
      await fc.assert(
        fc.asyncProperty(provinceMessage(day), fc.nat(), fc.constantFrom(...PROTO_KEYS), payload, async (message, pick, key, value) => {
          const envelope = provinceEnvelope(message, now());
          const objects = objectPathsOf(envelope);
          const mutated = mutate(envelope, { kind: 'add', pick, key, value });
          const text = provinceText(message.operation, mutated, true);
          expect(text).to.include(`"${key}":`);
          const { answer } = await exchange({ partner: 'province', path: `/partners/province/${message.operation}`, body: Buffer.from(text), headers: { 'Content-Type': JSON_TYPE } }, `${key} at ${JSON.stringify(objects[pick % objects.length])}`);
          expect(answer.status, answer.text).to.equal(400);
          expect(answer.text).to.include(key);
        }),
        runs(60),
      );
    });

    it('anywhere in a correctly signed Changsha event: 400 naming the key, nothing recorded, no prototype touched', async () => {
      await fc.assert(
        fc.asyncProperty(changshaEvent(day, now), fc.nat(), fc.constantFrom(...PROTO_KEYS), payload, async (event, pick, key, value) => {
          const objects = objectPathsOf(event);
          const text = serialise(mutate(event, { kind: 'add', pick, key, value }));
          expect(text).to.include(`"${key}":`);
          const { answer } = await exchange(changshaWire(text), `${key} at ${JSON.stringify(objects[pick % objects.length])}`);
          expect(answer.status, answer.text).to.equal(400);
          expect(answer.text).to.include(key);
        }),
        runs(60),
      );
    });

    it('as the whole body, or on a path no partner has', async () => {
      const bodies = ['{"__proto__":{"polluted":"yes"}}', '{"constructor":{"prototype":{"polluted":"yes"}}}', '[{"__proto__":{"polluted":"yes"}}]', '{"a":{"__proto__":{"__proto__":{"polluted":"yes"}}}}'];
      const paths = ['/partners/province/__proto__', '/partners/province/constructor', '/partners/province/prototype', '/partners/province/hasOwnProperty', '/partners/changsha/__proto__', '/partners/__proto__/apply', '/partners/constructor/events', '/partners/toString/apply', '/partners/province/%E0%A4%A', '/partners/%E0%A4%A/apply', '/partners/province/apply/extra', '/partners/province/APPLY', '/partners/province/%61pply'];
      for (const path of paths) {
        for (const body of bodies) {
          const answer = await postRaw(gateway.url, path, body, { 'Content-Type': JSON_TYPE });
          expect(answer.status, `${path}: ${answer.text}`).to.be.within(400, 499);
          expect(answer.text, path).to.not.match(/\.ts:\d|\n\s+at\s/);
          expect(() => JSON.parse(answer.text) as unknown, `${path}: ${answer.text}`).to.not.throw();
          expectNoPollution(baseline, path);
        }
      }
      for (const endpoint of ENDPOINTS) {
        for (const body of bodies) {
          const { answer } = await exchange({ partner: endpoint.partner, path: pathOf(endpoint), body: Buffer.from(body), headers: endpoint.partner === 'changsha' ? changshaHeaders(body) : { 'Content-Type': JSON_TYPE } }, body);
          expect(answer.status).to.equal(400);
        }
      }
    });
  });

  describe('(3) duplicate keys in the raw JSON text', () => {
    /** the raw value a duplicate carries: hostile, or the same, or a valid-looking other value */
    const extraValue = fc.oneof(hostileValue.map((value) => serialise(value)), fc.constantFrom('"HNSDD"', '15', '16', '"430200"', '"GCJS"', '"slot.released"'));

    it('province: < 500, nothing recorded unless accepted; what is accepted is what is recorded and signed (last member wins everywhere)', async () => {
      await fc.assert(
        fc.asyncProperty(provinceMessage(day), fc.nat(), fc.nat(), extraValue, fc.boolean(), async (message, pickObject, pickKey, extra, extraFirst) => {
          const envelope = provinceEnvelope(message, now());
          const objects = objectPathsOf(envelope);
          const path = objects[pickObject % objects.length] ?? [];
          let node: Json = envelope;
          for (const step of path) node = (node as JsonObject)[step as string] ?? null;
          const keys = Object.keys(node as JsonObject);
          const key = keys[pickKey % keys.length] ?? 'x';
          let text = withDuplicateKey(envelope, path, key, extra, extraFirst);
          const token = resignProvince(JSON.parse(text) as unknown, message.operation);
          if (token && !(path.length === 1 && path[0] === 'validation' && key === 'TOKEN')) {
            (envelope['validation'] as JsonObject)['TOKEN'] = token;
            text = withDuplicateKey(envelope, path, key, extra, extraFirst);
          }
          const { trackingNo, isNew } = await exchange({ partner: 'province', path: `/partners/province/${message.operation}`, body: Buffer.from(text), headers: { 'Content-Type': JSON_TYPE } }, `duplicate ${JSON.stringify(path)}.${key}`);
          if (trackingNo && isNew) {
            expect(await gateway.runtime.messages.body('province', trackingNo)).to.deep.equal(JSON.parse(text) as unknown);
          }
        }),
        runs(80),
      );
    });

    it('Changsha: < 500, nothing recorded unless accepted; what is accepted is exactly what was signed', async () => {
      await fc.assert(
        fc.asyncProperty(changshaEvent(day, now), fc.nat(), fc.nat(), extraValue, fc.boolean(), async (event, pickObject, pickKey, extra, extraFirst) => {
          const objects = objectPathsOf(event);
          const path = objects[pickObject % objects.length] ?? [];
          let node: Json = event;
          for (const step of path) node = Array.isArray(node) ? (node[step as number] ?? null) : ((node as JsonObject)[step as string] ?? null);
          const keys = Object.keys(node as JsonObject);
          const key = keys[pickKey % keys.length] ?? 'x';
          const text = withDuplicateKey(event, path, key, extra, extraFirst);
          const { trackingNo, isNew } = await exchange(changshaWire(text), `duplicate ${JSON.stringify(path)}.${key}`);
          if (trackingNo && isNew) {
            expect(await gateway.runtime.messages.rawBody('changsha', trackingNo)).to.equal(text);
          }
        }),
        runs(80),
      );
    });
  });

  describe('(4) invalid UTF-8', () => {
    it('any invalid byte sequence anywhere in a correctly signed message: 400, nothing recorded', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.oneof(provinceMessage(day).map((m) => ({ province: m })), changshaEvent(day, now).map((e) => ({ changsha: e }))),
          fc.constantFrom(...INVALID_UTF8),
          fc.nat(),
          fc.boolean(),
          async (input, sequence, position, insideString) => {
            const text = 'province' in input ? serialise(provinceEnvelope(input.province, now())) : JSON.stringify(input.changsha);
            const bytes = Buffer.from(text);
            const starts = [...text.matchAll(/":"/g)].map((match) => Buffer.byteLength(text.slice(0, match.index + 3)));
            const at = insideString && starts.length > 0 ? (starts[position % starts.length] ?? 0) : position % (bytes.length + 1);
            const body = Buffer.concat([bytes.subarray(0, at), Buffer.from(sequence), bytes.subarray(at)]);
            const wire = 'province' in input ? { partner: 'province' as const, path: `/partners/province/${input.province.operation}`, body, headers: { 'Content-Type': JSON_TYPE } } : changshaWire(body);
            const { answer } = await exchange(wire, `bytes ${Buffer.from(sequence).toString('hex')} at ${at}`);
            expect(answer.status, answer.text).to.equal(400);
          },
        ),
        runs(80),
      );
    });

    it('a whole body in UTF-16 or Latin-1: 400, nothing recorded', async () => {
      const event = JSON.stringify({ eventId: 'evt_utf16_0001', eventType: 'slot.released', occurredAt: isoOf(day, 9), data: { requestId: 'CSR-长沙-1', reason: 'OTHER' } });
      for (const body of [Buffer.from(event, 'utf16le'), Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(event, 'utf16le')]), Buffer.from(event, 'latin1')]) {
        const { answer } = await exchange(changshaWire(body), `encoded ${body.subarray(0, 4).toString('hex')}`);
        expect(answer.status).to.equal(400);
      }
    });

    it('a correctly signed message behind a UTF-8 byte order mark is refused, or else recorded so that a worker can read it', async () => {
      const bom = Buffer.from([0xef, 0xbb, 0xbf]);
      const province = fc.sample(provinceMessage(day).filter((m) => m.operation === 'apply'), { numRuns: 1, seed: 7 });
      const event = fc.sample(changshaEvent(day, now).filter((e) => e['eventType'] === 'slot.requested'), { numRuns: 1, seed: 7 });
      const first = province[0];
      const second = event[0];
      if (!first || !second) throw new Error('no sample');
      await exchange({ partner: 'province', path: '/partners/province/apply', body: Buffer.concat([bom, Buffer.from(serialise(provinceEnvelope(first, now())))]), headers: { 'Content-Type': JSON_TYPE } }, 'province message behind a BOM');
      await exchange(changshaWire(Buffer.concat([bom, Buffer.from(JSON.stringify(second))])), 'Changsha event behind a BOM');
    });
  });

  describe('(5) wrong, missing and odd Content-Type', () => {
    const JSON_TYPES = ['application/json', 'application/json; charset=utf-8', 'application/json;charset=UTF-8', 'APPLICATION/JSON; CHARSET=UTF-8', 'application/json ; charset=utf-8', 'application/json; charset="utf-8"', 'Application/Json'];
    const NOT_JSON: (string | undefined)[] = [undefined, '', 'text/plain', 'text/json', 'text/html; charset=utf-8', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/jsonp', 'application/json-patch+json', 'application/xml', 'application/octet-stream', '*/*', 'json', 'application', 'application/json, text/plain', 'application/jsonx; charset=utf-8'];
    const ODD_CHARSETS = ['application/json; charset=iso-8859-1', 'application/json; charset=gbk', 'application/json; charset=utf-16', 'application/json; charset=', 'application/json; charset=utf-8; charset=latin1', `application/json; x=${'y'.repeat(2000)}`];

    it('JSON types with any utf-8 spelling are accepted; anything else is 400 in the partner format with nothing recorded; odd charsets never break anything', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.oneof(provinceMessage(day).filter((m) => m.operation === 'apply').map((m) => ({ province: m })), changshaEvent(day, now).filter((e) => e['eventType'] !== 'slot.requested').map((e) => ({ changsha: e }))),
          fc.oneof(fc.constantFrom(...JSON_TYPES).map((type) => ({ type, expect: 'accepted' as const })), fc.constantFrom(...NOT_JSON).map((type) => ({ type, expect: 'rejected' as const })), fc.constantFrom(...ODD_CHARSETS).map((type) => ({ type, expect: 'any' as const }))),
          async (input, { type, expect: outcome }) => {
            const wire =
              'province' in input
                ? provinceWire(input.province, provinceEnvelope(input.province, now()), { 'Content-Type': type })
                : { ...changshaWire(JSON.stringify(input.changsha), { contentType: type }) };
            const { answer } = await exchange(wire, `Content-Type ${String(type)}`);
            if (outcome === 'accepted') expect([200, 202], answer.text).to.include(answer.status);
            if (outcome === 'rejected') {
              expect(answer.status, answer.text).to.equal(400);
              expect(answer.text).to.match(/Content-Type|content type|unsupported/i);
            }
          },
        ),
        runs(80),
      );
    });

    it('Content-Encoding: gzip is read, a gzip bomb is 413, broken or unknown encodings are 4xx; nothing recorded for any refusal', async () => {
      const message = (fc.sample(provinceMessage(day).filter((m) => m.operation === 'apply'), { numRuns: 1, seed: 11 }))[0];
      if (!message) throw new Error('no sample');
      const ok = await exchange({ partner: 'province', path: '/partners/province/apply', body: gzipSync(serialise(provinceEnvelope(message, now()))), headers: { 'Content-Type': JSON_TYPE, 'Content-Encoding': 'gzip' } }, 'gzip');
      expect(ok.answer.status).to.equal(200);
      const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024, 0x20));
      for (const partner of ['province', 'changsha'] as const) {
        const path = partner === 'province' ? '/partners/province/apply' : '/partners/changsha/events';
        const tooBig = await exchange({ partner, path, body: bomb, headers: { ...changshaHeaders(bomb), 'Content-Encoding': 'gzip' } }, 'gzip bomb');
        expect(tooBig.answer.status).to.equal(413);
        for (const encoding of ['gzip', 'deflate', 'br', 'compress', 'identity, gzip', 'x-unknown']) {
          const body = Buffer.from('{"not":"compressed"}');
          const { answer } = await exchange({ partner, path, body, headers: { ...changshaHeaders(body), 'Content-Encoding': encoding } }, `Content-Encoding ${encoding}`);
          expect(answer.status, `${encoding}: ${answer.text}`).to.be.within(400, 499);
        }
      }
    });
  });

  describe('(6) header and body limits', () => {
    it('an oversized header block is refused by Node (431) or the connection is closed; the gateway keeps answering', async () => {
      const body = Buffer.from('{}');
      const oversized: Record<string, string | string[]>[] = [
        { 'X-Pad': 'a'.repeat(20 * 1024) },
        { 'X-YCH-Signature': `t=1,${Array(400).fill(`v1=${'a'.repeat(64)}`).join(',')}` },
        { Cookie: Array(3000).fill('a=b').join('; ') },
        Object.fromEntries(Array.from({ length: 2500 }, (_, n) => [`X-H-${n}`, 'v'])),
        { 'X-YCH-Key-Id': Array(3000).fill(CHANGSHA.inboundKeyId) },
      ];
      for (const headers of oversized) {
        for (const partner of ['province', 'changsha'] as const) {
          const answer = await postRaw(gateway.url, partner === 'province' ? '/partners/province/apply' : '/partners/changsha/events', body, { 'Content-Type': JSON_TYPE, ...headers });
          if (!answer.reset) expect(answer.status, answer.text).to.be.oneOf([400, 401, 413, 431]);
          if (!answer.reset && answer.status !== 431) expectPartnerAnswer(partner, answer, body.length, 'oversized headers');
        }
      }
      // still alive and well
      const health = await fetch(`${gateway.url}/healthz`);
      expect(health.status).to.equal(200);
      expectNoPollution(baseline, 'oversized headers');
    });

    it('a signature header just under the limit with many v1 values is 401, not slow', async () => {
      const event = JSON.stringify({ eventId: 'evt_many_v1_0001', eventType: 'slot.released', occurredAt: isoOf(day, 9), data: { requestId: 'CSR-many-v1', reason: 'OTHER' } });
      const t = Math.floor(Date.now() / 1000);
      const header = `t=${t},${Array(180).fill(`v1=${'0'.repeat(64)}`).join(',')}`;
      const started = performance.now();
      const { answer } = await exchange({ partner: 'changsha', path: '/partners/changsha/events', body: Buffer.from(event), headers: { 'Content-Type': JSON_TYPE, 'X-YCH-Key-Id': CHANGSHA.inboundKeyId, 'X-YCH-Signature': header } }, 'many v1');
      expect(answer.status).to.equal(401);
      expect(performance.now() - started).to.be.below(1000);
    });

    it('a body one byte over 256 KiB is 413 for both partners, chunked or not; nothing recorded', async () => {
      for (const partner of ['province', 'changsha'] as const) {
        const path = partner === 'province' ? '/partners/province/apply' : '/partners/changsha/events';
        const body = Buffer.from(`{"pad":"${'x'.repeat(LIMIT + 1 - 10)}"}`);
        expect(body.length).to.equal(LIMIT + 1);
        const { answer } = await exchange({ partner, path, body, headers: changshaHeaders(body) }, 'over the limit');
        expect(answer.status).to.equal(413);
        const chunked = await exchange({ partner, path, body, headers: { ...changshaHeaders(body), 'Content-Length': undefined, 'Transfer-Encoding': 'chunked' } }, 'over the limit, chunked');
        expect(chunked.answer.status).to.equal(413);
      }
    });

    it('a valid signed message padded to exactly 256 KiB is accepted by both partners', async () => {
      const message = (fc.sample(provinceMessage(day).filter((m) => m.operation === 'apply'), { numRuns: 1, seed: 5 }))[0];
      const event = (fc.sample(changshaEvent(day, now).filter((e) => e['eventType'] === 'slot.released'), { numRuns: 1, seed: 5 }))[0];
      if (!message || !event) throw new Error('no sample');
      const text = serialise(provinceEnvelope(message, now()));
      const province = Buffer.from(text + ' '.repeat(LIMIT - Buffer.byteLength(text)));
      const changsha = Buffer.from(JSON.stringify(event).padEnd(LIMIT, '\n'));
      expect([province.length, changsha.length]).to.deep.equal([LIMIT, LIMIT]);
      expect((await exchange({ partner: 'province', path: '/partners/province/apply', body: province, headers: { 'Content-Type': JSON_TYPE } }, 'at the limit')).answer.status).to.equal(200);
      expect((await exchange(changshaWire(changsha), 'at the limit')).answer.status).to.equal(202);
    });
  });

  describe('(7) replayed, expired and tampered signatures', () => {
    const anyMessage = () => fc.oneof(provinceMessage(day).map((m) => ({ province: m })), changshaEvent(day, now).map((e) => ({ changsha: e })));

    it('a replay (same DATAUUID or eventId, same bytes) gets the first answer again and queues nothing new', async () => {
      await fc.assert(
        fc.asyncProperty(anyMessage(), fc.integer({ min: 1, max: 3 }), async (input, repeats) => {
          const wire = 'province' in input ? provinceWire(input.province, provinceEnvelope(input.province, now())) : changshaWire(JSON.stringify(input.changsha));
          const first = await exchange(wire, 'first');
          for (let n = 0; n < repeats; n++) {
            const again = await exchange(wire, `replay ${n + 1}`);
            expect(again.answer.status, again.answer.text).to.equal(first.answer.status);
            if (first.trackingNo) {
              expect(again.isNew).to.equal(false);
              expect(JSON.parse(again.answer.text) as unknown).to.deep.equal(JSON.parse(first.answer.text) as unknown);
            }
          }
        }),
        runs(40),
      );
    });

    it('the same province request under a new DATAUUID, or the same Changsha event re-signed later, gets the first answer again', async () => {
      await fc.assert(
        fc.asyncProperty(anyMessage(), async (input) => {
          const first = await exchange('province' in input ? provinceWire(input.province, provinceEnvelope(input.province, now())) : changshaWire(JSON.stringify(input.changsha)), 'first');
          const second = await exchange(
            'province' in input ? provinceWire(input.province, provinceEnvelope(input.province, now(), { dataUuid: randomHex32() })) : changshaWire(JSON.stringify(input.changsha), { timestamp: Math.floor(now() / 1000) - 60 }),
            'again',
          );
          if (first.trackingNo && ('changsha' in input || input.province.operation !== 'query')) {
            expect(second.answer.status).to.equal(first.answer.status);
            expect(JSON.parse(second.answer.text) as unknown).to.deep.equal(JSON.parse(first.answer.text) as unknown);
            expect(second.isNew).to.equal(false);
          }
        }),
        runs(30),
      );
    });

    it('TIME or t 301 s in the past or the future: 401, nothing recorded', async () => {
      await fc.assert(
        fc.asyncProperty(anyMessage(), fc.constantFrom(-1, 1), fc.integer({ min: 301, max: 100_000 }), async (input, sign, seconds) => {
          const skew = sign * (seconds === 301 || seconds % 2 === 0 ? 301 : seconds);
          // Both times are whole seconds: from the next whole second, so that neither the
          // truncation nor the milliseconds until the gateway checks bring a 301 s skew down to 300.
          const nextSecond = Math.ceil(now() / 1000);
          const wire =
            'province' in input
              ? provinceWire(input.province, provinceEnvelope(input.province, now(), { time: formatCompactBeijing((nextSecond + skew) * 1000) }))
              : changshaWire(JSON.stringify(input.changsha), { timestamp: nextSecond + skew });
          const { answer } = await exchange(wire, `skew ${skew} s`);
          expect(answer.status, answer.text).to.equal(401);
        }),
        runs(40),
      );
    });

    it('a tampered province message (token, data, interface, sender, method or secret): 401, nothing recorded', async () => {
      const tamper = fc.oneof(
        fc.record({ kind: fc.constant('token-digit' as const), index: fc.nat({ max: 63 }) }),
        fc.constant({ kind: 'wrong-secret' as const }),
        fc.constant({ kind: 'other-interface' as const }),
        fc.constantFrom('ZZ430200', 'HNSDD ', 'hnsdd', 'HNSD', 'X').map((systemNo) => ({ kind: 'sender' as const, systemNo })),
        fc.constant({ kind: 'method' as const }),
        fc.constant({ kind: 'data-after-signing' as const }),
        fc.constant({ kind: 'uuid-after-signing' as const }),
        fc.constant({ kind: 'time-after-signing' as const }),
      );
      await fc.assert(
        fc.asyncProperty(provinceMessage(day), tamper, async (message, change) => {
          const signing = {
            ...(change.kind === 'wrong-secret' ? { secret: 'not-the-province-secret-000' } : {}),
            ...(change.kind === 'other-interface' ? { interfaceCode: (message.operation === 'apply' ? 'change' : 'apply') as ProvinceInterface } : {}),
            ...(change.kind === 'sender' ? { systemNo: change.systemNo } : {}),
          };
          const envelope = provinceEnvelope(message, now(), signing);
          const validation = envelope['validation'] as JsonObject;
          const data = envelope['data'] as JsonObject;
          switch (change.kind) {
            case 'token-digit': {
              const token = validation['TOKEN'] as string;
              const digit = token[change.index] ?? '0';
              validation['TOKEN'] = token.slice(0, change.index) + (digit === '0' ? '1' : '0') + token.slice(change.index + 1);
              break;
            }
            case 'method':
              validation['SIGN_METHOD'] = 'HMAC-SHA256';
              break;
            case 'data-after-signing': {
              const series = data['SERIES_NUMBER'] as string;
              data['SERIES_NUMBER'] = series.slice(0, -1) + (series.endsWith('0') ? '1' : '0');
              break;
            }
            case 'uuid-after-signing':
              validation['DATAUUID'] = randomHex32();
              break;
            case 'time-after-signing':
              validation['TIME'] = formatCompactBeijing(parseCompactBeijing(validation['TIME'] as string) - 1000);
              break;
            case 'wrong-secret':
            case 'other-interface':
            case 'sender':
              break;
          }
          const { answer } = await exchange(provinceWire(message, envelope), `tampered ${change.kind}`);
          expect(answer.status, answer.text).to.equal(401);
        }),
        runs(60),
      );
    });

    it('a tampered Changsha event (signature, body, t, key id or secret): 401, nothing recorded', async () => {
      const tamper = fc.oneof(
        fc.record({ kind: fc.constant('v1-digit' as const), index: fc.nat({ max: 63 }) }),
        fc.constant({ kind: 'wrong-secret' as const }),
        fc.constantFrom('changsha-key-2', '', 'CHANGSHA-KEY-1', `${CHANGSHA.inboundKeyId}x`).map((keyId) => ({ kind: 'key-id' as const, keyId })),
        fc.constant({ kind: 'body-after-signing' as const }),
        fc.constant({ kind: 't-after-signing' as const }),
        fc.constant({ kind: 'no-signature' as const }),
        fc.constantFrom('t=1', 'v1=00', 't=,v1=', `t=${Math.floor(Date.now() / 1000)}`, 'garbage', `t=${Math.floor(Date.now() / 1000)},v1=${'g'.repeat(64)}`, `t=${Math.floor(Date.now() / 1000)},v2=${'0'.repeat(64)}`).map((header) => ({ kind: 'header' as const, header })),
      );
      await fc.assert(
        fc.asyncProperty(changshaEvent(day, now), tamper, async (event, change) => {
          const text = JSON.stringify(event);
          const t = Math.floor(now() / 1000);
          const wire = changshaWire(text, { timestamp: t, ...(change.kind === 'wrong-secret' ? { secret: 'not-the-changsha-secret-000' } : {}), ...(change.kind === 'key-id' ? { keyId: change.keyId } : {}) });
          const signature = String(wire.headers['X-YCH-Signature']);
          switch (change.kind) {
            case 'v1-digit': {
              const at = signature.indexOf('v1=') + 3 + change.index;
              wire.headers['X-YCH-Signature'] = signature.slice(0, at) + (signature[at] === '0' ? '1' : '0') + signature.slice(at + 1);
              break;
            }
            case 'body-after-signing':
              wire.body = Buffer.from(`${text} `);
              break;
            case 't-after-signing':
              wire.headers['X-YCH-Signature'] = signature.replace(`t=${t}`, `t=${t - 1}`);
              break;
            case 'no-signature':
              wire.headers['X-YCH-Signature'] = undefined;
              break;
            case 'header':
              wire.headers['X-YCH-Signature'] = change.header;
              break;
            case 'wrong-secret':
            case 'key-id':
              break;
          }
          const { answer } = await exchange(wire, `tampered ${change.kind}`);
          expect(answer.status, answer.text).to.equal(401);
        }),
        runs(60),
      );
    });
  });
});

describe('schema-valid times a worker cannot read', function () {
  this.timeout(60_000);
  let gateway: TestGateway;
  let baseline: PrototypeBaseline;
  const day = futureDay({ open: true, skip: 4 });
  const iso = (time: string, offset: string) => `${day.slice(0, 4)}-${day.slice(4, 6)}-${day.slice(6, 8)}T${time}${offset}`;

  before(async () => {
    gateway = await startTestGateway({ workers: false, env: { CHANGSHA_RATE_LIMIT: '1000000' } });
    baseline = prototypeBaseline();
  });
  after(async () => {
    await gateway.close();
  });

  // ajv's date-time accepts an offset of hours only (+08) and a leap second (23:59:60Z); Date.parse does not.
  for (const [name, eventType, data] of [
    ['slot.requested with "+08" offsets', 'slot.requested', { requestId: 'CSR-offset-08', projectCode: 'M4301000260021190001', sectionCode: 'M4301000260021190001002', projectName: '长沙市项目', category: 'procurement', start: iso('09:00:00', '+08'), end: iso('12:00:00', '+08'), seats: 4, hostCenter: '430100' }],
    ['availability.published with "+08" offsets', 'availability.published', { center: '430100', from: iso('00:00:00', '+08'), to: iso('23:00:00', '+08'), rooms: [] }],
    ['slot.offered with a leap second', 'slot.offered', { requestId: 'CSR-leap-0001', offerId: 'o1', roomId: 'r1', seatNumbers: ['r1-01'], holdExpiresAt: iso('15:59:60', '-08:00') }],
  ] as const) {
    it(`${name}: refused with 4xx, or accepted and decodable`, async () => {
      const event = { eventId: `evt_${randomBytes(8).toString('hex')}`, eventType, occurredAt: new Date().toISOString(), data };
      const body = Buffer.from(JSON.stringify(event));
      const before = await intakeSnapshot(gateway.runtime, 'changsha');
      const answer = await postRaw(gateway.url, '/partners/changsha/events', body, changshaHeaders(body));
      const trackingNo = expectPartnerAnswer('changsha', answer, body.length, name);
      if (trackingNo) await expectProcessable(gateway.runtime, 'changsha', trackingNo, name);
      else expectNothingRecorded(before, await intakeSnapshot(gateway.runtime, 'changsha'), name);
      expectNoPollution(baseline, name);
    });
  }
});

describe('__proto__, constructor and prototype as ids, through real workers', function () {
  this.timeout(60_000);
  let gateway: TestGateway;
  let baseline: PrototypeBaseline;
  const day = futureDay({ open: true, skip: 5 });

  before(async () => {
    gateway = await startTestGateway({ env: { CHANGSHA_RATE_LIMIT: '1000000' } });
    baseline = prototypeBaseline();
  });
  after(async () => {
    await gateway.close();
  });

  it('events whose requestId, offerId, roomId or seat numbers are prototype names are processed without a crash or pollution', async () => {
    const names = ['__proto__', 'constructor', 'prototype', 'hasOwnProperty', 'toString', 'valueOf', '__defineGetter__'];
    const trackingNos: string[] = [];
    const send = async (eventType: string, data: Record<string, unknown>) => {
      const body = Buffer.from(JSON.stringify({ eventId: `evt_${randomBytes(8).toString('hex')}`, eventType, occurredAt: new Date().toISOString(), data }));
      const answer = await postRaw(gateway.url, '/partners/changsha/events', body, changshaHeaders(body));
      const trackingNo = expectPartnerAnswer('changsha', answer, body.length, `${eventType} ${JSON.stringify(data)}`);
      if (trackingNo) trackingNos.push(trackingNo);
      return answer;
    };
    for (const [n, name] of names.entries()) {
      if (name.length >= 6) {
        await send('slot.requested', { requestId: name, projectCode: 'M4301000260021190001', sectionCode: 'M4301000260021190001002', projectName: name, category: 'procurement', start: isoOf(day, 8 + n), end: isoOf(day, 9 + n), seats: 1, hostCenter: '430100' });
        await send('slot.confirmed', { requestId: name, offerId: name });
        await send('slot.released', { requestId: name, reason: 'OTHER' });
      }
      await send('slot.offered', { requestId: `REQ-${n}-${name}`.slice(0, 64), offerId: name, roomId: name, seatNumbers: [name, `${name}2`], holdExpiresAt: isoOf(day, 7) });
      await send('availability.published', { center: '430100', from: isoOf(day, 0), to: isoOf(day, 23), rooms: [{ roomId: name, seats: 3, free: [{ start: isoOf(day, 8), end: isoOf(day, 12) }] }] });
    }
    expect(trackingNos.length).to.be.greaterThan(10);
    // every message ends processed (or held), or as a dead letter that is not a crash
    const deadline = Date.now() + 20_000;
    for (;;) {
      const states = await Promise.all(trackingNos.map((trackingNo) => gateway.runtime.redis.hget(gateway.runtime.keys.intake('changsha').record(trackingNo), 'state')));
      const letters = await gateway.runtime.deadLetters.list(500);
      const settled = trackingNos.every((trackingNo, n) => states[n] === 'processed' || states[n] === 'held' || letters.some((letter) => letter.trackingNo === trackingNo && letter.queue === 'inbound'));
      if (settled) {
        const crashes = letters.filter((letter) => /^(INTERNAL|CANONICAL_INVALID|RECORD_MISSING)/.test(letter.reason));
        expect(crashes.map((letter) => `${letter.trackingNo}: ${letter.reason}`)).to.deep.equal([]);
        break;
      }
      if (Date.now() > deadline) expect.fail(`not settled: ${JSON.stringify(trackingNos.map((trackingNo, n) => [trackingNo, states[n]]))}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expectNoPollution(baseline, 'ids named like prototype members');
  });
});

describe('(8) the rate limit and the body limit hold across two api processes', function () {
  this.timeout(60_000);
  const namespace = `t-${randomBytes(6).toString('hex')}`;
  let apis: ApiProcess[] = [];
  const day = futureDay({ open: true, skip: 6 });

  before(async () => {
    const env = { ...testEnv(namespace, 'http://127.0.0.1:9'), PROVINCE_RATE_LIMIT: '5', CHANGSHA_RATE_LIMIT: '5' };
    apis = await Promise.all([spawnApiProcess(env), spawnApiProcess(env)]);
  });
  after(async () => {
    await Promise.all(apis.map((api) => stopApiProcess(api)));
    await deleteNamespace(testRedisUrl(), namespace);
  });

  it('PROVINCE_RATE_LIMIT=5: of 24 requests split over both processes within a second, at most 5 pass the limiter; the rest are 429 with Retry-After', async () => {
    const messages = fc.sample(provinceMessage(day).filter((m) => m.operation === 'query'), { numRuns: 24, seed: 3 });
    const started = Date.now();
    const answers = await Promise.all(
      messages.map(async (message, n) => {
        const api = apis[n % apis.length];
        if (!api) throw new Error('no api process');
        const body = Buffer.from(serialise(provinceEnvelope(message, Date.now())));
        return { api: n % apis.length, answer: await postRaw(api.url, '/partners/province/query', body, { 'Content-Type': JSON_TYPE }), bytes: body.length };
      }),
    );
    const elapsed = Date.now() - started;
    for (const { answer, bytes } of answers) expectPartnerAnswer('province', answer, bytes, 'rate limit');
    const passed = answers.filter(({ answer }) => answer.status !== 429);
    const limited = answers.filter(({ answer }) => answer.status === 429);
    // one fixed window of 1 s starts with the first request; a burst longer than that may touch a second one
    const windows = elapsed < 1000 ? 1 : Math.ceil(elapsed / 1000) + 1;
    expect(passed.length, `${passed.length} passed in ${elapsed} ms`).to.be.within(1, 5 * windows);
    if (windows === 1) expect(passed.length).to.equal(5);
    expect(new Set(limited.map(({ api }) => api)).size, 'both processes refuse').to.equal(2);
    for (const { answer } of limited) {
      expect(answer.headers['retry-after']).to.match(/^\d+$/);
      expect(JSON.parse(answer.text) as unknown).to.include({ State: '429' });
    }
  });

  it('CHANGSHA_RATE_LIMIT=5 holds the same way for Changsha (its own bucket: the province\'s burst before it spends none of it)', async () => {
    const started = Date.now();
    const answers = await Promise.all(
      Array.from({ length: 20 }, async (_, n) => {
        const api = apis[n % apis.length];
        if (!api) throw new Error('no api process');
        const body = Buffer.from(JSON.stringify({ eventId: `evt_rate_${n}_${randomBytes(4).toString('hex')}`, eventType: 'slot.released', occurredAt: new Date().toISOString(), data: { requestId: `CSR-rate-${n}`, reason: 'OTHER' } }));
        return postRaw(api.url, '/partners/changsha/events', body, changshaHeaders(body));
      }),
    );
    const elapsed = Date.now() - started;
    const passed = answers.filter((answer) => answer.status !== 429).length;
    expect(passed, `${passed} passed in ${elapsed} ms`).to.be.within(1, elapsed < 1000 ? 5 : 5 * (Math.ceil(elapsed / 1000) + 1));
    for (const answer of answers.filter((a) => a.status === 429)) expect(answer.headers['content-type']).to.match(/^application\/problem\+json/);
  });

  it('a body one byte over 256 KiB is 413 on each process (read before any limit is consulted)', async () => {
    const body = Buffer.from(`{"pad":"${'x'.repeat(LIMIT + 1 - 10)}"}`);
    for (const api of apis) {
      const answer = await postRaw(api.url, '/partners/province/apply', body, { 'Content-Type': JSON_TYPE });
      expect(answer.status, answer.text).to.equal(413);
      expectPartnerAnswer('province', answer, body.length, 'body limit');
    }
  });
});

describe('(9) delivery never follows a redirect to another host', function () {
  this.timeout(60_000);
  let gateway: TestGateway;
  let redirector: Server;
  let thief: Server;
  const stolen: { method: string; url: string; body: string }[] = [];
  const redirected: string[] = [];
  const day = futureDay({ open: true, skip: 7 });

  async function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ server: Server; url: string }> {
    const server = createServer(handler).listen(0, '127.0.0.1');
    await once(server, 'listening');
    return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
  }

  before(async () => {
    const theirs = await listen((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        stolen.push({ method: req.method ?? '', url: req.url ?? '', body: Buffer.concat(chunks).toString('utf8') });
        // an answer that would count as delivered, were it ever reached
        res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"State":"200","Success":true,"Msg":"成功","Data":{}}');
      });
    });
    thief = theirs.server;
    const ours = await listen((req, res) => {
      req.resume();
      req.on('end', () => {
        redirected.push(`${req.method} ${req.url}`);
        if (req.url === '/oauth/token') {
          res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ access_token: 'token-redirect-test', token_type: 'Bearer', expires_in: 7200 }));
          return;
        }
        // 302 for the province, 307 (which keeps method and body) for Changsha
        const status = req.url?.startsWith('/open-api/') ? 307 : 302;
        res.writeHead(status, { Location: `${theirs.url}/steal${req.url ?? ''}`, 'Content-Type': 'application/json' }).end('{}');
      });
    });
    redirector = ours.server;
    gateway = await startTestGateway({ env: { PROVINCE_BASE_URL: ours.url, CHANGSHA_BASE_URL: ours.url, PROVINCE_DELIVERY_ATTEMPTS: '2', CHANGSHA_DELIVERY_ATTEMPTS: '2' } });
  });
  after(async () => {
    await gateway.close();
    redirector.closeAllConnections();
    thief.closeAllConnections();
    await Promise.all([new Promise((resolve) => redirector.close(resolve)), new Promise((resolve) => thief.close(resolve))]);
  });

  async function deadLetterOf(trackingNo: string) {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const letter = (await gateway.runtime.deadLetters.list(500)).find((entry) => entry.trackingNo === trackingNo && entry.queue.startsWith('outbound'));
      if (letter) return letter;
      if (Date.now() > deadline) expect.fail(`no dead letter for ${trackingNo}; redirected: ${JSON.stringify(redirected)}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  it('a decided apply whose /notify answers 302 to another host ends refused in the dead letters; the other host gets nothing', async () => {
    const message = (fc.sample(provinceMessage(day).filter((m) => m.operation === 'apply'), { numRuns: 1, seed: 9 }))[0];
    if (!message) throw new Error('no sample');
    const answer = await gateway.province.post('apply', provinceEnvelope(message, Date.now()));
    expect(answer.status).to.equal(200);
    const trackingNo = (answer.data as { Data: { TRACKING_NO: string } }).Data.TRACKING_NO;
    const letter = await deadLetterOf(trackingNo);
    expect(letter.reason).to.match(/^DELIVERY_REFUSED/);
    expect(redirected).to.include('POST /notify');
    expect(stolen).to.deep.equal([]);
    const trace = await gateway.runtime.traces.read(trackingNo);
    expect(trace.filter((entry) => (entry as { kind?: string }).kind === 'delivered')).to.deep.equal([]);
  });

  it('an offer to Changsha whose event endpoint answers 307 to another host ends refused in the dead letters; the other host gets nothing', async () => {
    const body = Buffer.from(
      JSON.stringify({
        eventId: `evt_${randomBytes(8).toString('hex')}`,
        eventType: 'slot.requested',
        occurredAt: new Date().toISOString(),
        data: { requestId: `CSR-redirect-${randomBytes(3).toString('hex')}`, projectCode: 'M4301000260021190001', sectionCode: 'M4301000260021190001002', projectName: '重定向测试', category: 'procurement', start: isoOf(day, 9), end: isoOf(day, 11), seats: 2, hostCenter: '430100' },
      }),
    );
    const answer = await postRaw(gateway.url, '/partners/changsha/events', body, changshaHeaders(body));
    expect(answer.status, answer.text).to.equal(202);
    const trackingNo = (JSON.parse(answer.text) as { trackingId: string }).trackingId;
    const letter = await deadLetterOf(trackingNo);
    expect(letter.reason).to.match(/^DELIVERY_REFUSED/);
    expect(redirected).to.include('POST /open-api/v2/events');
    expect(stolen).to.deep.equal([]);
  });
});
