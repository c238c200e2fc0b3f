import { once } from 'node:events';
import axios, { type AxiosResponse } from 'axios';
import type { Job } from 'bullmq';
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { overview } from '../../gateway/dashboard/views/overview.ts';
import { startPrivateSentinel, untilReplicated, type PrivateSentinel } from '../../scripts/lib/private-sentinel.ts';
import { at, futureDay } from '../helpers/dates.ts';
import { CLOSE_BOUND_MS, closeWithin, startSentinelGateway, startTestGateway, type SentinelGateway, type TestGateway } from '../helpers/gateway.ts';
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
      // a second: a replica on a busy machine once took over 300 ms to acknowledge (the tests that stop it wait this out)
      env: { REDIS_WAIT_REPLICAS: '1', REDIS_WAIT_TIMEOUT_MS: '1000' },
    });
    replicaClient = new Redis(replica?.port ?? 0, '127.0.0.1', { maxRetriesPerRequest: 1 });
  });
  afterEach(() => {
    resumeReplica();
  });
  after(async function () {
    this.timeout(CLOSE_BOUND_MS + 10_000);
    resumeReplica();
    replicaClient?.disconnect();
    try {
      await closeWithin(gateway, CLOSE_BOUND_MS);
    } finally {
      await pair?.stop();
    }
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
    // this apply's job, not one left by the tests above
    const failure = await new Promise<Error>((resolve) => {
      inbound?.on('failed', (job: Job | undefined, error: Error) => {
        if ((job?.data as { trackingNo?: string } | undefined)?.trackingNo === trackingNoOf(accepted)) resolve(error);
      });
    });
    expect(failure.message).to.match(/replicas acknowledged/);
    expect(gateway.simulator.notifiesFor(apply.SERIES_NUMBER)).to.deep.equal([]);

    resumeReplica();
    const notify = await gateway.simulator.waitForNotify(apply.SERIES_NUMBER);
    expect(notify.data).to.deep.include({ STATUS: '1' });
    expect(gateway.simulator.notifiesFor(apply.SERIES_NUMBER)).to.have.length(1);
  });

  it('when several confirmations wait on a stalled replica at once, they share rounds of WAIT: each fails for want of acknowledgement, none by a command timeout', async () => {
    const { replicas, redis } = gateway.runtime;
    stopReplica();
    // five WAITs of a second each, one behind the other, would outlast REDIS_COMMAND_TIMEOUT_MS (2 s)
    const failures = await Promise.all(Array.from({ length: 5 }, () => replicas.confirm(replicas.mark(redis)).then(() => undefined, (error: unknown) => error)));
    resumeReplica();
    for (const failure of failures) expect((failure as Error | undefined)?.message).to.match(/0 of 1 replicas acknowledged/);
  });

  it('when the connection that wrote reconnects before the WAIT, the writes are not vouched for, though the replica is up', async () => {
    const { replicas, redis } = gateway.runtime;
    await replicas.confirm(replicas.mark(redis));
    const mark = replicas.mark(redis);
    redis.disconnect(true);
    await once(redis, 'ready');
    const failure = await replicas.confirm(mark).then(() => undefined, (error: unknown) => error);
    expect(failure).to.be.an('error').with.property('code', 'STORE_UNAVAILABLE');
    expect((failure as Error).message).to.match(/connection was lost/);
  });

  it('when the connection is cut while its WAIT waits, the confirmation fails: nothing answered on a new connection is trusted', async () => {
    const { replicas, redis } = gateway.runtime;
    const mark = replicas.mark(redis);
    stopReplica();
    const confirming = replicas.confirm(mark).then(() => undefined, (error: unknown) => error);
    // from another client, while the WAIT blocks on the stopped replica: the server drops the gateway's command connections
    const admin = new Redis(pair.servers[0]?.port ?? 0, '127.0.0.1', { maxRetriesPerRequest: 1 });
    try {
      const ids = String(await admin.call('CLIENT', 'LIST', 'TYPE', 'normal'))
        .split('\n')
        .filter((line) => / name=zzgw-command /.test(line))
        .map((line) => /^id=(\d+)/.exec(line)?.[1] ?? '');
      expect(ids.length).to.be.at.least(1);
      for (const id of ids) await admin.call('CLIENT', 'KILL', 'ID', id);
    } finally {
      admin.disconnect();
    }
    resumeReplica();
    const failure = await confirming;
    expect(failure).to.be.an('error').with.property('code', 'STORE_UNAVAILABLE');
  });
});

describe('a master killed while its replica lags, with Sentinel and REDIS_WAIT_REPLICAS=1', () => {
  let setup: PrivateSentinel;
  let gateway: TestGateway;
  let running: SentinelGateway | undefined;
  const day = futureDay({ open: true, skip: 1 });

  before(async function () {
    this.timeout(30_000);
    running = await startSentinelGateway(1000);
    ({ setup, gateway } = running);
  });
  after(async function () {
    this.timeout(CLOSE_BOUND_MS + 10_000);
    await running?.stop();
  });

  /** Resolves at the sentinel's next +switch-master. */
  async function nextSwitch(): Promise<void> {
    const subscriber = new Redis(setup.sentinel.port, '127.0.0.1', { maxRetriesPerRequest: 1 });
    await subscriber.subscribe('+switch-master');
    return new Promise<void>((resolve) => {
      subscriber.on('message', () => {
        subscriber.disconnect();
        resolve();
      });
    });
  }

  it('keeps what the partner was told, and takes again what it was not, on the promoted replica', async function () {
    this.timeout(90_000);
    const oldMaster = await setup.master();
    const master = setup.servers.find((server) => server.port === oldMaster.port);
    const replica = setup.servers.find((server) => server.port !== oldMaster.port);

    const toldData = applyData({ start: at(day, '09:00'), end: at(day, '10:00') });
    const told = gateway.province.envelope('apply', toldData);
    const toldAnswer = await gateway.province.post('apply', told);
    expect(toldAnswer.status).to.equal(200);

    // the replica stalls: nothing more can be acknowledged
    replica?.process.kill('SIGSTOP');
    const untoldData = applyData({ start: at(day, '11:00'), end: at(day, '12:00') });
    const untold = gateway.province.envelope('apply', untoldData);
    expect((await gateway.province.post('apply', untold)).status).to.equal(503);

    // the master dies with the untold record; the replica, back, is promoted without it
    const switched = nextSwitch();
    const killed = once(master?.process ?? replica!.process, 'exit');
    master?.process.kill('SIGKILL');
    await killed;
    replica?.process.kill('SIGCONT');
    await switched;
    expect((await setup.master()).port).to.equal(replica?.port);
    // the dead master comes back and is made a replica of the new one: acknowledgements can be had again
    await setup.restart(oldMaster.port);
    await untilReplicated(setup, 60_000);
    // and the gateway's connections have found the new master (until then every call fails at once)
    await gateway.runtime.ready();

    // the province sends again after its 503: recorded anew on the new master
    let answer = await gateway.province.post('apply', untold);
    for (let attempt = 1; answer.status === 503 && attempt < PARTNER_RETRIES; attempt++) answer = await gateway.province.post('apply', untold);
    expect(answer.status).to.equal(200);

    const recorded = async (dataUuid: string) => gateway.runtime.traces.find('dataUuid', dataUuid);
    expect(await recorded(told.validation.DATAUUID)).to.deep.equal([trackingNoOf(toldAnswer)]);
    expect(await recorded(untold.validation.DATAUUID)).to.deep.equal([trackingNoOf(answer)]);
    for (const data of [toldData, untoldData]) {
      const notify = await gateway.simulator.waitForNotify(data.SERIES_NUMBER);
      expect(notify.data).to.deep.include({ STATUS: '1' });
    }
    const owners = [toldData, untoldData].map((data) => `province:${data.SERIES_NUMBER}`);
    const booked = (await gateway.runtime.ledger.bookings()).filter((booking) => owners.includes(booking.owner));
    expect([...new Set(booked.map((booking) => booking.owner))].sort()).to.deep.equal([...owners].sort());
  });
});
