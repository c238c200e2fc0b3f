import { randomBytes } from 'node:crypto';
import axios from 'axios';
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { ulid } from 'ulid';
import { fixedClock } from '../../kernel/clock.ts';
import { ulidTime } from '../../kernel/ids.ts';
import { Keys } from '../../kernel/redis/keys.ts';
import { HostEvaluationStore } from '../../stores/host-evaluations.ts';
import { SeatRequestStore, type SeatRequest } from '../../stores/seat-requests.ts';
import { purgeExpired } from '../../usecases/retention.ts';
import type { ReconciliationRun } from '../../stores/reconciliation-runs.ts';
import { at, futureDay } from '../helpers/dates.ts';
import { API_KEY, deleteNamespace, startTestGateway, testRedisUrl, waitForStage, type TestGateway } from '../helpers/gateway.ts';
import type { ChangshaWireEvent } from '../simulators/changsha.ts';
import { slotRequestedData } from '../simulators/changsha-client.ts';
import { applyData, seriesNumber } from '../simulators/province-traffic.ts';

const headers = { 'X-Api-Key': API_KEY };
const DAY = 24 * 3600 * 1000;

async function waitFor(condition: () => Promise<boolean>): Promise<void> {
  while (!(await condition())) await new Promise<void>((resolve) => setImmediate(resolve));
}

/** `yyyyMMdd` and HH:mm, Beijing time, as ISO 8601 (Changsha's format) and as epoch ms. */
const iso = (day: string, time: string) => `${day.slice(0, 4)}-${day.slice(4, 6)}-${day.slice(6, 8)}T${time}:00+08:00`;
const ms = (day: string, time: string) => Date.parse(iso(day, time));
const of = (type: string, requestId: string) => (event: ChangshaWireEvent) => event.eventType === type && (event.data as { requestId?: string }).requestId === requestId;
const trackingIdOf = (answer: { data: unknown }) => (answer.data as { trackingId: string }).trackingId;

/** Every key of the gateway's namespace, but BullMQ's (it trims its own queues) and the audit chain (its own retention, stores/audit.ts). */
async function namespaceKeys(redis: Redis, namespace: string): Promise<Set<string>> {
  const found = new Set<string>();
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${namespace}:*`, 'COUNT', 1000);
    cursor = next;
    for (const key of keys) if (!key.startsWith(`${namespace}:{bull}`) && !key.startsWith(`${namespace}:{audit}`)) found.add(key);
  } while (cursor !== '0');
  return found;
}

/** No job waiting or running on any queue: what was accepted has been processed (delayed hold expiries may stay). */
async function settled(gateway: TestGateway): Promise<void> {
  const { runtime } = gateway;
  const queues = [runtime.inboundQueue, runtime.periodicQueue, ...Object.values(runtime.outboundQueues)];
  await waitFor(async () => {
    const counts = await Promise.all(queues.map((queue) => queue.getJobCounts('active', 'waiting', 'prioritized')));
    return counts.every((count) => (count['active'] ?? 0) + (count['waiting'] ?? 0) + (count['prioritized'] ?? 0) === 0);
  });
}

describe('retention, complete: nothing of a day past RETENTION_DAYS is left in Redis', () => {
  it('when a day of every kind of message is 181 days past with RETENTION_DAYS=180, the purge leaves no key written that day, and what the new day wrote stays', async () => {
    const clock = fixedClock(Date.now());
    const gateway = await startTestGateway({ clock, env: { RETENTION_DAYS: '180' } });
    const redis = new Redis(testRedisUrl());
    const namespace = gateway.config.redis.namespace;
    try {
      const day = futureDay({ open: true, daysAhead: 2 }, clock.now());
      const { province, simulator, changsha, changshaSimulator } = gateway;

      // the province: an apply, its change, a cancel of the change, a query, an exception, a refused notify
      const apply = applyData({ start: at(day, '09:00'), end: at(day, '10:00'), SEAT_COUNT: 3 });
      await province.send('apply', apply);
      await simulator.waitForNotify(apply.SERIES_NUMBER);
      // the same apply pushed again under a new DATAUUID: a repeat, answered from the first
      expect((await province.send('apply', apply)).status).to.equal(200);
      const change = { ...applyData({ start: at(day, '10:00'), end: at(day, '11:00'), SEAT_COUNT: 3 }), SERIES_NUMBER: seriesNumber('BG'), ORIGINAL_SERIES_NUMBER: apply.SERIES_NUMBER, REMARK: '评标时间调整' };
      await province.send('change', change);
      await simulator.waitForNotify(change.SERIES_NUMBER);
      const cancel = { SERIES_NUMBER: seriesNumber('QX'), ORIGINAL_SERIES_NUMBER: change.SERIES_NUMBER, REMARK: '招标人申请延期' };
      await province.send('cancel', cancel);
      await simulator.waitForNotify(cancel.SERIES_NUMBER);
      const queried = applyData({ start: at(day, '13:00'), end: at(day, '14:00'), SEAT_COUNT: 2 });
      await province.send('apply', queried);
      const first = await simulator.waitForNotify(queried.SERIES_NUMBER);
      expect((await province.send('query', { SERIES_NUMBER: queried.SERIES_NUMBER })).status).to.equal(200);
      await simulator.waitForNotify(queried.SERIES_NUMBER, (message) => message !== first);
      const raised = await axios.post(`${gateway.url}/api/v1/exceptions`, { seriesNumber: queried.SERIES_NUMBER, type: 'ROOM_FAULT', description: '视频终端故障', occurredAt: iso(day, '13:30') }, { headers });
      expect(raised.status).to.equal(202);
      await waitFor(() => Promise.resolve(simulator.received.some((message) => message.operation === 'exception')));
      simulator.failNext('refuse');
      const refused = applyData({ start: at(day, '15:00'), end: at(day, '16:00'), SEAT_COUNT: 2 });
      await province.send('apply', refused);
      await waitFor(async () => (await gateway.runtime.deadLetters.list()).length > 0);

      // Changsha as guest: requested, confirmed, a session status; another requested and released
      const booked = slotRequestedData({ start: iso(day, '09:00'), end: iso(day, '12:00'), seats: 4 });
      await changsha.send('slot.requested', booked);
      const offer = await changshaSimulator.waitForEvent(of('slot.offered', booked.requestId));
      const confirmed = await changsha.send('slot.confirmed', { requestId: booked.requestId, offerId: (offer.data as { offerId: string }).offerId });
      await waitForStage(gateway.runtime, trackingIdOf(confirmed), 'decision');
      const status = await changsha.sessionStatus(booked.requestId, 'started', ms(day, '09:00'));
      await waitForStage(gateway.runtime, trackingIdOf(status), 'lifecycle');
      const released = slotRequestedData({ start: iso(day, '14:00'), end: iso(day, '15:00'), seats: 2 });
      await changsha.send('slot.requested', released);
      await changshaSimulator.waitForEvent(of('slot.offered', released.requestId));
      const release = await changsha.send('slot.released', { requestId: released.requestId, reason: 'PROJECT_POSTPONED' });
      await waitForStage(gateway.runtime, trackingIdOf(release), 'decision');
      // availability: Changsha's pushed, and Zhuzhou's published after the ledger changed
      await changshaSimulator.waitForEvent((event) => event.eventType === 'availability.published');
      const pushed = await changsha.send('availability.published', { center: '430100', from: iso(day, '00:00'), to: iso(day, '23:00'), rooms: [{ roomId: 'CS-PBS-A1', seats: 9, free: [] }] });
      expect(pushed.status).to.equal(202);

      // Zhuzhou as host: a seat request to Changsha, offered and confirmed
      changshaSimulator.autoRespond('offer', gateway.url);
      const created = await axios.post(
        `${gateway.url}/api/v1/seat-requests`,
        { start: iso(day, '09:00'), end: iso(day, '12:00'), seats: 2, projectCode: 'M4302000260031190001', sectionCode: 'M4302000260031190001001', category: 'municipal', projectName: '株洲市政道路改造工程' },
        { headers },
      );
      const seatRequestId = (created.data as { requestId: string }).requestId;
      await changshaSimulator.waitForEvent(of('slot.confirmed', seatRequestId));
      changshaSimulator.autoRespond('off');

      // a reconciliation run with the province
      await axios.post(`${gateway.url}/api/v1/reconciliations`, {}, { headers });
      await waitFor(async () => ((await axios.get(`${gateway.url}/api/v1/reconciliations`, { headers })).data as { items: ReconciliationRun[] }).items.length > 0);
      await settled(gateway);
      const written = await namespaceKeys(redis, namespace);

      // past retention for all of it, the evaluations' windows included (they are the latest times of that day's data)
      clock.set(ms(day, '23:59') + 181 * DAY);
      const newDay = clock.now();
      const today = futureDay({ open: true, daysAhead: 2 }, clock.now());
      const recent = applyData({ start: at(today, '09:00'), end: at(today, '10:00'), SEAT_COUNT: 3 });
      const publishedBefore = new Set(changshaSimulator.received.filter(({ event }) => event.eventType === 'availability.published').map(({ event }) => event.eventId));
      const recentAnswer = await province.send('apply', recent);
      await simulator.waitForNotify(recent.SERIES_NUMBER);
      // the new day's booking is published after a debounce, as a delayed job settled() does not wait for:
      // its trace and index entries are the new day's, and must not land after the purge looked
      await changshaSimulator.waitForEvent((event) => event.eventType === 'availability.published' && !publishedBefore.has(event.eventId));
      await settled(gateway);

      await purgeExpired(gateway.runtime);

      const left = await namespaceKeys(redis, namespace);
      const recentTracking = (recentAnswer.data as { Data: { TRACKING_NO: string } }).Data.TRACKING_NO;
      // kept on purpose: the latest value of a singleton, rewritten in place (not a day's data)
      // and the occupancy index's own markers (that it is built, the longest booking it holds)
      const latestOnly = [`${namespace}:availability:`, `${namespace}:reconciliation:last`, `${namespace}:stranded-sweeps`, `${namespace}:{ledger}:occ-index:built`, `${namespace}:{ledger}:occ-index:span`];
      const survivors: string[] = [];
      for (const key of written) {
        if (!left.has(key) || latestOnly.some((prefix) => key.startsWith(prefix)) || key.startsWith(`${namespace}:{ops}`)) continue;
        // expires by itself (Redis' own clock, which the test does not move): checked below for statistics
        if ((await redis.pttl(key)) > 0) continue;
        // a time index, occupancy or search set the new day writes to as well: only the new day's entries may be left
        const type = await redis.type(key);
        if (type === 'zset' || type === 'set') {
          const members = type === 'zset' ? await redis.zrange(key, '0', '-1') : await redis.smembers(key);
          // an index member is `<id>\0<tracking number>`; a publication's tracking number is its trace's id, with no time in it
          const publishedOnNewDay = (member: string) => {
            const trace = gateway.runtime.keys.trace(member.split('\u0000')[1] ?? '');
            return left.has(trace) && !written.has(trace);
          };
          const ofNewDay = (member: string) => member.includes(recentTracking) || member.includes(recent.SERIES_NUMBER) || (ulidTime(member) ?? 0) > newDay || publishedOnNewDay(member);
          if (members.every(ofNewDay)) continue;
          survivors.push(`${key} (${members.join(', ')})`);
          continue;
        }
        survivors.push(key);
      }
      expect(survivors, `keys of the purged day left behind:\n${survivors.join('\n')}`).to.deep.equal([]);
      // statistics are not purged: each expires by itself
      const operational = [...left].filter((key) => key.startsWith(`${namespace}:{ops}`));
      const withoutTtl = [];
      for (const key of operational) if ((await redis.pttl(key)) < 0) withoutTtl.push(key);
      expect(withoutTtl, `statistics keys that never expire:\n${withoutTtl.join('\n')}`).to.deep.equal([]);

      expect(await redis.exists(`${namespace}:{in:province}:msg:${recentTracking}`, `${namespace}:trace:${recentTracking}`, `${namespace}:{ledger}:req:province:${recent.SERIES_NUMBER}`)).to.equal(3);
      expect(await gateway.runtime.traces.find('series', recent.SERIES_NUMBER)).to.deep.equal([recentTracking]);
      expect((await gateway.runtime.ledger.bookings()).map((booking) => booking.owner)).to.deep.equal([`province:${recent.SERIES_NUMBER}`]);
    } finally {
      redis.disconnect();
      await gateway.close();
    }
  });
});

describe('retention of structures without a time index before the upgrade, and of host evaluations (stores on real Redis)', () => {
  const namespace = `t-${randomBytes(6).toString('hex')}`;
  const keys = new Keys(namespace);
  let redis: Redis;
  before(() => {
    redis = new Redis(testRedisUrl());
  });
  after(async () => {
    await deleteNamespace(testRedisUrl(), namespace);
    redis.disconnect();
  });

  const seatRequest = (requestId: string, day: string): SeatRequest => ({
    requestId,
    partner: 'changsha',
    state: 'confirmed',
    request: { tenderProjectCode: 'M4302000260031190001', bidSectionCode: 'M4302000260031190001001', projectName: '株洲市政道路改造工程', category: 'municipal', start: `${day}T09:00:00+08:00`, end: `${day}T12:00:00+08:00`, seats: 2, hostCenter: '430200' },
    createdAt: `${day}T08:00:00+08:00`,
    updatedAt: `${day}T08:30:00+08:00`,
  });

  it('when seat requests were stored before their time index existed, the purge finds them by SCAN and removes the old one, with its trace ids, and keeps the recent one', async () => {
    const store = new SeatRequestStore(redis, keys);
    const old = seatRequest(`ZZR-${ulid(Date.parse('2026-01-05T00:00:00Z'))}`, '2026-01-06');
    const recent = seatRequest(`ZZR-${ulid(Date.parse('2026-11-05T00:00:00Z'))}`, '2026-11-06');
    // as a gateway before the upgrade wrote them: the document alone
    for (const document of [old, recent]) await redis.set(keys.seatRequest(document.requestId), JSON.stringify(document));
    const removedTogether: string[] = [];
    const purged = await store.purgeBefore(Date.parse('2026-06-01T00:00:00Z'), 1, async (batch) => {
      removedTogether.push(...batch.map(({ trackingNo, searchIds }) => `${trackingNo} ${searchIds['section'] ?? ''}`));
      await Promise.resolve();
    });
    expect(purged).to.equal(1);
    expect(removedTogether).to.deep.equal([`${old.requestId} M4302000260031190001001`]);
    expect(await store.get(old.requestId)).to.equal(undefined);
    expect((await store.get(recent.requestId))?.state).to.equal('confirmed');
    expect(await redis.zrange(keys.seatRequestsByEnd, '0', '-1')).to.deep.equal([recent.requestId]);
  });

  it('when host evaluations started a day or more before the cutoff, they and their index entries go; a later one stays', async () => {
    const store = new HostEvaluationStore<{ id: string; plan: { start: number } }>(redis, keys);
    const cutoff = Date.parse('2026-06-01T00:00:00Z');
    await store.create({ id: 'HE-old', plan: { start: cutoff - 2 * DAY } });
    await store.create({ id: 'HE-recent', plan: { start: cutoff } });
    expect(await store.purgeBefore(cutoff, 1)).to.equal(1);
    expect(await store.get('HE-old')).to.equal(undefined);
    expect(await store.startingBetween(0, cutoff + DAY)).to.deep.equal([{ id: 'HE-recent', plan: { start: cutoff } }]);
  });
});
