import axios from 'axios';
import { expect } from 'chai';
import { fixedClock } from '../../kernel/clock.ts';
import { jobId } from '../../queues/names.ts';
import { catchUp, startScheduler } from '../../workers/scheduler.ts';
import { createLogger } from '../../kernel/logger.ts';
import { createRuntime } from '../../server/runtime.ts';
import { purgeExpired } from '../../usecases/retention.ts';
import { requeueStranded } from '../../usecases/stranded.ts';
import { planEvaluation } from '../../usecases/hosting/machine.ts';
import { overview } from '../../gateway/dashboard/views/overview.ts';
import type { ReconciliationRun } from '../../stores/reconciliation-runs.ts';
import { at, futureDay } from '../helpers/dates.ts';
import { API_KEY, startTestGateway, testRedisUrl } from '../helpers/gateway.ts';
import { slotRequestedData } from '../simulators/changsha-client.ts';
import { applyData } from '../simulators/province-traffic.ts';
import { Redis } from 'ioredis';

const headers = { 'X-Api-Key': API_KEY };
const DAY = 24 * 3600 * 1000;

async function waitFor(condition: () => Promise<boolean>): Promise<void> {
  while (!(await condition())) await new Promise<void>((resolve) => setImmediate(resolve));
}

describe('reconciliation with the province (GET /schedule, signed)', () => {
  it('when the province holds a request never received, one held differently, and the gateway one the province lacks, processes the first and lists the others', async () => {
    const gateway = await startTestGateway();
    try {
      const day = futureDay({ open: true, daysAhead: 1 });
      const same = applyData({ start: at(day, '09:00'), end: at(day, '11:00'), SEAT_COUNT: 3 });
      const differs = applyData({ start: at(day, '12:00'), end: at(day, '14:00'), SEAT_COUNT: 3 });
      const extra = applyData({ start: at(day, '15:00'), end: at(day, '17:00'), SEAT_COUNT: 3 });
      for (const apply of [same, differs, extra]) {
        await gateway.province.send('apply', apply);
        await gateway.simulator.waitForNotify(apply.SERIES_NUMBER);
      }
      const missed = applyData({ start: at(day, '09:00'), end: at(day, '10:00'), SEAT_COUNT: 2 });
      gateway.simulator.setSchedule(day, [same, { ...differs, SEAT_COUNT: 4 }, missed]);

      const started = await axios.post(`${gateway.url}/api/v1/reconciliations`, {}, { headers });
      expect(started.status).to.equal(202);
      let runs: ReconciliationRun[] = [];
      await waitFor(async () => {
        runs = ((await axios.get(`${gateway.url}/api/v1/reconciliations`, { headers })).data as { items: ReconciliationRun[] }).items;
        return runs.length > 0;
      });
      const [run] = runs;
      expect(run?.errors).to.deep.equal([]);
      expect(run?.days).to.have.length(7);
      expect(run?.days).to.include(day);
      expect(run?.missed).to.deep.equal([missed.SERIES_NUMBER]);
      expect(run?.different.map((difference) => difference.requestId)).to.deep.equal([differs.SERIES_NUMBER]);
      expect(run?.different[0]?.partner.seats).to.equal(4);
      expect(run?.different[0]?.gateway.seats).to.equal(3);
      expect(run?.extra).to.deep.equal([extra.SERIES_NUMBER]);
      expect(gateway.simulator.scheduleCalls).to.have.length(7);
      // the missed request is decided and answered as if it had been pushed
      const notify = await gateway.simulator.waitForNotify(missed.SERIES_NUMBER);
      expect(notify.data['STATUS']).to.equal('1');
    } finally {
      await gateway.close();
    }
  });

  it('when the last reconciliation is older than the catch-up age, starting schedulers enqueue one catch-up run', async () => {
    const gateway = await startTestGateway({ workers: false });
    try {
      await Promise.all([catchUp(gateway.runtime), catchUp(gateway.runtime)]);
      const jobs = (await gateway.runtime.periodicQueue.getJobs(['waiting'])).filter((job) => job.name === 'reconciliation');
      expect(jobs.map((job) => job.id)).to.have.length(1);
      expect(jobs[0]?.id).to.match(/^reconciliation\.catch-up\.\d{10}$/);
    } finally {
      await gateway.close();
    }
  });

  it('when a scheduler starts with a runtime whose connections are not up yet, the catch-up still runs once they are', async () => {
    const gateway = await startTestGateway({ workers: false });
    // a runtime as a process has it at start: connections still connecting
    const starting = createRuntime(gateway.config, { logger: createLogger('error') });
    const scheduler = startScheduler(starting);
    try {
      await waitFor(async () => (await gateway.runtime.periodicQueue.getJobs(['waiting'])).some((job) => job.name === 'reconciliation'));
    } finally {
      await scheduler.stop();
      await starting.close();
      await gateway.close();
    }
  });

  it('when a reconciliation ran recently, starting a scheduler enqueues none', async () => {
    const gateway = await startTestGateway({ workers: false });
    try {
      await gateway.runtime.redis.set(`${gateway.config.redis.namespace}:reconciliation:last`, String(Date.now() - 3600 * 1000));
      await catchUp(gateway.runtime);
      expect((await gateway.runtime.periodicQueue.getJobs(['waiting'])).filter((job) => job.name === 'reconciliation')).to.deep.equal([]);
    } finally {
      await gateway.close();
    }
  });
});

describe('retention', () => {
  it('when the purge runs, only records, traces, index entries, dead letters and host evaluations older than the retention period go', async () => {
    const clock = fixedClock(Date.now());
    const gateway = await startTestGateway({ clock });
    const redis = new Redis(testRedisUrl());
    try {
      const oldDay = futureDay({ open: true }, clock.now());
      const old = applyData({ start: at(oldDay, '09:00'), end: at(oldDay, '11:00') });
      const oldAnswer = await gateway.province.send('apply', old);
      await gateway.simulator.waitForNotify(old.SERIES_NUMBER);
      await gateway.runtime.deadLetters.add({ queue: 'inbound', jobName: 'process', jobId: 'x', data: {}, partner: 'province', trackingNo: 'old', reason: 'test', attempts: 1 });
      const hosted = (id: string, start: number) =>
        planEvaluation(id, { start, end: start + 3_600_000, hostSeats: 2, guests: [{ center: '430300', seats: 2 }] }, () => 'province', clock.now(), { decisionDeadlineMs: 7_200_000, confirmMarginMs: 120_000 }).evaluation;
      const hostedRecord = (id: string, start: number) => ({ ...hosted(id, start), details: {}, outbox: [], createdAt: clock.now(), updatedAt: clock.now() });
      await gateway.runtime.hostEvaluations.create(hostedRecord('HE-old', clock.now() + DAY));

      clock.advance(100 * DAY);
      const recentDay = futureDay({ open: true }, clock.now());
      const recent = applyData({ start: at(recentDay, '09:00'), end: at(recentDay, '11:00') });
      const recentAnswer = await gateway.province.send('apply', recent);
      await gateway.simulator.waitForNotify(recent.SERIES_NUMBER);
      await gateway.runtime.deadLetters.add({ queue: 'inbound', jobName: 'process', jobId: 'y', data: {}, partner: 'province', trackingNo: 'recent', reason: 'test', attempts: 1 });
      await gateway.runtime.hostEvaluations.create(hostedRecord('HE-recent', clock.now() + DAY));

      // 200 days after the first: its record, its dead letter and its booking (two weeks later) are all past 180 days
      clock.advance(100 * DAY);
      const outcome = await purgeExpired(gateway.runtime);
      expect(outcome).to.include({ messages: 1, deadLetters: 1, bookings: 1, hostEvaluations: 1 });
      expect([await gateway.runtime.hostEvaluations.get('HE-old'), (await gateway.runtime.hostEvaluations.get('HE-recent'))?.id]).to.deep.equal([undefined, 'HE-recent']);
      const ns = gateway.config.redis.namespace;
      const oldTracking = (oldAnswer.data as { Data: { TRACKING_NO: string } }).Data.TRACKING_NO;
      const recentTracking = (recentAnswer.data as { Data: { TRACKING_NO: string } }).Data.TRACKING_NO;
      expect(await redis.exists(`${ns}:{in:province}:msg:${oldTracking}`, `${ns}:trace:${oldTracking}`, `${ns}:{in:province}:rid:${old.SERIES_NUMBER}`)).to.equal(0);
      expect(await gateway.runtime.traces.find('series', old.SERIES_NUMBER)).to.deep.equal([]);
      expect(await gateway.runtime.traces.find('series', recent.SERIES_NUMBER)).to.deep.equal([recentTracking]);
      expect(await redis.exists(`${ns}:{in:province}:msg:${recentTracking}`, `${ns}:trace:${recentTracking}`, `${ns}:{in:province}:rid:${recent.SERIES_NUMBER}`)).to.equal(3);
      expect((await gateway.runtime.deadLetters.list()).map((letter) => letter.trackingNo)).to.deep.equal(['recent']);
      expect((await gateway.runtime.ledger.bookings()).map((booking) => booking.owner)).to.deep.equal([`province:${recent.SERIES_NUMBER}`]);
    } finally {
      redis.disconnect();
      await gateway.close();
    }
  });
});

describe('exceptions to the province', () => {
  it('when an operator raises an exception for a booked request, the province receives it signed, and the request trace shows it', async () => {
    const gateway = await startTestGateway();
    try {
      const day = futureDay({ open: true });
      const apply = applyData({ start: at(day, '09:00'), end: at(day, '11:00') });
      await gateway.province.send('apply', apply);
      await gateway.simulator.waitForNotify(apply.SERIES_NUMBER);
      const response = await axios.post(
        `${gateway.url}/api/v1/exceptions`,
        { seriesNumber: apply.SERIES_NUMBER, type: 'ROOM_FAULT', description: '视频终端故障', occurredAt: '2026-12-03T09:30:00+08:00' },
        { headers },
      );
      expect(response.status).to.equal(202);
      const received = await new Promise<{ data: Record<string, unknown>; signatureValid: boolean }>((resolve) => {
        const found = gateway.simulator.received.find((message) => message.operation === 'exception');
        if (found) resolve(found);
        else gateway.simulator.on('message', (message: { operation: string; data: Record<string, unknown>; signatureValid: boolean }) => message.operation === 'exception' && resolve(message));
      });
      expect(received.signatureValid).to.equal(true);
      expect(received.data).to.deep.equal({ SERIES_NUMBER: apply.SERIES_NUMBER, AREA_CODE: '430200', EXCEPTION_TYPE: 'ROOM_FAULT', DESCRIPTION: '视频终端故障', OCCURRED_TIME: '20261203093000' });
      const trace = (await axios.get(`${gateway.url}/api/v1/messages?series=${apply.SERIES_NUMBER}`, { headers })).data as { items: { trace: { stage: string }[] }[] };
      expect(trace.items[0]?.trace.map((entry) => entry.stage)).to.include('exception-raised');
    } finally {
      await gateway.close();
    }
  });

  it('when the request is unknown or not booked, answers 404 or 409', async () => {
    const gateway = await startTestGateway();
    try {
      const closed = futureDay({ open: false });
      const rejected = applyData({ start: at(closed, '09:00'), end: at(closed, '11:00') });
      await gateway.province.send('apply', rejected);
      await gateway.simulator.waitForNotify(rejected.SERIES_NUMBER);
      const body = (seriesNumber: string) => ({ seriesNumber, type: 'OTHER', description: 'x', occurredAt: '2026-12-03T09:30:00+08:00' });
      const unknown = await axios.post(`${gateway.url}/api/v1/exceptions`, body('SQ20261203093000999999'), { headers, validateStatus: () => true });
      const notBooked = await axios.post(`${gateway.url}/api/v1/exceptions`, body(rejected.SERIES_NUMBER), { headers, validateStatus: () => true });
      expect([unknown.status, notBooked.status]).to.deep.equal([404, 409]);
    } finally {
      await gateway.close();
    }
  });
});

describe('hold sweep behind the delayed expiry jobs', () => {
  it('when a lapsed hold lost its expiry job, the sweep releases it and tells Changsha', async () => {
    const clock = fixedClock(Date.now());
    const gateway = await startTestGateway({ clock });
    try {
      const day = futureDay({ open: true });
      const data = slotRequestedData({ start: `${day.slice(0, 4)}-${day.slice(4, 6)}-${day.slice(6, 8)}T09:00:00+08:00`, end: `${day.slice(0, 4)}-${day.slice(4, 6)}-${day.slice(6, 8)}T10:00:00+08:00` });
      await gateway.changsha.send('slot.requested', data);
      const offer = await gateway.changshaSimulator.waitForEvent((event) => event.eventType === 'slot.offered' && (event.data as { requestId: string }).requestId === data.requestId);
      const offerId = (offer.data as { offerId: string }).offerId;
      expect(await gateway.runtime.inboundQueue.remove(jobId('expiry', 'changsha', data.requestId, offerId))).to.equal(1);
      clock.advance(31 * 60 * 1000);
      await gateway.runtime.periodicQueue.add('hold-sweep', {});
      const released = await gateway.changshaSimulator.waitForEvent((event) => event.eventType === 'slot.released' && (event.data as { requestId: string }).requestId === data.requestId);
      expect(released.data).to.deep.equal({ requestId: data.requestId, reason: 'HOLD_EXPIRED' });
      expect(await gateway.runtime.ledger.bookings()).to.deep.equal([]);
    } finally {
      await gateway.close();
    }
  });
});

describe('stranded sweep: accepted messages whose inbound job was removed', () => {
  it('when an accepted apply lost its job, the sweep queues it again after the bound, counts it on the overview and in /metrics, and the province is answered', async () => {
    const clock = fixedClock(Date.now());
    const gateway = await startTestGateway({ clock });
    try {
      // the worker must not take the job before it is removed, as an operator clearing the board would
      await gateway.runtime.inboundQueue.pause();
      const day = futureDay({ open: true });
      const apply = applyData({ start: at(day, '09:00'), end: at(day, '12:00') });
      expect((await gateway.province.send('apply', apply)).status).to.equal(200);
      const [job] = await gateway.runtime.inboundQueue.getJobs(['wait']);
      const trackingNo = job?.id ?? '';
      expect(await gateway.runtime.inboundQueue.remove(trackingNo)).to.equal(1);

      // within the bound a job may still be on its way: nothing is touched
      clock.advance(5 * 60 * 1000);
      expect(await requeueStranded(gateway.runtime)).to.deep.equal({ checked: 0, requeued: 0 });
      clock.advance(11 * 60 * 1000);
      expect(await requeueStranded(gateway.runtime)).to.deep.equal({ checked: 1, requeued: 1 });
      // its job exists again: the next sweep leaves it alone
      expect(await gateway.runtime.inboundQueue.getJobState(trackingNo)).to.equal('waiting');
      expect(await requeueStranded(gateway.runtime)).to.deep.equal({ checked: 1, requeued: 0 });

      const view = await overview(gateway.runtime);
      expect(view.stranded).to.include({ requeuedTotal: 1, lastRequeued: 1 });
      expect(view.reasons.map((reason) => reason.code)).to.include('STRANDED_REQUEUED');
      const metrics = await axios.get<string>(`${gateway.url}/metrics`, { headers });
      expect(metrics.data).to.match(/^zzgw_stranded_requeued_total 1$/m);

      await gateway.runtime.inboundQueue.resume();
      const notify = await gateway.simulator.waitForNotify(apply.SERIES_NUMBER);
      expect(notify.data['STATUS']).to.equal('1');
      await waitFor(async () => (await gateway.runtime.messages.state('province', trackingNo)) === 'processed');
      expect((await gateway.runtime.traces.read(trackingNo)).map((entry) => entry.stage)).to.include('requeued-stranded');
    } finally {
      await gateway.runtime.inboundQueue.resume();
      await gateway.close();
    }
  });

  it('when a message\'s job was handed to operators, its record is dead-lettered and the sweep does not queue it again', async () => {
    const clock = fixedClock(Date.now());
    const gateway = await startTestGateway({ clock });
    try {
      const day = futureDay({ open: true });
      const apply = applyData({ start: at(day, '09:00'), end: at(day, '12:00') });
      await gateway.runtime.inboundQueue.pause();
      expect((await gateway.province.send('apply', apply)).status).to.equal(200);
      const [job] = await gateway.runtime.inboundQueue.getJobs(['wait']);
      const trackingNo = job?.id ?? '';
      // its body can no longer be read: the job fails for good and goes to the dead letters
      const redis = new Redis(testRedisUrl());
      await redis.hdel(gateway.runtime.keys.intake('province').record(trackingNo), 'operation');
      redis.disconnect();
      await gateway.runtime.inboundQueue.resume();
      await waitFor(async () => (await gateway.runtime.messages.state('province', trackingNo)) === 'dead-lettered');
      // the record is marked before the job is failed: an active job cannot be removed
      await waitFor(async () => (await gateway.runtime.inboundQueue.getJobState(trackingNo)) === 'failed');
      expect(await gateway.runtime.inboundQueue.remove(trackingNo)).to.equal(1);
      clock.advance(16 * 60 * 1000);
      expect(await requeueStranded(gateway.runtime)).to.deep.equal({ checked: 0, requeued: 0 });
    } finally {
      await gateway.close();
    }
  });
});
