import { expect } from 'chai';
import { once } from 'node:events';
import { at, futureDay } from '../helpers/dates.ts';
import { killableWorkerEnv, spawnGatewayProcess, startTestGateway, stopProcess, type TestGateway } from '../helpers/gateway.ts';
import { applyData } from '../simulators/province-traffic.ts';

describe('worker processes: crash and graceful stop', () => {
  let gateway: TestGateway;
  let env: Record<string, string>;

  beforeEach(async () => {
    gateway = await startTestGateway({ workers: false });
    env = killableWorkerEnv(gateway);
  });
  afterEach(async () => {
    await gateway.close();
  });

  /** Sends an apply and resolves once its notify is at the province, answered as `behaviour` says (a hang or a slow answer). */
  async function applyWithDeliveryInFlight(behaviour: 'hang' | 'slow') {
    gateway.simulator.failNext(behaviour);
    const day = futureDay({ open: true });
    const apply = applyData({ start: at(day, '09:00'), end: at(day, '11:00') });
    const inFlight = once(gateway.simulator, 'request');
    await gateway.province.send('apply', apply);
    await inFlight;
    return apply;
  }

  it('when a worker is killed with SIGKILL mid-delivery, another worker takes the job over and the province gets one answer (or repeats of the same DATAUUID)', async () => {
    const first = await spawnGatewayProcess(env);
    const apply = await applyWithDeliveryInFlight('hang');
    first.kill('SIGKILL');
    await once(first, 'exit');

    const second = await spawnGatewayProcess(env);
    try {
      const notify = await gateway.simulator.waitForNotify(apply.SERIES_NUMBER);
      expect(notify.data['STATUS']).to.equal('1');
      const dataUuids = new Set(gateway.simulator.notifiesFor(apply.SERIES_NUMBER).map((message) => message.validation.DATAUUID));
      expect(dataUuids.size).to.equal(1);
      expect((await gateway.runtime.ledger.bookings()).map((booking) => booking.owner)).to.deep.equal([`province:${apply.SERIES_NUMBER}`]);
    } finally {
      await stopProcess(second);
    }
  });

  it('with the default lock (10 s) and stalled check (5 s), a worker already running takes over a job whose worker was killed mid-delivery, and the province is answered once; the takeover time is printed for docs/reliability.md', async function () {
    this.timeout(60_000);
    const defaults = { ...env };
    delete defaults['WORKER_LOCK_DURATION_MS'];
    delete defaults['WORKER_STALLED_INTERVAL_MS'];
    const first = await spawnGatewayProcess(defaults);
    const apply = await applyWithDeliveryInFlight('hang');
    // the rescuer is up before the kill, as in a deployment: the bound is the lock and the stalled check, not a start
    const second = await spawnGatewayProcess(defaults);
    try {
      const killedAt = Date.now();
      first.kill('SIGKILL');
      await once(first, 'exit');
      const notify = await gateway.simulator.waitForNotify(apply.SERIES_NUMBER);
      const takeoverMs = Date.now() - killedAt;
      expect(notify.data['STATUS']).to.equal('1');
      expect(new Set(gateway.simulator.notifiesFor(apply.SERIES_NUMBER).map((message) => message.validation.DATAUUID)).size).to.equal(1);
      // measured, not asserted: the bound (lock + stalled check) is stated in docs/reliability.md
      console.log(`      takeover with the default settings: ${(takeoverMs / 1000).toFixed(1)} s after the kill`);
    } finally {
      await stopProcess(second);
    }
  });

  it('when a worker gets SIGTERM with a delivery in flight, it finishes that delivery, then exits 0', async () => {
    const worker = await spawnGatewayProcess(env);
    gateway.simulator.slowMs = 700;
    const apply = await applyWithDeliveryInFlight('slow');
    const exited = once(worker, 'exit') as Promise<[number | null, string | null]>;
    worker.kill('SIGTERM');
    const [code] = await exited;
    expect(code).to.equal(0);
    // the answer went out before the process ended (from the deciding job, directly), and that job is complete, not stalled
    expect(gateway.simulator.notifiesFor(apply.SERIES_NUMBER)).to.have.length(1);
    const jobs = await gateway.runtime.inboundQueue.getJobs(['completed', 'active', 'waiting', 'delayed']);
    const states = await Promise.all(jobs.map((job) => job.getState()));
    expect(states).to.deep.equal(['completed']);
    expect(await gateway.runtime.outboundQueues.province.getJobCounts()).to.include({ completed: 0, active: 0, waiting: 0, delayed: 0 });
  });
});
