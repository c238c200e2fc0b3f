import { once } from 'node:events';
import axios, { type AxiosResponse } from 'axios';
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { overview } from '../../gateway/ops/views.ts';
import { startPrivateSentinel, type PrivateSentinel } from '../../scripts/lib/private-sentinel.ts';
import { at, futureDay } from '../helpers/dates.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { applyData } from '../simulators/province-traffic.ts';

/** How often the partner's POST is sent again after a 503 before the test gives up. */
const PARTNER_RETRIES = 20;

const trackingNoOf = (answer: AxiosResponse) => (answer.data as { Data: { TRACKING_NO: string } }).Data.TRACKING_NO;

describe('answers wait for the replica (REDIS_WAIT_REPLICAS=1; a real master and its replica)', () => {
  let pair: PrivateSentinel;
  let gateway: TestGateway;
  let replicaClient: Redis;
  const day = futureDay({ open: true });

  // SIGSTOP: the replica keeps its link to the master but answers nothing, as a stalled host would
  const replicaProcess = () => pair.servers[1]?.process;
  const stopReplica = () => replicaProcess()?.kill('SIGSTOP');
  const resumeReplica = () => replicaProcess()?.kill('SIGCONT');

  before(async function () {
    this.timeout(30_000);
    pair = await startPrivateSentinel();
    const [master, replica] = pair.servers;
    gateway = await startTestGateway({
      workers: false,
      redisUrl: `redis://127.0.0.1:${master?.port}`,
      env: { REDIS_WAIT_REPLICAS: '1', REDIS_WAIT_TIMEOUT_MS: '300' },
    });
    replicaClient = new Redis(replica?.port ?? 0, '127.0.0.1', { maxRetriesPerRequest: 1 });
  });
  afterEach(() => {
    resumeReplica();
  });
  after(async function () {
    this.timeout(30_000);
    resumeReplica();
    replicaClient?.disconnect();
    await gateway?.close();
    await pair?.stop();
  });

  const recordOnReplica = (trackingNo: string) => replicaClient.hget(gateway.runtime.keys.intake('province').record(trackingNo), 'state');

  it('when the replica is connected, /readyz counts it and answers 200 once a worker runs', async () => {
    const workers = gateway.startWorkers();
    await Promise.all(workers.workers.map((worker) => worker.waitUntilReady()));
    const answer = await axios.get(`${gateway.url}/readyz`, { validateStatus: () => true });
    expect(answer.status).to.equal(200);
    expect((answer.data as { checks: object }).checks).to.deep.include({ replicas: { connected: 1, required: 1 } });
    expect((await overview(gateway.runtime)).reasons.map((reason) => reason.code)).not.to.include('REPLICAS_MISSING');
    await gateway.workers?.close();
    gateway.workers = undefined;
  });

  it('when the replica is up, an apply is answered 200 and its record is on the replica already', async () => {
    const answer = await gateway.province.send('apply', applyData({ start: at(day, '09:00'), end: at(day, '10:00') }));
    expect(answer.status).to.equal(200);
    expect(await recordOnReplica(trackingNoOf(answer))).to.equal('received');
  });

  it('when the replica does not acknowledge, the apply is answered 503 with Retry-After; sent again once the replica is back, it gets 200 and the first tracking number', async function () {
    this.timeout(20_000);
    const envelope = gateway.province.envelope('apply', applyData({ start: at(day, '10:30'), end: at(day, '11:30') }));
    stopReplica();
    const refused = await gateway.province.post('apply', envelope);
    expect(refused.status).to.equal(503);
    expect(refused.data).to.include({ State: '503' });
    expect(refused.headers['retry-after']).to.match(/^\d+$/);
    // the master has it: the retry must find it, not record it twice
    const onMaster = await gateway.runtime.traces.find('dataUuid', envelope.validation.DATAUUID);
    expect(onMaster).to.have.length(1);

    resumeReplica();
    let answer = await gateway.province.post('apply', envelope);
    for (let attempt = 1; answer.status === 503 && attempt < PARTNER_RETRIES; attempt++) answer = await gateway.province.post('apply', envelope);
    expect(answer.status).to.equal(200);
    expect(trackingNoOf(answer)).to.equal(onMaster[0]);
    expect(await recordOnReplica(trackingNoOf(answer))).to.equal('received');
  });

  it('when the replica stops after the intake, the ledger decision is not sent to the province until the replica has it', async function () {
    this.timeout(20_000);
    const apply = applyData({ start: at(day, '13:00'), end: at(day, '14:00') });
    const accepted = await gateway.province.send('apply', apply);
    expect(accepted.status).to.equal(200);

    stopReplica();
    const workers = gateway.startWorkers();
    const inbound = workers.workers.find((worker) => worker.name === gateway.runtime.inboundQueue.name);
    const [, failure] = (await once(inbound ?? workers.workers[0]!, 'failed')) as [unknown, Error];
    expect(failure.message).to.match(/replicas acknowledged/);
    expect(gateway.simulator.notifiesFor(apply.SERIES_NUMBER)).to.deep.equal([]);

    resumeReplica();
    const notify = await gateway.simulator.waitForNotify(apply.SERIES_NUMBER);
    expect(notify.data).to.deep.include({ STATUS: '1' });
    expect(gateway.simulator.notifiesFor(apply.SERIES_NUMBER)).to.have.length(1);
  });

  it('when the connection that wrote reconnects before the WAIT, the writes are not vouched for, though the replica is up', async () => {
    const { replicas, redis } = gateway.runtime;
    await replicas.confirm(replicas.mark(redis));
    const mark = replicas.mark(redis);
    // ioredis would resend an unanswered WAIT on the new connection, where it vouches for nothing
    redis.disconnect(true);
    await once(redis, 'ready');
    const failure = await replicas.confirm(mark).then(() => undefined, (error: unknown) => error);
    expect(failure).to.be.an('error').with.property('code', 'STORE_UNAVAILABLE');
    expect((failure as Error).message).to.match(/connection was lost/);
  });
});
