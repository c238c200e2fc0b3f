import { expect } from 'chai';
import { once } from 'node:events';
import type { ChildProcess } from 'node:child_process';
import { formatIsoBeijing } from '../../kernel/beijing-time.ts';
import { fixedClock } from '../../kernel/clock.ts';
import { applyHostEvent, drainOutbox, sweepHostEvaluations } from '../../usecases/hosting/flow.ts';
import { planHostEvaluation } from '../../usecases/hosting/service.ts';
import { futureDay } from '../helpers/dates.ts';
import { killableWorkerEnv, spawnGatewayProcess, startTestGateway, stopProcess, type TestGateway } from '../helpers/gateway.ts';
import type { ChangshaWireEvent } from '../simulators/changsha.ts';

/** Waits for a condition that a worker brings about, checking again after each turn of the event loop. */
async function waitFor(condition: () => Promise<boolean> | boolean): Promise<void> {
  while (!(await condition())) await new Promise<void>((resolve) => setImmediate(resolve));
}

function planOf(day: string, section: string) {
  const start = Date.parse(`${day.slice(0, 4)}-${day.slice(4, 6)}-${day.slice(6, 8)}T09:00:00+08:00`);
  return {
    projectCode: section.slice(0, 20),
    sectionCode: section,
    projectName: '宕机测试项目',
    tradeType: 'ZFCG',
    start: formatIsoBeijing(start),
    end: formatIsoBeijing(start + 3 * 3_600_000),
    hostSeats: 2,
    guests: [
      { center: '430300', seats: 2 },
      { center: '430100', seats: 2 },
    ],
    agentContact: '赵六',
    agentPhone: '0731-88776655',
  };
}

/** Every message of one meaning went out under one id: a resend is a repeat, never a second message. */
function idsByMeaning(gateway: TestGateway, evaluationId: string): Map<string, Set<string>> {
  const ids = new Map<string, Set<string>>();
  const add = (meaning: string, id: string) => ids.set(meaning, (ids.get(meaning) ?? new Set()).add(id));
  for (const message of gateway.simulator.received) if (message.operation.startsWith('host-')) add(message.operation, message.validation.DATAUUID);
  for (const received of gateway.changshaSimulator.received) {
    const event = received.event;
    const requestId = typeof event.data['requestId'] === 'string' ? event.data['requestId'] : '';
    if (requestId.startsWith(evaluationId)) add(`${event.eventType}:${requestId}`, event.eventId);
  }
  return ids;
}

describe('host evaluation: a worker killed at any step', function () {
  this.timeout(60_000);
  let gateway: TestGateway;
  let env: Record<string, string>;
  const workers: ChildProcess[] = [];

  beforeEach(async () => {
    gateway = await startTestGateway({ workers: false });
    env = killableWorkerEnv(gateway);
  });
  afterEach(async () => {
    for (const worker of workers.splice(0)) await stopProcess(worker);
    await gateway.close();
  });

  async function spawnWorker(): Promise<ChildProcess> {
    const worker = await spawnGatewayProcess(env);
    workers.push(worker);
    return worker;
  }

  async function kill(worker: ChildProcess): Promise<void> {
    worker.kill('SIGKILL');
    await once(worker, 'exit');
    workers.splice(workers.indexOf(worker), 1);
  }

  it('when killed (SIGKILL) with the host-apply and then the slot.confirmed in flight, the next worker resumes and every message of one meaning carries one id', async () => {
    const day = futureDay({ open: true }, Date.now());
    const first = await spawnWorker();
    gateway.simulator.failNext('hang');
    const applyInFlight = once(gateway.simulator, 'request');
    const planned = await planHostEvaluation(gateway.runtime, planOf(day, 'M4302000260099001001001'), 'crash-test');
    const id = planned.id;
    const requestId = `${id}-430100`;
    await applyInFlight;
    await kill(first);

    const second = await spawnWorker();
    await waitFor(async () => (await gateway.runtime.hostEvaluations.get(id))?.province?.seriesNumber !== undefined);
    const series = (await gateway.runtime.hostEvaluations.get(id))?.province?.seriesNumber ?? '';
    await gateway.changshaSimulator.waitForEvent((event) => event.eventType === 'slot.requested' && event.data['requestId'] === requestId);

    // Changsha holds its confirm unanswered: the worker sending it dies with it in flight
    gateway.changshaSimulator.failNext('hang');
    const confirmInFlight = new Promise<ChangshaWireEvent>((resolve) => gateway.changshaSimulator.once('hanging', resolve));
    await gateway.changsha.send('slot.offered', { requestId, offerId: 'OF-crash', roomId: 'CS-R1', seatNumbers: ['CS-R1-01', 'CS-R1-02'], holdExpiresAt: new Date(Date.now() + 30 * 60_000).toISOString() });
    await gateway.simulator.pushResult(series, '430300', { approve: true });
    expect((await confirmInFlight).eventType).to.equal('slot.confirmed');
    await kill(second);

    await spawnWorker();
    await gateway.changshaSimulator.waitForEvent((event) => event.eventType === 'slot.confirmed' && event.data['requestId'] === requestId);
    await gateway.simulator.pushOutcome(series, '1');
    await waitFor(async () => {
      const record = await gateway.runtime.hostEvaluations.get(id);
      return record?.state === 'in-force' && record.outbox.length === 0;
    });

    for (const [meaning, sent] of idsByMeaning(gateway, id)) expect(sent.size, meaning).to.equal(1);
    expect(gateway.simulator.received.filter((message) => message.operation === 'host-apply').length).to.be.at.least(1);
    expect((await gateway.runtime.ledger.lookup('host', id))?.state).to.equal('in-force');
  });

  it('when a process dies between storing a step and carrying it out, the sweep carries it out, and the dead process coming back repeats it under the same ids, which go out once', async () => {
    const clock = fixedClock(Date.now());
    await gateway.close();
    gateway = await startTestGateway({ clock });
    gateway.startWorkers();
    const day = futureDay({ open: true }, clock.now());
    const planned = await planHostEvaluation(gateway.runtime, planOf(day, 'M4302000260099002001001'), 'crash-test');
    const id = planned.id;
    const requestId = `${id}-430100`;
    await waitFor(async () => (await gateway.runtime.hostEvaluations.get(id))?.province?.seriesNumber !== undefined);
    await gateway.changshaSimulator.waitForEvent((event) => event.eventType === 'slot.requested' && event.data['requestId'] === requestId);

    // stored, not carried out: the cancel's releases wait in the outbox as a crash would leave them
    await applyHostEvent(gateway.runtime, id, { kind: 'cancel', reason: '宕机演练' }, { drain: false });
    const left = await gateway.runtime.hostEvaluations.get(id);
    expect(left?.outbox.map((entry) => entry.key)).to.include.members([`release:${requestId}`]);
    expect(await sweepHostEvaluations(gateway.runtime)).to.equal(0);
    clock.advance(31_000);
    expect(await sweepHostEvaluations(gateway.runtime)).to.equal(1);
    await gateway.changshaSimulator.waitForEvent((event) => event.eventType === 'slot.released' && event.data['requestId'] === requestId);
    await gateway.simulator.waitFor('host-cancel');

    // the process that died comes back and does the same step again: its messages carry the ids
    // already queued, so the queue takes them as repeats and nothing goes out twice
    await gateway.runtime.hostEvaluations.update(id, (record) => ({ ...record, outbox: left?.outbox ?? [] }));
    await drainOutbox(gateway.runtime, id);
    expect((await gateway.runtime.hostEvaluations.get(id))?.outbox).to.deep.equal([]);
    const outbound = Object.values(gateway.runtime.outboundQueues);
    await waitFor(async () => (await Promise.all(outbound.map((queue) => queue.getJobCounts('waiting', 'active', 'delayed')))).every((counts) => Object.values(counts).every((count) => count === 0)));
    expect(gateway.changshaSimulator.eventsOf('slot.released', requestId)).to.have.length(1);
    expect(gateway.simulator.received.filter((message) => message.operation === 'host-cancel')).to.have.length(1);
    for (const [meaning, sent] of idsByMeaning(gateway, id)) expect(sent.size, meaning).to.equal(1);
    expect((await gateway.runtime.hostEvaluations.get(id))?.state).to.equal('cancelled');
  });
});
