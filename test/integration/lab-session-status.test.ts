import { expect } from 'chai';
import type { SecurityEvent } from '../../telemetry/statistics.ts';
import type { LabResult } from '../../usecases/lab.ts';
import { futureDay } from '../helpers/dates.ts';
import { startTestGateway, waitForStage, type TestGateway } from '../helpers/gateway.ts';
import { loggedIn, type OpsClient } from '../helpers/ops-client.ts';
import type { ChangshaWireEvent } from '../simulators/changsha.ts';
import { slotRequestedData } from '../simulators/changsha-client.ts';

const of = (type: string, requestId: string) => (event: ChangshaWireEvent) => event.eventType === type && (event.data as { requestId?: string }).requestId === requestId;

function iso(day: string, time: string): string {
  return `${day.slice(0, 4)}-${day.slice(4, 6)}-${day.slice(6, 8)}T${time}:00+08:00`;
}

function step(result: LabResult, name: string) {
  const found = result.steps.find((s) => s.name === name);
  if (!found) throw new Error(`no step ${name}`);
  return found;
}

describe('message lab: Changsha session.status is checked against the ledger as intake checks it (read only)', () => {
  let gateway: TestGateway;
  let operator: OpsClient;
  const day = futureDay({ open: true });

  before(async () => {
    gateway = await startTestGateway();
    operator = await loggedIn(gateway, 'session-lab', 'operator');
  });
  after(async () => {
    await gateway.close();
  });

  /** The newest security event of Changsha once it is written (the edge does not wait for it). */
  async function newestChangshaEvent(after: number): Promise<SecurityEvent> {
    for (;;) {
      const events = await gateway.runtime.telemetry.statistics.securityEvents({ partner: 'changsha', limit: after + 1 });
      if (events.length > after && events[0]) return events[0];
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  async function openRefused(id: string): Promise<LabResult> {
    const response = await operator.request('POST', '/ops/api/lab/refused', { partner: 'changsha', id });
    expect(response.status, JSON.stringify(response.data)).to.equal(200);
    return (response.data as { result: LabResult }).result;
  }

  it('a session.status on a hold not yet confirmed, refused 422 NOT_IN_FORCE, fails the lab\'s rules the same way; once the hold is confirmed the same request passes, and the lab recorded nothing', async () => {
    const held = slotRequestedData({ start: iso(day, '09:00'), end: iso(day, '12:00'), seats: 3 });
    expect((await gateway.changsha.send('slot.requested', held)).status).to.equal(202);
    const offer = await gateway.changshaSimulator.waitForEvent(of('slot.offered', held.requestId));

    const refused = await gateway.changsha.sessionStatus(held.requestId, 'started', Date.parse(iso(day, '09:00')));
    expect(refused.status).to.equal(422);
    expect(JSON.stringify(refused.data)).to.include('NOT_IN_FORCE');
    const event = await newestChangshaEvent(0);
    expect(event.code).to.equal('SEMANTIC_INVALID');

    const before = await openRefused(event.refused ?? '');
    // the kept headers carry Changsha's signature: it still holds
    expect(step(before, 'signature').status).to.equal('pass');
    expect(step(before, 'rules').status).to.equal('fail');
    expect(step(before, 'rules').violations).to.deep.equal([{ path: '/data/requestId', message: 'NOT_IN_FORCE' }]);
    expect(step(before, 'rules').details).to.deep.equal([{ label: 'ledger state', value: (await gateway.runtime.ledger.describe('changsha', held.requestId))?.state }]);
    expect(step(before, 'idempotency').status).to.equal('skipped');

    const { offerId } = offer.data as { offerId: string };
    const confirmed = await gateway.changsha.send('slot.confirmed', { requestId: held.requestId, offerId });
    await waitForStage(gateway.runtime, (confirmed.data as { trackingId: string }).trackingId, 'decision');
    expect((await gateway.runtime.ledger.describe('changsha', held.requestId))?.state).to.equal('in-force');

    const after = await openRefused(event.refused ?? '');
    expect(step(after, 'rules').status).to.equal('pass');
    expect(step(after, 'idempotency').summary).to.equal('new: it would be recorded');
    // read only: the lab neither recorded the report nor changed the booking's lifecycle
    expect(await gateway.runtime.ledger.lifecycle('changsha', held.requestId)).to.deep.equal([]);
    const eventId = JSON.parse(String((await gateway.runtime.refusedRequests.get('changsha', event.refused ?? ''))?.rawBody)) as { eventId: string };
    expect(await gateway.runtime.messages.messageKnown('changsha', eventId.eventId)).to.equal(false);

    // and the gateway agrees: the same report, sent now, is accepted
    expect((await gateway.changsha.sessionStatus(held.requestId, 'started', Date.parse(iso(day, '09:00')))).status).to.equal(202);
  });

  it('a session.status naming a request the ledger never heard of fails the lab\'s rules with NOT_IN_FORCE, its ledger state unknown', async () => {
    const known = (await gateway.runtime.telemetry.statistics.securityEvents({ partner: 'changsha', limit: 100 })).length;
    const refused = await gateway.changsha.sessionStatus('CSR-never-asked', 'ended', Date.parse(iso(day, '12:00')));
    expect(refused.status).to.equal(422);
    const event = await newestChangshaEvent(known);
    const result = await openRefused(event.refused ?? '');
    expect(step(result, 'rules').summary).to.equal('SEMANTIC_INVALID (422): request CSR-never-asked is not in force in the ledger');
    expect(step(result, 'rules').details).to.deep.equal([{ label: 'ledger state', value: 'unknown' }]);
    expect(result.passed).to.equal(false);
  });
});
