import { expect } from 'chai';
import axios, { type AxiosResponse } from 'axios';
import type { Job, Worker } from 'bullmq';
import { CircuitState } from 'cockatiel';
import type { Clock } from '../../kernel/clock.ts';
import { type SecurityEvent } from '../../telemetry/statistics.ts';
import { overview } from '../../gateway/dashboard/views/overview.ts';
import { startWorkers, type WorkerSet } from '../../workers/index.ts';
import { at, futureDay } from '../helpers/dates.ts';
import { API_KEY, startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { sample, samples } from '../helpers/prometheus.ts';
import { applyData, seriesNumber } from '../simulators/province-traffic.ts';

async function scrape(gateway: TestGateway): Promise<string> {
  const response = await axios.get<string>(`${gateway.url}/metrics`, { headers: { 'X-Api-Key': API_KEY }, responseType: 'text' });
  expect(response.status).to.equal(200);
  expect(response.headers['content-type']).to.match(/^text\/plain/);
  return response.data;
}

/** Resolves with the first job `worker` completes that matches. */
function nextCompleted(worker: Worker | undefined, predicate: (job: Job) => boolean): Promise<Job> {
  if (!worker) throw new Error('no such worker');
  return new Promise((resolve) => {
    const listener = (job: Job) => {
      if (!predicate(job)) return;
      worker.off('completed', listener);
      resolve(job);
    };
    worker.on('completed', listener);
  });
}

function trackingNoOf(response: AxiosResponse): string {
  return (response.data as { Data: { TRACKING_NO: string } }).Data.TRACKING_NO;
}

describe('operational statistics and /metrics after province traffic (real Redis, real HTTP)', () => {
  let gateway: TestGateway;
  const day = futureDay({ open: true });
  const answers: { kind: string; response: AxiosResponse }[] = [];

  // One round of traffic, read by each test: an accepted apply (carrying a
  // contact name and phone), a bad signature, a repeat, then a burst over the
  // rate limit of 3 a second. At most 3 answers fit in one second, so the three
  // sequential ones are never limited and 10 at once always are, in part.
  before(async () => {
    gateway = await startTestGateway({ workers: false, env: { PROVINCE_RATE_LIMIT: '3' } });
    const envelope = gateway.province.envelope('apply', applyData({ start: at(day, '09:00'), end: at(day, '12:00') }));
    expect(JSON.stringify(envelope)).to.include('28881234').and.include('李明');
    answers.push({ kind: 'accepted', response: await gateway.province.post('apply', envelope) });
    const forged = structuredClone(envelope);
    forged.validation.TOKEN = forged.validation.TOKEN.slice(0, -1) + (forged.validation.TOKEN.endsWith('0') ? '1' : '0');
    answers.push({ kind: 'forged', response: await gateway.province.post('apply', forged) });
    answers.push({ kind: 'repeat', response: await gateway.province.post('apply', envelope) });
    const burst = await Promise.all(Array.from({ length: 10 }, () => gateway.province.send('query', { SERIES_NUMBER: seriesNumber('SQ') })));
    answers.push(...burst.map((response) => ({ kind: 'burst', response })));
  });
  after(async () => {
    await gateway.close();
  });

  const statuses = () => answers.map(({ response }) => response.status);
  const requestIdOf = (kind: string) => String(answers.find((answer) => answer.kind === kind)?.response.headers['x-request-id']);

  it('answers the traffic as the spec says: 200, 401, the first answer again, and some 429', () => {
    expect(statuses().slice(0, 3)).to.deep.equal([200, 401, 200]);
    expect(answers[2]?.response.data).to.deep.equal(answers[0]?.response.data);
    expect(statuses().filter((status) => status === 429)).to.have.length.of.at.least(1);
  });

  it('when scraped with the API key, /metrics counts every answer by partner, status and code', async () => {
    const text = await scrape(gateway);
    const count = (status: string, code: string) => sample(text, 'zzgw_partner_requests_total', { partner: 'province', status, code });
    expect(count('200', 'ACCEPTED')).to.equal(1);
    expect(count('200', 'REPEATED')).to.equal(1);
    expect(count('401', 'UNAUTHENTICATED')).to.equal(1);
    expect(count('429', 'RATE_LIMITED')).to.equal(statuses().filter((status) => status === 429).length);
    const total = samples(text, 'zzgw_partner_requests_total').reduce((sum, { value }) => sum + value, 0);
    expect(total).to.equal(answers.length);
  });

  it('when scraped with no worker running, /metrics shows the accepted message waiting in the inbound queue, and its age', async () => {
    const text = await scrape(gateway);
    expect(sample(text, 'zzgw_queue_jobs', { queue: 'inbound', state: 'waiting' })).to.equal(1);
    expect(sample(text, 'zzgw_queue_jobs', { queue: 'outbound-province', state: 'waiting' })).to.equal(0);
    expect(sample(text, 'zzgw_queue_oldest_waiting_seconds', { queue: 'inbound' })).to.be.greaterThan(0);
    expect(sample(text, 'zzgw_queue_oldest_waiting_seconds', { queue: 'outbound-province' })).to.equal(0);
    expect(sample(text, 'zzgw_metrics_collector_up', { collector: 'queues' })).to.equal(1);
    expect(sample(text, 'zzgw_metrics_collector_up', { collector: 'ledger' })).to.equal(1);
  });

  it('when scraped without the API key, or with a wrong one, /metrics answers 401; a Bearer of the key is let in', async () => {
    const none = await axios.get(`${gateway.url}/metrics`, { validateStatus: () => true });
    expect(none.status).to.equal(401);
    const wrong = await axios.get(`${gateway.url}/metrics`, { headers: { 'X-Api-Key': `${API_KEY}x` }, validateStatus: () => true });
    expect(wrong.status).to.equal(401);
    const bearer = await axios.get(`${gateway.url}/metrics`, { headers: { Authorization: `Bearer ${API_KEY}` }, validateStatus: () => true });
    expect(bearer.status).to.equal(200);
  });

  it('partnerStats gives the last message in and the error rate of the last 15 minutes and hour', async () => {
    const stats = await gateway.runtime.telemetry.statistics.partnerStats();
    const province = stats.find((entry) => entry.partner === 'province');
    expect(province?.lastIn).to.be.a('string');
    expect(Date.now() - Date.parse(province?.lastIn ?? '')).to.be.within(0, 60_000);
    expect(province?.lastOut).to.equal(null);
    const errors = statuses().filter((status) => status >= 400).length;
    for (const window of [province?.last15m, province?.last1h]) {
      expect(window?.answers).to.deep.equal({ total: answers.length, '2xx': 2, '4xx': errors, '5xx': 0 });
      expect(window?.errorRate).to.be.closeTo(errors / answers.length, 1e-9);
    }
    expect(stats.find((entry) => entry.partner === 'changsha')?.last1h).to.include({ errorRate: null });
  });

  it('securityEvents lists the bad signature, the replay and the rate limiting, with request ids and no personal data', async () => {
    const events = await gateway.runtime.telemetry.statistics.securityEvents({ limit: 100 });
    const byKind = (kind: SecurityEvent['kind']) => events.filter((event) => event.kind === kind);
    expect(byKind('signature')).to.have.length(1);
    expect(byKind('signature')[0]).to.include({ partner: 'province', status: 401, code: 'UNAUTHENTICATED', requestId: requestIdOf('forged'), remoteAddress: '127.0.0.1' });
    expect(byKind('replay')).to.have.length(1);
    expect(byKind('replay')[0]).to.include({ status: 200, code: 'REPEATED', requestId: requestIdOf('repeat') });
    expect(byKind('rate-limit')).to.have.length(statuses().filter((status) => status === 429).length);
    expect(byKind('rejected').map((event) => event.status)).to.satisfy((seen: number[]) => seen.every((status) => status === 404));
    // a refusal names its request as kept sealed for the lab (stores/refused-requests.ts); a replay or a 429 keeps none
    expect(events.map((event) => [event.kind, Object.keys(event).sort().join()])).to.satisfy((keys: [string, string][]) =>
      keys.every(([kind, names]) => names === (kind === 'signature' || kind === 'rejected' ? 'at,code,kind,partner,refused,remoteAddress,requestId,status' : 'at,code,kind,partner,remoteAddress,requestId,status')),
    );

    const stored = await gateway.runtime.redis.lrange(gateway.runtime.keys.stats.securityEvents, 0, -1);
    expect(stored).to.have.length(events.length);
    for (const text of [...stored, JSON.stringify(events)]) {
      expect(text).to.not.include('28881234');
      expect(text).to.not.include('李明');
      expect(text).to.not.include('TENDER_AGENT');
    }
  });

  it('securityEvents filters by kind and partner and honours the limit, newest first', async () => {
    expect(await gateway.runtime.telemetry.statistics.securityEvents({ kind: 'signature', limit: 10 })).to.have.length(1);
    expect(await gateway.runtime.telemetry.statistics.securityEvents({ partner: 'changsha', limit: 10 })).to.deep.equal([]);
    const two = await gateway.runtime.telemetry.statistics.securityEvents({ limit: 2 });
    expect(two).to.have.length(2);
    expect(Date.parse(two[0]?.at ?? '')).to.be.at.least(Date.parse(two[1]?.at ?? ''));
    const counts = await gateway.runtime.telemetry.statistics.securityDailyCounts({ days: 1 });
    expect(counts.find((count) => count.partner === 'province' && count.kind === 'signature')?.count).to.equal(1);
    expect(counts.find((count) => count.partner === 'province' && count.kind === 'replay')?.count).to.equal(1);
  });
});

describe('/readyz', () => {
  let gateway: TestGateway;

  beforeEach(async () => {
    gateway = await startTestGateway({ workers: false });
  });
  afterEach(async () => {
    await gateway.close();
  });

  it('when no worker serves the inbound queue, answers 503 naming the failed check; once one runs, 200', async () => {
    const before = await axios.get(`${gateway.url}/readyz`, { validateStatus: () => true });
    expect(before.status).to.equal(503);
    expect(before.data).to.deep.equal({ status: 'no inbound worker', checks: { redis: 'ok', inboundWorkers: 0 } });

    const workers = gateway.startWorkers();
    await Promise.all(workers.workers.map((worker) => worker.waitUntilReady()));
    const after = await axios.get(`${gateway.url}/readyz`, { validateStatus: () => true });
    expect(after.status).to.equal(200);
    expect(after.data).to.deep.include({ status: 'ready' });
    expect((after.data as { checks: { inboundWorkers: number } }).checks.inboundWorkers).to.be.at.least(1);
    expect((await axios.get(`${gateway.url}/healthz`)).data).to.deep.equal({ status: 'ok' });
  });

  it('when REDIS_WAIT_REPLICAS asks for a replica the Redis does not have, answers 503 naming the replicas, workers or not; the overview says so in red', async () => {
    const waiting = await startTestGateway({ env: { REDIS_WAIT_REPLICAS: '1', REDIS_WAIT_TIMEOUT_MS: '100' } });
    try {
      await Promise.all(waiting.workers?.workers.map((worker) => worker.waitUntilReady()) ?? []);
      const answer = await axios.get(`${waiting.url}/readyz`, { validateStatus: () => true });
      expect(answer.status).to.equal(503);
      expect(answer.data).to.deep.include({ status: '0 of 1 Redis replicas' });
      expect((answer.data as { checks: object }).checks).to.deep.include({ redis: 'ok', replicas: { connected: 0, required: 1 } });
      const summary = await overview(waiting.runtime);
      expect(summary.health).to.equal('red');
      expect(summary.reasons.find((reason) => reason.code === 'REPLICAS_MISSING')?.zh).to.include('0 / 1');
    } finally {
      await waiting.close();
    }
  });
});

describe('delivery and circuit breaker statistics (workers, province simulator)', () => {
  let gateway: TestGateway;
  // The ledger gauge covers today and the next 7 days: the gateway's clock runs
  // from noon of the day before the booked day, so the booking is always in it.
  const day = futureDay({ open: true, daysAhead: 1 });
  const dayIso = `${day.slice(0, 4)}-${day.slice(4, 6)}-${day.slice(6, 8)}`;
  const shift = Date.parse(`${dayIso}T12:00:00+08:00`) - 24 * 3600 * 1000 - Date.now();
  const clock: Clock = { now: () => Date.now() + shift };

  beforeEach(async () => {
    gateway = await startTestGateway({ clock, env: { PROVINCE_BREAKER_FAILURES: '2', PROVINCE_BREAKER_HALF_OPEN_MS: '60000' } });
  });
  afterEach(async () => {
    await gateway.close();
  });

  const workerOf = (set: WorkerSet | undefined, queue: string) => set?.workers.find((worker) => worker.name === queue);

  it('after a delivery, the delivery counter, job durations, lastOut and the ledger gauge move', async () => {
    const apply = applyData({ start: at(day, '09:00'), end: at(day, '12:00') });
    // the deciding job delivers the notify itself (a direct first attempt): no outbound job
    const processed = nextCompleted(workerOf(gateway.workers, 'inbound'), (job) => job.name === 'process');
    const response = await gateway.province.send('apply', apply);
    expect(response.status).to.equal(200);
    const job = await processed;
    expect((job.data as { trackingNo: string }).trackingNo).to.equal(trackingNoOf(response));
    const notify = gateway.simulator.notifiesFor(apply.SERIES_NUMBER)[0];
    expect(notify?.data['STATUS']).to.equal('1');

    const text = await scrape(gateway);
    expect(sample(text, 'zzgw_deliveries_total', { partner: 'province', outcome: 'delivered' })).to.equal(1);
    expect(sample(text, 'zzgw_job_duration_seconds_count', { queue: 'outbound-province', name: 'deliver', outcome: 'completed' })).to.equal(undefined);
    expect(sample(text, 'zzgw_job_duration_seconds_count', { queue: 'inbound', name: 'process', outcome: 'completed' })).to.equal(1);
    expect(sample(text, 'zzgw_breaker_state', { partner: 'province' })).to.equal(0);
    const room = String(notify?.data['EVAL_ROOM_NAME']);
    expect(sample(text, 'zzgw_ledger_bookings', { room, day: dayIso, kind: 'booking' })).to.equal(1);
    const booked = samples(text, 'zzgw_ledger_bookings').filter((entry) => entry.value > 0);
    expect(booked).to.have.length(1);

    const province = (await gateway.runtime.telemetry.statistics.partnerStats()).find((entry) => entry.partner === 'province');
    expect(province?.lastOut).to.be.a('string');
    expect(province?.last15m.deliveries).to.deep.equal({ delivered: 1, retry: 0, refused: 0, 'circuit-open': 0 });
  });

  it('when the province fails as often as PROVINCE_BREAKER_FAILURES, the breaker is reported open in 1 of 2 worker processes', async () => {
    const first = gateway.workers;
    if (!first) throw new Error('workers not started');
    // a second worker set in this process stands for a second worker process
    const second = startWorkers(gateway.runtime);
    try {
      await Promise.all(second.workers.map((worker) => worker.waitUntilReady()));
      const opened = new Promise<WorkerSet>((resolve) => {
        first.breakers.province.onBreak(() => resolve(first));
        second.breakers.province.onBreak(() => resolve(second));
      });
      gateway.simulator.failNext('http-500', 'http-500', 'http-500', 'http-500');
      await gateway.province.send('apply', applyData({ start: at(day, '13:00'), end: at(day, '15:00') }));
      const broken = await opened;

      const province = (await gateway.runtime.telemetry.statistics.breakerStates()).find((entry) => entry.partner === 'province');
      expect(province?.processes).to.have.length(2);
      expect(province?.open).to.be.at.least(1);
      expect((province?.open ?? 0) + (province?.halfOpen ?? 0) + (province?.closed ?? 0)).to.equal(2);
      const changsha = (await gateway.runtime.telemetry.statistics.breakerStates()).find((entry) => entry.partner === 'changsha');
      expect(changsha).to.include({ open: 0, closed: 2 });

      const text = await scrape(gateway);
      expect(sample(text, 'zzgw_deliveries_total', { partner: 'province', outcome: 'retry' })).to.be.at.least(2);
      // /metrics is per process: this one holds both sets, so its gauge follows the last change
      expect(sample(text, 'zzgw_breaker_state', { partner: 'province' })).to.equal(2);
      expect(broken.breakers.province.state).to.equal(CircuitState.Open);
    } finally {
      await second.close();
    }
    // a worker set that stops withdraws its report
    const after = (await gateway.runtime.telemetry.statistics.breakerStates()).find((entry) => entry.partner === 'province');
    expect(after?.processes).to.have.length(1);
  });
});
