import { expect } from 'chai';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { fixedClock } from '../../kernel/clock.ts';
import { PendingCounters } from '../../telemetry/pending-counters.ts';
import { HISTORY_MINUTES, HISTORY_TTL_SECONDS, HistorySeries, LATENCY_BUCKETS_MS, latencyBucket, percentile } from '../../telemetry/history.ts';
import { historyQueues, sampleQueueHistory } from '../../usecases/history-sample.ts';

const MINUTE = 60_000;

describe('the overview history: per-minute series over 24 hours (real Redis)', () => {
  let gateway: TestGateway;
  let clock: ReturnType<typeof fixedClock>;
  let counters: PendingCounters;
  let history: HistorySeries;
  /** "now" of each test: 10:30:20 Beijing time, a fresh day per test so the series never mix */
  let day = 0;
  let now = 0;
  /** the index in the read window of the minute `minutesAgo` before now's */
  const index = (minutesAgo: number) => HISTORY_MINUTES - 1 - minutesAgo;

  before(async () => {
    gateway = await startTestGateway({ workers: false });
  });
  after(async () => {
    await gateway.close();
  });
  beforeEach(() => {
    day += 2;
    now = Date.parse('2026-03-02T10:30:20+08:00') + day * 86_400_000;
    clock = fixedClock(now);
    counters = new PendingCounters(gateway.runtime.redis, (error) => {
      throw error;
    });
    history = new HistorySeries({ redis: gateway.runtime.redis, keys: gateway.runtime.keys, clock, counters });
  });

  /** runs `write` with the clock `minutesAgo` minutes before now, then puts it back */
  function at(minutesAgo: number, write: () => void): void {
    clock.set(now - minutesAgo * MINUTE);
    write();
    clock.set(now);
  }

  it('answers and deliveries seeded at known minutes read back as exact per-minute counts of in, out and refused, zero elsewhere', async () => {
    at(10, () => {
      for (let n = 0; n < 3; n += 1) history.answered('province', 200);
      history.answered('province', 400);
      history.answered('province', 401);
      history.answered('province', 503);
    });
    at(5, () => {
      for (let n = 0; n < 4; n += 1) history.delivered('province', 'delivered', 120);
      history.delivered('province', 'retry', 900);
      history.delivered('province', 'refused', 80);
      history.delivered('province', 'circuit-open');
    });
    at(0, () => history.answered('changsha', 200));

    const read = await history.read(['province', 'changsha'], []);
    expect(read.minutes).to.equal(1440);
    expect(read.from).to.equal(new Date(Math.floor(now / MINUTE) * MINUTE - 1439 * MINUTE).toISOString());
    const [province, changsha] = read.partners;
    expect(province?.in[index(10)]).to.equal(3);
    expect(province?.refused[index(10)]).to.equal(3);
    expect(province?.out[index(5)]).to.equal(4);
    expect(province?.in.reduce((a, b) => a + b)).to.equal(3);
    expect(province?.out.reduce((a, b) => a + b)).to.equal(4);
    expect(province?.refused.reduce((a, b) => a + b)).to.equal(3);
    expect(changsha?.in[index(0)]).to.equal(1);
    expect(changsha?.in.reduce((a, b) => a + b)).to.equal(1);
  });

  it('delivery latencies of known values give p50 and p95 as the upper bounds of their buckets, null in minutes without deliveries', async () => {
    at(3, () => {
      for (let n = 0; n < 10; n += 1) history.delivered('province', 'delivered', 40);
      for (let n = 0; n < 8; n += 1) history.delivered('province', 'delivered', 180);
      for (let n = 0; n < 2; n += 1) history.delivered('province', 'refused', 4000);
    });
    at(2, () => history.delivered('province', 'delivered', 60_000));
    const [province] = (await history.read(['province'], [])).partners;
    // 20 latencies: the 10th is 40 ms (bucket ≤ 50), the 19th 4 s (bucket ≤ 5000)
    expect(province?.p50[index(3)]).to.equal(50);
    expect(province?.p95[index(3)]).to.equal(5000);
    // slower than the last bound: read as that bound
    expect(province?.p50[index(2)]).to.equal(30_000);
    expect(province?.p50.filter((value) => value !== null)).to.have.length(2);
    expect(percentile([0, 0, 0], 0.5)).to.equal(null);
    expect(latencyBucket(50)).to.equal(0);
    expect(latencyBucket(51)).to.equal(1);
    expect(latencyBucket(30_001)).to.equal(LATENCY_BUCKETS_MS.length);
  });

  it('the window holds the last 1440 minutes: an event 24 h old is shown first, one a minute older is not', async () => {
    at(1439, () => history.answered('province', 200));
    at(1440, () => {
      history.answered('province', 200);
      history.answered('province', 200);
    });
    const [province] = (await history.read(['province'], [])).partners;
    expect(province?.in).to.have.length(1440);
    expect(province?.in[0]).to.equal(1);
    expect(province?.in.reduce((a, b) => a + b)).to.equal(1);
  });

  it('each series is one hash per hour with one field per minute, expiring 25 h after its last write', async () => {
    // every minute of two hours, several times over
    for (let minutesAgo = 0; minutesAgo < 120; minutesAgo += 1) {
      at(minutesAgo, () => {
        for (let n = 0; n < 5; n += 1) history.answered('province', 200);
        history.delivered('province', 'delivered', 10 + minutesAgo * 100);
      });
    }
    await counters.flush();
    const hour = Math.floor(now / 3_600_000);
    const redis = gateway.runtime.redis;
    // 10:30 back to 08:31: three hours touched, one hash each for in, out and latency; no refusal was written
    const hours = [hour - 2, hour - 1, hour];
    const written = [];
    for (const series of ['in', 'out', 'refused', 'latency'] as const) for (const one of hours) if ((await redis.exists(history.key('p', 'province', series, one))) === 1) written.push(`${series}:${one - hour}`);
    expect(written).to.deep.equal(['in:-2', 'in:-1', 'in:0', 'out:-2', 'out:-1', 'out:0', 'latency:-2', 'latency:-1', 'latency:0']);
    const keys = hours.flatMap((one) => (['in', 'out', 'latency'] as const).map((series) => history.key('p', 'province', series, one)));
    const full = history.key('p', 'province', 'in', hour - 1);
    expect(await redis.hlen(full)).to.equal(60);
    expect(await redis.hget(full, '0')).to.equal('5');
    for (const key of keys) expect(await redis.ttl(key)).to.be.within(HISTORY_TTL_SECONDS - 5, HISTORY_TTL_SECONDS);
    expect(HISTORY_TTL_SECONDS).to.equal(25 * 3600);
    // the bytes a full hour of one count series holds (README "Dashboard", docs/scaling.md)
    const bytes = Number(await redis.call('MEMORY', 'USAGE', full));
    expect(bytes).to.be.below(1024);
  });

  it('queue samples read back at their minute, the last sample of a minute winning, and null for minutes without one', async () => {
    clock.set(now - 3 * MINUTE);
    await history.sampleQueues([{ name: 'inbound', depth: 2, oldestSeconds: 30 }]);
    await history.sampleQueues([
      { name: 'inbound', depth: 7, oldestSeconds: 120 },
      { name: 'periodic', depth: 0, oldestSeconds: null },
    ]);
    clock.set(now);
    const [inbound, periodic] = (await history.read([], ['inbound', 'periodic'])).queues;
    expect(inbound?.depth[index(3)]).to.equal(7);
    expect(inbound?.oldestSeconds[index(3)]).to.equal(120);
    expect(periodic?.depth[index(3)]).to.equal(0);
    expect(periodic?.oldestSeconds[index(3)]).to.equal(0);
    expect(inbound?.depth.filter((value) => value !== null)).to.have.length(1);
    expect(inbound?.depth[index(2)]).to.equal(null);
  });

  it('the sampler writes every queue\'s depth and oldest waiting age at the current minute', async () => {
    const runtime = gateway.runtime;
    await runtime.periodicQueue.add('retention', {}, { delay: 3_600_000 });
    const result = await sampleQueueHistory(runtime);
    const names = historyQueues(runtime).map((queue) => queue.name);
    expect(result.queues).to.equal(names.length);
    const read = await runtime.telemetry.statistics.history.read([], names);
    const periodic = read.queues.find((queue) => queue.name === runtime.periodicQueue.name);
    expect(periodic?.depth.at(-1)).to.equal(1);
    expect(periodic?.oldestSeconds.at(-1)).to.equal(0);
    for (const queue of read.queues) expect(queue.depth.at(-1), queue.name).to.be.a('number');
  });
});
