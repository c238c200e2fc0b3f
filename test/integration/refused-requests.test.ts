import { expect } from 'chai';
import { Redis } from 'ioredis';
import { fixedClock } from '../../kernel/clock.ts';
import { RefusedRequestStore } from '../../stores/refused-requests.ts';
import type { LabResult } from '../../usecases/lab.ts';
import type { SecurityEvent } from '../../telemetry/statistics.ts';
import { at, futureDay } from '../helpers/dates.ts';
import { startTestGateway, testRedisUrl, type TestGateway } from '../helpers/gateway.ts';
import { loggedIn, type OpsClient } from '../helpers/ops-client.ts';
import { applyData } from '../simulators/province-traffic.ts';

/** kept per partner in this test: small, so that a flood of KEPT + 50 rolls the ring over */
const KEPT = 20;
const WRONG_SECRET = 'not-the-province-secret-00000';

interface RefusedRun {
  request: { id: string; partner: string; operation: string; at: string; raw: string };
  result: LabResult;
}

/** Every value stored under a namespace, as text, whatever the key's type. */
async function everyValue(redis: Redis, namespace: string): Promise<{ key: string; text: string }[]> {
  const found: { key: string; text: string }[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${namespace}:*`, 'COUNT', 1000);
    cursor = next;
    for (const key of keys) {
      const type = await redis.type(key);
      const value =
        type === 'string'
          ? [await redis.get(key)]
          : type === 'hash'
            ? Object.entries(await redis.hgetall(key)).flat()
            : type === 'list'
              ? await redis.lrange(key, 0, -1)
              : type === 'zset'
                ? await redis.zrange(key, '0', '-1')
                : type === 'set'
                  ? await redis.smembers(key)
                  : type === 'stream'
                    ? (await redis.xrange(key, '-', '+')).flatMap(([id, fields]) => [id, ...fields])
                    : [];
      found.push({ key, text: `${key} ${value.join(' ')}` });
    }
  } while (cursor !== '0');
  return found;
}

describe('refused requests kept sealed for the lab', () => {
  let gateway: TestGateway;
  let redis: Redis;
  let operator: OpsClient;
  const day = futureDay({ open: true });

  /** Resolves once the security list holds `count` events (the writes are not awaited by the edge). */
  async function securityEvents(count: number): Promise<SecurityEvent[]> {
    for (;;) {
      const events = await gateway.runtime.telemetry.statistics.securityEvents({ limit: 1000 });
      if (events.length >= count) return events;
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  before(async () => {
    gateway = await startTestGateway({ workers: false, env: { REFUSED_REQUESTS_KEPT: String(KEPT) } });
    redis = new Redis(testRedisUrl());
    operator = await loggedIn(gateway, 'refused-operator', 'operator');
  });
  after(async () => {
    redis.disconnect();
    await gateway.close();
  });

  it('an apply with a wrong TOKEN is kept sealed in the ring: its event names it, and no phone, contact, TOKEN or body is in Redis in plain text', async () => {
    const data = applyData({ start: at(day, '09:00'), end: at(day, '11:00'), TENDER_AGENT_CONTRACT: '欧阳明远', TENDER_AGENT_PHONE: '13912345678' });
    const sent = gateway.province.envelope('apply', data, { secret: WRONG_SECRET });
    const answer = await gateway.province.post('apply', sent);
    expect(answer.status).to.equal(401);

    const [event] = await securityEvents(1);
    expect(event?.kind).to.equal('signature');
    expect(event?.refused).to.be.a('string');
    expect(await gateway.runtime.refusedRequests.count('province')).to.equal(1);
    const kept = await gateway.runtime.refusedRequests.get('province', event?.refused ?? '');
    expect(kept?.rawBody.toString('utf8')).to.equal(JSON.stringify(sent));
    expect(kept?.operation).to.equal('apply');
    expect(kept?.headers).to.deep.equal({ 'content-type': 'application/json; charset=utf-8' });

    const secrets = ['13912345678', '欧阳明远', sent.validation.TOKEN, data.SERIES_NUMBER, sent.validation.DATAUUID, data.BID_SECTION_CODE];
    const values = await everyValue(redis, gateway.config.redis.namespace);
    expect(values.some((value) => value.key === gateway.runtime.keys.refusedRequests('province'))).to.equal(true);
    for (const { key, text } of values) for (const secret of secrets) expect(text, `${secret} in ${key}`).not.to.include(secret);
  });

  it('opened from its security event, the lab runs on the kept request and reproduces the refusal: the signature does not match', async () => {
    const [event] = await securityEvents(1);
    const response = await operator.request('POST', '/ops/api/lab/refused', { partner: 'province', id: event?.refused });
    expect(response.status, JSON.stringify(response.data)).to.equal(200);
    const opened = response.data as RefusedRun;
    expect(opened.request.operation).to.equal('apply');
    expect(opened.request.raw).to.match(/^POST \/partners\/province\/apply HTTP\/1\.1\ncontent-type: application\/json; charset=utf-8\n\n\{/);
    expect(opened.request.raw).to.include('13912345678');
    const signature = opened.result.steps.find((step) => step.name === 'signature');
    expect(signature?.status).to.equal('fail');
    expect(signature?.summary).to.equal('signature does not match');
    expect(opened.result.steps.find((step) => step.name === 'schema')?.status).to.equal('pass');
    expect(opened.result.passed).to.equal(false);

    // the text shown is the same request: pasted back, the lab says the same
    const again = await operator.request('POST', '/ops/api/lab', { partner: 'province', operation: 'apply', raw: opened.request.raw });
    expect((again.data as LabResult).steps).to.deep.equal(opened.result.steps);

    const audited = await gateway.runtime.audit.recent(20);
    const open = audited.find((entry) => entry.action === 'lab.open' && entry.actor === 'refused-operator');
    expect(open).to.deep.include({ target: `province/${event?.refused ?? ''}`, result: 'ok' });
    expect(audited.filter((entry) => entry.action === 'lab.run' && entry.actor === 'refused-operator')).to.have.length(2);
    expect(JSON.stringify(audited)).not.to.include('13912345678');
  });

  it('a body that is not UTF-8 is kept byte for byte: opened in the lab, it fails parsing at the same byte the gateway refused it for', async () => {
    const before = (await securityEvents(1)).length;
    const body = Buffer.concat([Buffer.from('{"名":"'), Buffer.from([0xe6, 0x28]), Buffer.from('"}')]);
    expect((await gateway.province.post('apply', body)).status).to.equal(400);
    const [event] = await securityEvents(before + 1);
    expect(event?.code).to.equal('MALFORMED_JSON');
    expect((await gateway.runtime.refusedRequests.get('province', event?.refused ?? ''))?.rawBody.equals(body)).to.equal(true);
    const response = await operator.request('POST', '/ops/api/lab/refused', { partner: 'province', id: event?.refused });
    const parse = (response.data as RefusedRun).result.steps.find((step) => step.name === 'parse');
    expect(parse?.summary).to.equal('not UTF-8 at byte 8');
  });

  it('a kept request is not opened once it is older than its days, leaves with the next refusal, and its key expires after the days', async () => {
    const clock = fixedClock(Date.now());
    const store = new RefusedRequestStore(gateway.runtime.redis, gateway.runtime.keys, gateway.runtime.personalData, () => clock.now(), { perPartner: 5, days: 1 });
    const old = store.keep('lifetime', { operation: 'apply', headers: {}, rawBody: Buffer.from('{}') });
    await old?.written;
    expect(await store.get('lifetime', old?.id ?? '')).to.not.equal(undefined);
    const ttl = await redis.pttl(gateway.runtime.keys.refusedRequests('lifetime'));
    expect(ttl).to.be.within(86_400_000 - 5_000, 86_400_000);
    clock.advance(86_400_000 + 1);
    expect(await store.get('lifetime', old?.id ?? '')).to.equal(undefined);
    await store.keep('lifetime', { operation: 'apply', headers: {}, rawBody: Buffer.from('{}') })?.written;
    expect(await store.count('lifetime')).to.equal(1);
  });

  it('a viewer may not open a kept request', async () => {
    const [event] = await securityEvents(1);
    const viewer = await loggedIn(gateway, 'refused-viewer', 'viewer');
    const response = await viewer.request('POST', '/ops/api/lab/refused', { partner: 'province', id: event?.refused });
    expect(response.status).to.equal(403);
  });

  it(`under a flood of ${KEPT} + 50 unsigned refusals the ring stays at ${KEPT}, keeps the newest, and an event rolled out says so (404)`, async () => {
    const before = (await securityEvents(1)).length;
    const flood = Array.from({ length: KEPT + 50 }, (_, n) => gateway.province.post('apply', { validation: { TOKEN: 'x' }, data: { n } }));
    const statuses = (await Promise.all(flood)).map((answer) => answer.status);
    expect(new Set(statuses)).to.deep.equal(new Set([400]));
    const events = (await securityEvents(before + KEPT + 50)).filter((event) => event.refused !== undefined);
    // one connection writes the ring before each event: every event seen, every entry written
    expect(await gateway.runtime.refusedRequests.count('province')).to.equal(KEPT);
    const newest = events.slice(0, KEPT);
    for (const event of newest) expect(await gateway.runtime.refusedRequests.get('province', event.refused ?? ''), event.refused).not.to.equal(undefined);
    const rolledOut = events.at(-1);
    expect(await gateway.runtime.refusedRequests.get('province', rolledOut?.refused ?? '')).to.equal(undefined);

    const response = await operator.request('POST', '/ops/api/lab/refused', { partner: 'province', id: rolledOut?.refused });
    expect(response.status).to.equal(404);
    expect((response.data as { title: string; reason: string }).reason).to.equal('rolled-out');
    expect((response.data as { title: string }).title).to.include('不再保留');
    const audited = await gateway.runtime.audit.recent(20);
    expect(audited.find((entry) => entry.action === 'lab.open' && entry.target === `province/${rolledOut?.refused ?? ''}`)?.result).to.equal('failed');
  });
});
