import { expect } from 'chai';
import axios from 'axios';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { at, futureDay } from '../helpers/dates.ts';
import { API_KEY, INBOUND_SECRET, startGatewayProcess, startTestGateway, stopProcess, testEnv, type TestGateway } from '../helpers/gateway.ts';
import { families, sample, samples } from '../helpers/prometheus.ts';
import { applyData, ProvinceClient } from '../simulators/province-traffic.ts';

/** The gauges read from Redis at scrape time: the whole gateway's figures, exported by api processes only. */
const GATEWAY_WIDE = [
  'zzgw_queue_jobs',
  'zzgw_queue_oldest_waiting_seconds',
  'zzgw_answers_waiting',
  'zzgw_answers_oldest_waiting_seconds',
  'zzgw_stranded_requeued_total',
  'zzgw_ledger_bookings',
  'zzgw_metrics_collector_up',
];

/** How long a scrape is polled for a series the worker counts once its job is done. */
const SERIES_BOUND_MS = 10_000;

async function scrape(url: string): Promise<string> {
  const response = await axios.get<string>(`${url}/metrics`, { headers: { Authorization: `Bearer ${API_KEY}` }, responseType: 'text' });
  expect(response.status).to.equal(200);
  expect(response.headers['content-type']).to.match(/^text\/plain/);
  return response.data;
}

/** Scrapes `url` until `holds` is true of the text (the next scrape as soon as one answers), for at most SERIES_BOUND_MS. */
async function scrapeUntil(url: string, holds: (text: string) => boolean): Promise<string> {
  const deadline = Date.now() + SERIES_BOUND_MS;
  for (;;) {
    const text = await scrape(url);
    if (holds(text)) return text;
    if (Date.now() > deadline) return text;
  }
}

describe('/metrics with the roles in separate processes (api and worker, real Redis, province simulator)', () => {
  let gateway: TestGateway;
  let env: Record<string, string>;
  const children: ChildProcess[] = [];

  beforeEach(async () => {
    // the in-process gateway only provides the simulator, the namespace and its cleanup: nothing of it is scraped
    gateway = await startTestGateway({ workers: false });
    env = { ...testEnv(gateway.config.redis.namespace, gateway.simulator.url, undefined, gateway.changshaSimulator.url), HOST: '127.0.0.1', PORT: '0' };
  });
  afterEach(async () => {
    await Promise.all(children.splice(0).map((child) => stopProcess(child)));
    await gateway.close();
  });

  it('after a province apply, the worker process serves its delivery and job duration on METRICS_PORT, the api process its intake and the Redis gauges, each once', async () => {
    const api = await startGatewayProcess({ ...env, GATEWAY_ROLE: 'api' });
    children.push(api.child);
    const worker = await startGatewayProcess({ ...env, GATEWAY_ROLE: 'worker' });
    children.push(worker.child);
    expect(api.started).to.include({ type: 'listening' });
    expect(worker.started.type).to.equal('ready');
    expect(worker.started.metricsPort).to.be.a('number').and.greaterThan(0);
    const apiUrl = `http://127.0.0.1:${api.started.port}`;
    const workerUrl = `http://127.0.0.1:${worker.started.metricsPort}`;

    const province = new ProvinceClient({ gatewayUrl: apiUrl, secret: INBOUND_SECRET });
    const day = futureDay({ open: true });
    const apply = applyData({ start: at(day, '09:00'), end: at(day, '11:00') });
    expect((await province.send('apply', apply)).status).to.equal(200);
    expect((await gateway.simulator.waitForNotify(apply.SERIES_NUMBER)).data['STATUS']).to.equal('1');

    const delivered = (text: string) => sample(text, 'zzgw_deliveries_total', { partner: 'province', outcome: 'delivered' });
    const processed = (text: string) => sample(text, 'zzgw_job_duration_seconds_count', { queue: 'inbound', name: 'process', outcome: 'completed' });
    const workerText = await scrapeUntil(workerUrl, (text) => (delivered(text) ?? 0) >= 1 && (processed(text) ?? 0) >= 1);
    expect(delivered(workerText)).to.equal(1);
    expect(processed(workerText)).to.equal(1);
    expect(sample(workerText, 'zzgw_answer_paths_total', { partner: 'province', path: 'direct' })).to.equal(1);
    expect(sample(workerText, 'zzgw_breaker_state', { partner: 'province' })).to.equal(0);
    // the worker answered no partner request: that counter is the api's
    expect(samples(workerText, 'zzgw_partner_requests_total')).to.deep.equal([]);

    const apiText = await scrape(apiUrl);
    expect(sample(apiText, 'zzgw_partner_requests_total', { partner: 'province', status: '200', code: 'ACCEPTED' })).to.equal(1);
    // the api process delivers nothing: delivery outcomes are only on the worker's target
    expect(samples(apiText, 'zzgw_deliveries_total')).to.deep.equal([]);
    expect(sample(apiText, 'zzgw_metrics_collector_up', { collector: 'queues' })).to.equal(1);

    // each gateway-wide gauge is declared by exactly one of the two targets: the api's, one sample per label set
    const declared = [...families(apiText), ...families(workerText)];
    for (const name of GATEWAY_WIDE) {
      expect(declared.filter((family) => family === name), name).to.have.length(1);
      expect(families(apiText), name).to.include(name);
      const labelSets = samples(apiText, name).map((entry) => JSON.stringify(entry.labels));
      expect(new Set(labelSets).size, name).to.equal(labelSets.length);
    }
    expect(samples(apiText, 'zzgw_queue_jobs').filter((entry) => entry.labels['queue'] === 'inbound' && entry.labels['state'] === 'waiting')).to.have.length(1);
  });

  it('when scraped without the key, or with a wrong one, the api and the worker metrics listener both answer 401; the worker listener serves /healthz and nothing else', async () => {
    const api = await startGatewayProcess({ ...env, GATEWAY_ROLE: 'api' });
    children.push(api.child);
    const worker = await startGatewayProcess({ ...env, GATEWAY_ROLE: 'worker' });
    children.push(worker.child);
    for (const url of [`http://127.0.0.1:${api.started.port}`, `http://127.0.0.1:${worker.started.metricsPort}`]) {
      expect((await axios.get(`${url}/metrics`, { validateStatus: () => true })).status, url).to.equal(401);
      expect((await axios.get(`${url}/metrics`, { headers: { 'X-Api-Key': `${API_KEY}x` }, validateStatus: () => true })).status, url).to.equal(401);
      expect((await axios.get(`${url}/metrics`, { headers: { 'X-Api-Key': API_KEY }, validateStatus: () => true })).status, url).to.equal(200);
    }
    const workerUrl = `http://127.0.0.1:${worker.started.metricsPort}`;
    expect((await axios.get(`${workerUrl}/healthz`)).data).to.deep.equal({ status: 'ok' });
    expect((await axios.get(`${workerUrl}/readyz`, { validateStatus: () => true })).status).to.equal(404);
    expect((await axios.post(`${workerUrl}/partners/province/apply`, {}, { validateStatus: () => true })).status).to.equal(404);
  });

  it('when METRICS_PORT is already taken, a worker process exits 78 before it takes any job', async () => {
    const taken = createServer();
    taken.listen(0, '127.0.0.1');
    await once(taken, 'listening');
    try {
      const port = (taken.address() as AddressInfo).port;
      let failure: unknown;
      await startGatewayProcess({ ...env, GATEWAY_ROLE: 'worker', METRICS_PORT: String(port) }).then(
        ({ child }) => children.push(child),
        (error: unknown) => (failure = error),
      );
      expect(String(failure)).to.include('exited with 78');
      expect(await gateway.runtime.inboundQueue.getWorkersCount()).to.equal(0);
    } finally {
      await new Promise<void>((resolve) => taken.close(() => resolve()));
    }
  });
});
