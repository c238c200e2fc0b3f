import { once } from 'node:events';
import type { Job } from 'bullmq';
import { expect } from 'chai';
import { fixedClock } from '../../kernel/clock.ts';
import { outboundJobOptions, type OutboundJobs } from '../../queues/catalog.ts';
import { at, futureDay } from '../helpers/dates.ts';
import { startTestGateway, waitForDelivered, type TestGateway } from '../helpers/gateway.ts';
import { applyData } from '../simulators/province-traffic.ts';

interface Entry {
  stage: string;
  kind?: string;
  attempt?: number;
  direct?: boolean;
  reason?: string;
  messageId?: string;
}

/** Sends an apply for the window; its tracking number and SERIES_NUMBER. */
async function sendApply(gateway: TestGateway, start: string, end: string): Promise<{ trackingNo: string; series: string }> {
  const apply = applyData({ start, end });
  const response = await gateway.province.send('apply', apply);
  expect(response.status).to.equal(200);
  return { trackingNo: (response.data as { Data: { TRACKING_NO: string } }).Data.TRACKING_NO, series: apply.SERIES_NUMBER };
}

async function traceOf(gateway: TestGateway, trackingNo: string): Promise<Entry[]> {
  return gateway.runtime.traces.read(trackingNo);
}

const attempts = (trace: Entry[]) => trace.filter((entry) => entry.stage === 'delivery-attempt').map(({ attempt, kind, direct }) => ({ attempt, kind, direct: direct === true }));

describe('answers delivered directly by the deciding worker (real Redis, province simulator over HTTP)', () => {
  const day = futureDay({ open: true });

  describe('with the default settings', () => {
    let gateway: TestGateway;
    before(async () => {
      gateway = await startTestGateway({ env: { PROVINCE_BREAKER_HALF_OPEN_MS: '60000' } });
    });
    after(async () => {
      await gateway.close();
    });

    it('when the province answers at once, the notify goes out from the deciding job and no outbound job is ever made', async () => {
      const { trackingNo, series } = await sendApply(gateway, at(day, '09:00'), at(day, '10:00'));
      const notify = await gateway.simulator.waitForNotify(series);
      await waitForDelivered(gateway.runtime, trackingNo);
      const trace = await traceOf(gateway, trackingNo);
      expect(trace.map((entry) => entry.stage)).to.include.members(['decision', 'answer-sent', 'delivery-attempt']);
      expect(trace.map((entry) => entry.stage)).not.to.include('answer-queued');
      expect(attempts(trace)).to.deep.equal([{ attempt: 1, kind: 'delivered', direct: true }]);
      expect(await gateway.runtime.outboundQueues.province.getJob(notify.validation.DATAUUID)).to.equal(undefined);
      expect(await gateway.runtime.traces.find('messageId', notify.validation.DATAUUID)).to.deep.equal([trackingNo]);
    });

    it('when the direct attempt fails, the outbound queue makes the next attempts, counted on from 1, and later answers are queued for a while', async () => {
      gateway.simulator.failNext('http-500');
      const first = await sendApply(gateway, at(day, '10:30'), at(day, '11:30'));
      const notify = await gateway.simulator.waitForNotify(first.series);
      await waitForDelivered(gateway.runtime, first.trackingNo);
      const trace = await traceOf(gateway, first.trackingNo);
      expect(attempts(trace)).to.deep.equal([
        { attempt: 1, kind: 'retry', direct: true },
        { attempt: 2, kind: 'delivered', direct: false },
      ]);
      expect(trace.map((entry) => entry.stage).filter((stage) => stage.startsWith('answer') || stage === 'delivery-attempt')).to.deep.equal([
        'answer-sent',
        'delivery-attempt',
        'answer-queued',
        'delivery-attempt',
      ]);
      const job = (await gateway.runtime.outboundQueues.province.getJob(notify.validation.DATAUUID)) as Job<OutboundJobs['deliver']> | undefined;
      expect(job?.data.attemptsBefore).to.equal(1);
      // the retry horizon runs from the direct attempt; the job's count of attempts is a bound the horizon comes to first
      expect(job?.data.firstAttemptAt).to.be.a('number').and.be.at.most(job?.timestamp ?? 0);
      expect(job?.opts.attempts).to.equal(outboundJobOptions(gateway.config.partners.province.delivery).attempts);

      // the failure paused direct attempts to the province (for breakerHalfOpenAfterMs, a minute here)
      const second = await sendApply(gateway, at(day, '12:00'), at(day, '13:00'));
      await gateway.simulator.waitForNotify(second.series);
      await waitForDelivered(gateway.runtime, second.trackingNo);
      expect(attempts(await traceOf(gateway, second.trackingNo))).to.deep.equal([{ attempt: 1, kind: 'delivered', direct: false }]);

      // /metrics tells operators which path the answers took: the first test's and this test's first answer directly, its second queued
      const paths = Object.fromEntries((await gateway.runtime.telemetry.metrics.answerPaths.get()).values.map(({ labels, value }) => [`${String(labels.partner)} ${String(labels.path)}`, value]));
      expect(paths).to.deep.equal({ 'province direct': 2, 'province queued': 1 });
    });
  });

  describe('when the province hangs', () => {
    let gateway: TestGateway;
    before(async () => {
      gateway = await startTestGateway({ env: { PROVINCE_DIRECT_TIMEOUT_MS: '150', PROVINCE_TIMEOUT_MS: '5000' } });
    });
    after(async () => {
      await gateway.close();
    });

    it('gives up the direct attempt at its own bound, not the partner timeout, and the queue delivers', async () => {
      gateway.simulator.failNext('hang');
      const { trackingNo, series } = await sendApply(gateway, at(day, '09:00'), at(day, '10:00'));
      await gateway.simulator.waitForNotify(series);
      await waitForDelivered(gateway.runtime, trackingNo);
      const trace = await traceOf(gateway, trackingNo);
      const [direct, queued] = trace.filter((entry) => entry.stage === 'delivery-attempt');
      expect(direct).to.include({ attempt: 1, kind: 'retry', direct: true });
      expect(direct?.reason).to.include('timeout of 150ms');
      expect(queued).to.include({ attempt: 2, kind: 'delivered' });
    });
  });

  describe('when as many direct attempts as allowed are in flight', () => {
    let gateway: TestGateway;
    before(async () => {
      gateway = await startTestGateway({ env: { PROVINCE_DIRECT_MAX_IN_FLIGHT: '1', PROVINCE_DIRECT_TIMEOUT_MS: '60000', PROVINCE_TIMEOUT_MS: '60000' } });
      // the first delivery stays in flight while the second is decided and answered through the queue
      gateway.simulator.slowMs = 5000;
    });
    after(async () => {
      // cuts the slow delivery short, so that the worker has no job in flight to wait for
      await gateway.simulator.stop();
      await gateway.close();
    });

    it('queues the next answer instead of waiting for a slot', async () => {
      gateway.simulator.failNext('slow');
      const inFlight = once(gateway.simulator, 'request');
      const slow = await sendApply(gateway, at(day, '09:00'), at(day, '10:00'));
      await inFlight;
      const next = await sendApply(gateway, at(day, '11:00'), at(day, '12:00'));
      await gateway.simulator.waitForNotify(next.series);
      await waitForDelivered(gateway.runtime, next.trackingNo);
      const trace = await traceOf(gateway, next.trackingNo);
      expect(trace.map((entry) => entry.stage)).to.include('answer-queued');
      expect(attempts(trace)).to.deep.equal([{ attempt: 1, kind: 'delivered', direct: false }]);
      // the slow one is still on its way
      expect(attempts(await traceOf(gateway, slow.trackingNo))).to.deep.equal([]);
    });
  });

  describe('when direct delivery is switched off (PROVINCE_DIRECT_TIMEOUT_MS=0)', () => {
    let gateway: TestGateway;
    before(async () => {
      gateway = await startTestGateway({ env: { PROVINCE_DIRECT_TIMEOUT_MS: '0' } });
    });
    after(async () => {
      await gateway.close();
    });

    it('every answer goes through the outbound queue', async () => {
      const { trackingNo, series } = await sendApply(gateway, at(day, '09:00'), at(day, '10:00'));
      const notify = await gateway.simulator.waitForNotify(series);
      await waitForDelivered(gateway.runtime, trackingNo);
      const trace = await traceOf(gateway, trackingNo);
      expect(trace.map((entry) => entry.stage)).to.include('answer-queued').and.not.include('answer-sent');
      expect(attempts(trace)).to.deep.equal([{ attempt: 1, kind: 'delivered', direct: false }]);
      expect(await gateway.runtime.outboundQueues.province.getJob(notify.validation.DATAUUID)).not.to.equal(undefined);
    });
  });

  describe('on an injected clock', () => {
    let gateway: TestGateway;
    const clock = fixedClock(Date.now());
    before(async () => {
      gateway = await startTestGateway({ clock, env: { PROVINCE_BREAKER_HALF_OPEN_MS: '60000' } });
    });
    after(async () => {
      await gateway.close();
    });

    it('after a failed direct attempt, answers are queued until the pause has passed, then go directly again', async () => {
      gateway.simulator.failNext('http-500');
      const failed = await sendApply(gateway, at(day, '09:00'), at(day, '10:00'));
      await gateway.simulator.waitForNotify(failed.series);
      const paused = await sendApply(gateway, at(day, '10:30'), at(day, '11:00'));
      await gateway.simulator.waitForNotify(paused.series);
      await waitForDelivered(gateway.runtime, paused.trackingNo);
      expect(attempts(await traceOf(gateway, paused.trackingNo))).to.deep.equal([{ attempt: 1, kind: 'delivered', direct: false }]);

      clock.advance(60_001);
      const resumed = await sendApply(gateway, at(day, '11:30'), at(day, '12:00'));
      await gateway.simulator.waitForNotify(resumed.series);
      await waitForDelivered(gateway.runtime, resumed.trackingNo);
      expect(attempts(await traceOf(gateway, resumed.trackingNo))).to.deep.equal([{ attempt: 1, kind: 'delivered', direct: true }]);
    });
  });
});
