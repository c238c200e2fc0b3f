import axios from 'axios';
import type { Job } from 'bullmq';
import { expect } from 'chai';
import { overview } from '../../gateway/dashboard/views/overview.ts';
import { fixedClock } from '../../kernel/clock.ts';
import type { OutboundJobs } from '../../queues/catalog.ts';
import { enqueueDelivery } from '../../usecases/delivery/queue.ts';
import { at, futureDay } from '../helpers/dates.ts';
import { API_KEY, startTestGateway, waitForDelivered, waitForStage, type TestGateway } from '../helpers/gateway.ts';
import type { ReceivedMessage } from '../simulators/province.ts';
import { applyData } from '../simulators/province-traffic.ts';

const HOUR_MS = 3_600_000;
/** what PROVINCE_DELIVERY_ATTEMPTS (12 by default) allowed before a message went to the dead letters */
const OLD_ATTEMPT_BUDGET = 12;

interface Entry {
  stage: string;
  kind?: string;
  attempt?: number;
  retryAfterMs?: number;
  retryAfterAskedMs?: number;
}

/** Sends an apply; its tracking number and SERIES_NUMBER. */
async function sendApply(gateway: TestGateway, day: string, from: string, to: string): Promise<{ trackingNo: string; series: string }> {
  const apply = applyData({ start: at(day, from), end: at(day, to) });
  const response = await gateway.province.send('apply', apply);
  expect(response.status).to.equal(200);
  return { trackingNo: (response.data as { Data: { TRACKING_NO: string } }).Data.TRACKING_NO, series: apply.SERIES_NUMBER };
}

/** Notifies the province simulator refused (any behaviour but ok), counted by SERIES_NUMBER as they come. */
function refusalCounter(gateway: TestGateway) {
  const counts = new Map<string, number>();
  const waiters: { done: () => boolean; resolve: () => void }[] = [];
  gateway.simulator.on('failed', (message: ReceivedMessage) => {
    const series = String(message.data['SERIES_NUMBER']);
    counts.set(series, (counts.get(series) ?? 0) + 1);
    for (const waiter of waiters.splice(0)) {
      if (waiter.done()) waiter.resolve();
      else waiters.push(waiter);
    }
  });
  return {
    of: (series: string) => counts.get(series) ?? 0,
    /** resolves once every one of `series` has been refused at least `times` times */
    atLeast(series: readonly string[], times: number): Promise<void> {
      const done = () => series.every((one) => (counts.get(one) ?? 0) >= times);
      return done() ? Promise.resolve() : new Promise((resolve) => waiters.push({ done, resolve }));
    },
  };
}

async function attemptsOf(gateway: TestGateway, trackingNo: string): Promise<Entry[]> {
  return ((await gateway.runtime.traces.read(trackingNo)) as Entry[]).filter((entry) => entry.stage === 'delivery-attempt');
}

async function scrape(gateway: TestGateway): Promise<string> {
  const response = await axios.get<string>(`${gateway.url}/metrics`, { headers: { 'X-Api-Key': API_KEY }, responseType: 'text' });
  expect(response.status).to.equal(200);
  return response.data;
}

/** Fails the test at the first dead letter, until stopped: the outage must cost none. */
function noDeadLetters(gateway: TestGateway) {
  let watching = true;
  const failed = (async () => {
    while (watching) {
      const [letter] = await gateway.runtime.deadLetters.list(1);
      if (letter && watching) expect.fail(`dead-lettered during the outage: ${letter.trackingNo} ${letter.reason} after ${letter.attempts} attempt(s)`);
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  })();
  return {
    /** resolves with `promise`, or rejects at the first dead letter before it */
    until: <T>(promise: Promise<T>): Promise<T> => Promise.race([promise, failed.then(() => promise)]),
    stop: () => {
      watching = false;
    },
  };
}

/** Polls Redis (no timer) until `read` gives a value that `done` accepts. */
async function until<T>(read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

describe('answers to a partner that is down (real Redis, province simulator over HTTP)', () => {
  const day = futureDay({ open: true });

  describe('when the province asks, with Retry-After, to wait a year', () => {
    let gateway: TestGateway;
    before(async () => {
      gateway = await startTestGateway();
    });
    after(async () => {
      await gateway.close();
    });

    it('the retry waits the backoff maximum instead, the clamped answer is counted in /metrics, and the notify is delivered', async () => {
      gateway.simulator.retryAfter = String(365 * 24 * 3600);
      gateway.simulator.failNext('state-503');
      const { trackingNo, series } = await sendApply(gateway, day, '09:00', '10:00');
      await waitForStage(gateway.runtime, trackingNo, 'answer-queued');
      const queued = (await gateway.runtime.traces.read(trackingNo)).find((entry) => entry.stage === 'answer-queued');
      const job = await gateway.runtime.outboundQueues.province.getJob(String(queued?.['messageId']));
      expect(job?.delay).to.be.within(1, gateway.config.partners.province.delivery.backoffMaxMs);
      await gateway.simulator.waitForNotify(series);
      await waitForDelivered(gateway.runtime, trackingNo);
      const [refused, delivered] = await attemptsOf(gateway, trackingNo);
      expect(refused).to.include({ attempt: 1, kind: 'retry', retryAfterMs: gateway.config.partners.province.delivery.backoffMaxMs, retryAfterAskedMs: 365 * 24 * HOUR_MS });
      expect(delivered).to.include({ attempt: 2, kind: 'delivered' });
      expect(await scrape(gateway)).to.match(/^zzgw_retry_after_clamped_total\{partner="province"\} 1$/m);
    });
  });

  describe('when the province is down longer than the old attempt budget and shorter than the retry horizon', () => {
    const clock = fixedClock(Date.now());
    let gateway: TestGateway;
    before(async () => {
      // 5 failures open the circuit, which tries again after 50 ms: it opens and closes many times over
      gateway = await startTestGateway({ clock });
    });
    after(async () => {
      gateway.simulator.outage = undefined;
      await gateway.close();
    });

    it('every answer is retried through the night, the overview and /metrics say how many wait and since when, and once it is back all are delivered and none dead-lettered', async () => {
      const refusals = refusalCounter(gateway);
      const watch = noDeadLetters(gateway);
      gateway.simulator.outage = 'http-500';
      const sent = [await sendApply(gateway, day, '09:00', '10:00'), await sendApply(gateway, day, '10:30', '11:30'), await sendApply(gateway, day, '13:00', '14:00')];
      const series = sent.map((one) => one.series);
      await watch.until(refusals.atLeast(series, 1));

      // a night and most of a day go by on the gateway's clock, the province still down
      clock.advance(23 * HOUR_MS);
      try {
        await watch.until(refusals.atLeast(series, OLD_ATTEMPT_BUDGET + 1));
      } finally {
        watch.stop();
      }
      expect(await gateway.runtime.deadLetters.list()).to.deep.equal([]);

      const province = (await overview(gateway.runtime)).partners.find((partner) => partner.partner === 'province');
      expect(province?.waitingAnswers).to.deep.include({ count: 3, oldestSeconds: 23 * 3600, capped: false, retryHours: 24 });
      // past half the horizon: red, in words
      expect(province?.reasons.find((reason) => reason.code === 'ANSWERS_WAITING')).to.include({ health: 'red', en: '3 answer(s) to the province waiting to be delivered, the oldest for 23 h 0 min (still undelivered after 24 h, they go to the dead letters)' });
      const metrics = await scrape(gateway);
      expect(metrics).to.match(/^zzgw_answers_waiting\{partner="province"\} 3$/m);
      expect(metrics).to.match(new RegExp(`^zzgw_answers_oldest_waiting_seconds\\{partner="province"\\} ${23 * 3600}$`, 'm'));

      gateway.simulator.outage = undefined;
      for (const one of sent) {
        await gateway.simulator.waitForNotify(one.series);
        await waitForDelivered(gateway.runtime, one.trackingNo);
      }
      expect(await gateway.runtime.deadLetters.list()).to.deep.equal([]);
      for (const one of sent) {
        const attempts = await attemptsOf(gateway, one.trackingNo);
        // every attempt the trace counts reached the province: none was spent on an open circuit
        expect(attempts.map((entry) => entry.kind)).to.deep.equal([...Array<string>(refusals.of(one.series)).fill('retry'), 'delivered']);
        expect(attempts.map((entry) => entry.attempt)).to.deep.equal(attempts.map((_entry, n) => n + 1));
      }
      const circuitWaits = (await gateway.runtime.telemetry.metrics.deliveries.get()).values.find((value) => value.labels.outcome === 'circuit-open')?.value ?? 0;
      expect(circuitWaits, 'calls held back by the open circuit').to.be.greaterThan(0);
      // the last jobs finish a moment after their delivery is traced
      const drained = await until(
        async () => (await overview(gateway.runtime)).partners.find((partner) => partner.partner === 'province')?.waitingAnswers,
        (waiting) => waiting?.count === 0,
      );
      expect(drained).to.deep.include({ count: 0, oldestSince: null, oldestSeconds: null });
    });
  });

  describe('when the province stays down past the retry horizon', () => {
    const clock = fixedClock(Date.now());
    let gateway: TestGateway;
    before(async () => {
      gateway = await startTestGateway({ clock });
    });
    after(async () => {
      gateway.simulator.outage = undefined;
      await gateway.close();
    });

    it('keeps retrying past the old attempt budget, and hands the answer to operators once 24 h have gone by since its first attempt', async () => {
      const refusals = refusalCounter(gateway);
      const watch = noDeadLetters(gateway);
      gateway.simulator.outage = 'http-500';
      const { trackingNo, series } = await sendApply(gateway, day, '09:00', '10:00');
      try {
        await watch.until(refusals.atLeast([series], OLD_ATTEMPT_BUDGET + 1));
      } finally {
        watch.stop();
      }
      expect(await gateway.runtime.deadLetters.list()).to.deep.equal([]);

      clock.advance(24 * HOUR_MS);
      await waitForStage(gateway.runtime, trackingNo, 'dead-lettered');
      const letters = await gateway.runtime.deadLetters.list();
      expect(letters).to.have.length(1);
      expect(letters[0]).to.include({ trackingNo, queue: 'outbound-province' });
      expect(letters[0]?.reason).to.match(/^(DELIVERY_RETRYABLE|CIRCUIT_OPEN): .*; not delivered within the retry horizon of 24 h$/);
      expect(letters[0]?.attempts).to.be.greaterThan(OLD_ATTEMPT_BUDGET);
    });
  });

  describe('while the circuit to the province is open', () => {
    let gateway: TestGateway;
    before(async () => {
      // one failure opens the circuit, for a minute: the queued answer has to wait for it
      gateway = await startTestGateway({ env: { PROVINCE_BREAKER_FAILURES: '1', PROVINCE_BREAKER_HALF_OPEN_MS: '60000' } });
    });
    after(async () => {
      gateway.simulator.outage = undefined;
      await gateway.close();
    });

    it('a queued answer waits for the circuit\'s trial call, delayed without spending an attempt, and is not dead-lettered', async () => {
      gateway.simulator.outage = 'http-500';
      const { trackingNo } = await sendApply(gateway, day, '09:00', '10:00');
      await waitForStage(gateway.runtime, trackingNo, 'answer-queued');
      const queue = gateway.runtime.outboundQueues.province;
      const trialAt = Date.now() + 30_000;
      // the job has been back once from its backoff, found the circuit open and gone to wait for it
      const job = await until(
        async () => (await queue.getJobs(['delayed'])).find((candidate) => candidate.timestamp + candidate.delay > trialAt) as Job<OutboundJobs['deliver']> | undefined,
        (found) => found !== undefined,
      );
      expect(job?.attemptsMade).to.equal(0);
      expect(job?.data.attemptsBefore).to.equal(1);
      expect((await attemptsOf(gateway, trackingNo)).map((entry) => entry.kind)).to.deep.equal(['retry']);
      expect(await gateway.runtime.deadLetters.list()).to.deep.equal([]);
    });
  });

  describe('the overview of answers waiting for a partner', () => {
    const clock = fixedClock(Date.now());
    let gateway: TestGateway;
    before(async () => {
      gateway = await startTestGateway({ clock, workers: false });
    });
    after(async () => {
      await gateway.close();
    });

    it('counts the answers queued for each partner and gives the age of the oldest from its first attempt, in the overview and /metrics', async () => {
      const notify = (messageId: string) => ({ partner: 'province' as const, operation: 'notify', messageId, body: { data: { SERIES_NUMBER: messageId } } });
      await enqueueDelivery(gateway.runtime, notify('m-1'), 't-1');
      clock.advance(HOUR_MS);
      await enqueueDelivery(gateway.runtime, notify('m-2'), 't-2');
      clock.advance(HOUR_MS);

      const data = await overview(gateway.runtime);
      const province = data.partners.find((partner) => partner.partner === 'province');
      expect(province?.waitingAnswers).to.deep.equal({ count: 2, oldestSince: new Date(clock.now() - 2 * HOUR_MS).toISOString(), oldestSeconds: 7200, capped: false, retryHours: 24 });
      expect(province?.reasons.find((reason) => reason.code === 'ANSWERS_WAITING')).to.include({
        health: 'amber',
        zh: '2 条发往省平台的应答等待送达，最早一条已等待 2 小时 0 分钟',
        en: '2 answer(s) to the province waiting to be delivered, the oldest for 2 h 0 min',
      });
      expect(data.partners.find((partner) => partner.partner === 'changsha')?.waitingAnswers).to.deep.include({ count: 0, oldestSince: null });

      const metrics = await scrape(gateway);
      expect(metrics).to.match(/^zzgw_answers_waiting\{partner="province"\} 2$/m);
      expect(metrics).to.match(/^zzgw_answers_oldest_waiting_seconds\{partner="province"\} 7200$/m);
      expect(metrics).to.match(/^zzgw_answers_waiting\{partner="changsha"\} 0$/m);
    });
  });
});
