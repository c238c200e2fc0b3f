import axios from 'axios';
import { expect } from 'chai';
import { futureDay } from '../helpers/dates.ts';
import { API_KEY, startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { fixedClock } from '../../kernel/clock.ts';
import { formatCompactBeijing } from '../../kernel/beijing-time.ts';
import { sweepHostEvaluations } from '../../usecases/hosting/flow.ts';
import type { HostEvaluationView } from '../../usecases/hosting/service.ts';
import type { ChangshaWireEvent } from '../simulators/changsha.ts';

/** Waits for a condition that a worker brings about, checking again after each turn of the event loop. */
async function waitFor(condition: () => Promise<boolean> | boolean): Promise<void> {
  while (!(await condition())) await new Promise<void>((resolve) => setImmediate(resolve));
}

/** ISO 8601 with the Beijing offset for a `yyyyMMdd` day and an HH:mm. */
const iso = (day: string, time: string) => `${day.slice(0, 4)}-${day.slice(4, 6)}-${day.slice(6, 8)}T${time}:00+08:00`;
const isoDay = (day: string) => `${day.slice(0, 4)}-${day.slice(4, 6)}-${day.slice(6, 8)}`;

const of = (type: string, requestId: string) => (event: ChangshaWireEvent) => event.eventType === type && event.data['requestId'] === requestId;

describe('host evaluations (Zhuzhou as host) through the API, the flow and both partners', function () {
  this.timeout(60_000);
  let gateway: TestGateway;
  let clock: ReturnType<typeof fixedClock>;
  let day: string;

  beforeEach(async () => {
    clock = fixedClock(Date.now());
    gateway = await startTestGateway({ clock, env: { LOCAL_API_KEY: API_KEY } });
    gateway.startWorkers();
    day = futureDay({ open: true }, clock.now());
  });

  afterEach(async () => {
    await gateway.close();
  });

  const api = () => axios.create({ baseURL: gateway.url, headers: { 'x-api-key': API_KEY }, validateStatus: () => true });

  const plan = (overrides: Record<string, unknown> = {}) => ({
    projectCode: 'M4302000260018837001',
    sectionCode: 'M4302000260018837001002',
    projectName: '株洲市某道路改造工程',
    tradeType: 'GCJS',
    projectType: 'A03',
    start: iso(day, '09:00'),
    end: iso(day, '12:00'),
    hostSeats: 3,
    guests: [
      { center: '430300', seats: 2 },
      { center: '430100', seats: 2 },
    ],
    agentContact: '王小明',
    agentPhone: '13800138000',
    ...overrides,
  });

  async function view(id: string): Promise<HostEvaluationView> {
    const answer = await api().get<HostEvaluationView>(`/api/v1/host-evaluations/${id}`);
    expect(answer.status).to.equal(200);
    return answer.data;
  }

  async function planned(body = plan()): Promise<{ id: string; series: string | undefined; requestId: string }> {
    const created = await api().post<{ id: string; state: string }>('/api/v1/host-evaluations', body);
    expect(created.status, JSON.stringify(created.data)).to.equal(201);
    const id = created.data.id;
    const requestId = `${id}-430100`;
    await gateway.changshaSimulator.waitForEvent(of('slot.requested', requestId));
    const hasProvince = (body.guests as { center: string }[]).some((guest) => guest.center !== '430100');
    if (!hasProvince) return { id, series: undefined, requestId };
    const apply = await gateway.simulator.waitFor('host-apply', (message) => message.data['BID_SECTION_CODE'] === body.sectionCode);
    const series = [...gateway.simulator.host.applications.values()].find((record) => record.data['BID_SECTION_CODE'] === body.sectionCode)?.series;
    expect(apply.signatureValid).to.equal(true);
    await waitFor(async () => (await gateway.runtime.hostEvaluations.get(id))?.province?.seriesNumber === series);
    return { id, series, requestId };
  }

  const offer = (requestId: string, offerId: string, seats: number, holdMs = 15 * 60_000) =>
    gateway.changsha.send('slot.offered', { requestId, offerId, roomId: 'CS-R2', seatNumbers: Array.from({ length: seats }, (_, n) => `CS-R2-0${n + 1}`), holdExpiresAt: new Date(clock.now() + holdMs).toISOString() });

  it('when every guest approves and Changsha offers, the evaluation comes into force: Changsha confirmed, host room booked, legs named', async () => {
    const { id, series, requestId } = await planned();
    expect((await offer(requestId, 'OF-1', 2)).status).to.equal(202);
    await gateway.simulator.pushResult(series ?? '', '430300', { approve: true });
    // the province guest is the last one approved: then the Changsha hold is confirmed
    await gateway.changshaSimulator.waitForEvent(of('slot.confirmed', requestId));
    await gateway.simulator.pushOutcome(series ?? '', '1');
    await waitFor(async () => (await view(id)).state === 'in-force');
    const inForce = await view(id);
    expect(inForce.hostRoom.roomId).to.be.a('string');
    expect(inForce.legs.map((leg) => [leg.center, leg.state])).to.deep.equal([
      ['430300', 'approved'],
      ['430100', 'confirmed'],
    ]);
    expect(inForce.legs[0]?.seriesNumber).to.equal(series);
    expect(inForce.legs[0]?.seatNumbers).to.have.length(2);
    expect(inForce.agentPhone).to.equal('138****8000');
    // sealed at rest, in clear only on the wire to the province
    const stored = (await gateway.runtime.redis.get(gateway.runtime.keys.hostEvaluation(id))) ?? '';
    expect(stored).to.not.include('13800138000');
    expect(stored).to.not.include('王小明');
    expect(gateway.simulator.received.find((message) => message.operation === 'host-apply')?.data).to.include({ TENDER_AGENT_CONTRACT: '王小明', TENDER_AGENT_PHONE: '13800138000' });
    expect((await gateway.runtime.ledger.lookup('host', id))?.state).to.equal('in-force');
    expect((await gateway.runtime.ledger.bookings()).filter((booking) => booking.owner === `host:${id}`).map((booking) => booking.resource)).to.deep.equal([inForce.hostRoom.roomId]);
  });

  /** Plans the default evaluation and brings it into force through both partners. */
  async function inForce(): Promise<{ id: string; series: string; requestId: string }> {
    const { id, series, requestId } = await planned();
    await offer(requestId, `OF-${id}`, 2);
    await gateway.simulator.pushResult(series ?? '', '430300', { approve: true });
    await gateway.simulator.pushOutcome(series ?? '', '1');
    await waitFor(async () => (await view(id)).state === 'in-force');
    return { id, series: series ?? '', requestId };
  }

  it('when a change in force moves the window, it is made before the old is broken: new host room, host-change, a new Changsha request; then the old released', async () => {
    const { id, series, requestId } = await inForce();
    const changed = await api().post(`/api/v1/host-evaluations/${id}/change`, plan({ start: iso(day, '13:00'), end: iso(day, '16:00'), reason: '开标时间调整' }));
    expect(changed.status, JSON.stringify(changed.data)).to.equal(202);
    expect(changed.data).to.deep.equal({ id, state: 'changing' });
    const hostChange = await gateway.simulator.waitFor('host-change');
    expect(hostChange.data['ORIGINAL_SERIES_NUMBER']).to.equal(series);
    const newRequest = `${id}-430100-C1`;
    await gateway.changshaSimulator.waitForEvent(of('slot.requested', newRequest));
    // the old legs stay in force meanwhile
    const changing = await view(id);
    expect(changing.state).to.equal('changing');
    expect(changing.legs.map((leg) => leg.state)).to.deep.equal(['approved', 'confirmed']);
    const changeSeries = [...gateway.simulator.host.applications.values()].find((record) => record.operation === 'host-change')?.series ?? '';
    await waitFor(async () => (await gateway.runtime.hostEvaluations.get(id))?.change?.province?.seriesNumber === changeSeries);
    await offer(newRequest, 'OF-C1', 2);
    await gateway.simulator.pushResult(changeSeries, '430300', { approve: true });
    await gateway.simulator.pushOutcome(changeSeries, '1');
    await waitFor(async () => (await view(id)).state === 'in-force');
    const after = await view(id);
    expect(after.window.start).to.equal(iso(day, '13:00'));
    expect(after.legs.map((leg) => leg.requestId ?? leg.seriesNumber)).to.deep.equal([changeSeries, newRequest]);
    const released = await gateway.changshaSimulator.waitForEvent(of('slot.released', requestId));
    expect(released.data['reason']).to.equal('OTHER');
    // only the new host room is booked: the old one was freed
    await waitFor(async () => (await gateway.runtime.ledger.bookings()).filter((booking) => booking.owner.startsWith(`host:${id}`)).every((booking) => booking.owner === `host:${id}:C1`));
    expect(gateway.simulator.received.filter((message) => message.operation === 'host-cancel')).to.have.length(0);
  });

  it('when a change is rejected by a province guest while its Changsha hold is open, the hold is released and the evaluation stays in force as it was', async () => {
    const { id, requestId } = await inForce();
    expect((await api().post(`/api/v1/host-evaluations/${id}/change`, plan({ hostSeats: 4, guests: [{ center: '430300', seats: 3 }, { center: '430100', seats: 3 }], reason: '增加专家' }))).status).to.equal(202);
    const newRequest = `${id}-430100-C1`;
    await gateway.changshaSimulator.waitForEvent(of('slot.requested', newRequest));
    await waitFor(async () => (await gateway.runtime.hostEvaluations.get(id))?.change?.province?.seriesNumber !== undefined);
    const changeSeries = (await gateway.runtime.hostEvaluations.get(id))?.change?.province?.seriesNumber ?? '';
    await offer(newRequest, 'OF-C1-open', 3);
    await waitFor(async () => (await view(id)).change?.legs.some((leg) => leg.state === 'offered') ?? false);
    await gateway.simulator.pushResult(changeSeries, '430300', { approve: false, reason: 'NO_CAPACITY' });
    await waitFor(async () => (await view(id)).state === 'in-force');
    const after = await view(id);
    expect(after.lastChangeFailure).to.equal('430300 NO_CAPACITY');
    expect(after.change).to.equal(null);
    expect(after.legs.map((leg) => [leg.center, leg.state, leg.requestId ?? leg.seriesNumber])).to.deep.equal([
      ['430300', 'approved', after.legs[0]?.seriesNumber],
      ['430100', 'confirmed', requestId],
    ]);
    expect((await gateway.changshaSimulator.waitForEvent(of('slot.released', newRequest))).data['reason']).to.equal('PROJECT_CANCELLED');
    expect(gateway.changshaSimulator.eventsOf('slot.released', requestId)).to.have.length(0);
    // the change's host room hold is let go; the booking in force stays
    await waitFor(async () => (await gateway.runtime.ledger.bookings()).filter((booking) => booking.owner.startsWith(`host:${id}`)).every((booking) => booking.owner === `host:${id}`));
  });

  it('when cancelled while a change is undecided, the change and the evaluation in force are both let go: it ends cancelled', async () => {
    const { id, series, requestId } = await inForce();
    await api().post(`/api/v1/host-evaluations/${id}/change`, plan({ start: iso(day, '14:00'), end: iso(day, '17:00'), reason: '改期' }));
    const newRequest = `${id}-430100-C1`;
    await gateway.changshaSimulator.waitForEvent(of('slot.requested', newRequest));
    await offer(newRequest, 'OF-C1-cancel', 2);
    const cancelled = await api().delete(`/api/v1/host-evaluations/${id}`, { data: { reason: '项目终止' } });
    expect(cancelled.data).to.deep.equal({ id, state: 'cancelled' });
    await gateway.changshaSimulator.waitForEvent(of('slot.released', newRequest));
    await gateway.changshaSimulator.waitForEvent(of('slot.released', requestId));
    const cancel = await gateway.simulator.waitFor('host-cancel');
    // the host-cancel of the application in force withdraws its undecided change at the province
    expect(cancel.data['ORIGINAL_SERIES_NUMBER']).to.equal(series);
    await waitFor(async () => (await gateway.runtime.ledger.bookings()).every((booking) => !booking.owner.startsWith(`host:${id}`)));
  });

  it('when the lifecycle is reported, the province gets eval-status and Changsha session.status; a pause needs its reason; end frees the host room early', async () => {
    const { id, series, requestId } = await inForce();
    const started = await api().post(`/api/v1/host-evaluations/${id}/status`, { status: 'started' });
    expect(started.status).to.equal(200);
    expect(started.data).to.deep.equal({ id, lifecycle: 'started' });
    const evalStatus = await gateway.simulator.waitFor('eval-status', (message) => message.data['EVAL_STATUS'] === '1');
    expect(evalStatus.data['SERIES_NUMBER']).to.equal(series);
    expect((await gateway.changshaSimulator.waitForEvent(of('session.status', requestId))).data['status']).to.equal('started');
    const noReason = await api().post(`/api/v1/host-evaluations/${id}/status`, { status: 'paused' });
    expect(noReason.status).to.equal(422);
    expect((await api().post(`/api/v1/host-evaluations/${id}/status`, { status: 'archived' })).data).to.include({ code: 'STATE_CONFLICT' });
    expect((await api().post(`/api/v1/host-evaluations/${id}/status`, { status: 'paused', reason: '专家临时离席' })).status).to.equal(200);
    await gateway.simulator.waitFor('eval-status', (message) => message.data['EVAL_STATUS'] === '4');
    expect((await api().post(`/api/v1/host-evaluations/${id}/status`, { status: 'resumed' })).status).to.equal(200);
    // the host room carries the lifecycle on the room board, as a guest booking does
    expect((await gateway.runtime.ledger.lifecycle('host', id)).map((entry) => entry.status)).to.deep.equal(['started', 'paused', 'resumed']);
    const booked = (await gateway.runtime.ledger.bookings()).find((booking) => booking.owner === `host:${id}`);
    clock.set(Date.parse(iso(day, '10:00')));
    const ended = await api().post(`/api/v1/host-evaluations/${id}/status`, { status: 'ended' });
    expect(ended.data).to.deep.equal({ id, lifecycle: 'ended' });
    await gateway.simulator.waitFor('eval-status', (message) => message.data['EVAL_STATUS'] === '2');
    await waitFor(async () => ((await gateway.runtime.ledger.bookings()).find((booking) => booking.owner === `host:${id}`)?.end ?? Infinity) < (booked?.end ?? 0));
    const statuses = gateway.changshaSimulator.eventsOf('session.status', requestId).map((event) => event.data['status']);
    expect(statuses).to.deep.equal(['started', 'paused', 'resumed', 'ended']);
    expect((await api().delete(`/api/v1/host-evaluations/${id}`, { data: { reason: 'late' } })).data).to.include({ code: 'STATE_CONFLICT' });
  });

  it('when a guest result and the outcome overtake the host-apply answer, they are held and applied in order once the answer is recorded', async () => {
    // the first host-apply attempt fails: the province's pushes about it reach the gateway before its answer
    gateway.simulator.failNext('http-500');
    const failed = new Promise<void>((resolve) => gateway.simulator.once('failed', () => resolve()));
    const created = await api().post<{ id: string }>('/api/v1/host-evaluations', plan({ guests: [{ center: '430300', seats: 2 }] }));
    const id = created.data.id;
    await failed;
    // the dispatcher numbers its first application from its (injected) clock
    const series = `SQ${formatCompactBeijing(clock.now())}000001`;
    expect((await gateway.simulator.pushResult(series, '430300', { approve: true })).status).to.equal(200);
    expect((await gateway.simulator.pushOutcome(series, '1')).status).to.equal(200);
    await waitFor(async () => (await gateway.runtime.redis.llen(gateway.runtime.keys.hostApplicationHeld(series))) === 2);
    expect((await view(id)).state).to.equal('requested');
    await waitFor(async () => (await view(id)).state === 'in-force');
    const trace = (await view(id)).trace.map((entry) => entry.stage);
    expect(trace.indexOf('host-application-answered')).to.be.lessThan(trace.indexOf('host-host-result'));
    expect(trace.indexOf('host-host-result')).to.be.lessThan(trace.indexOf('host-host-outcome'));
    // the held pushes are let go once applied, and their records marked processed
    await waitFor(async () => (await gateway.runtime.redis.exists(gateway.runtime.keys.hostApplicationHeld(series))) === 0);
  });

  it('when a province guest rejects, the evaluation fails naming it: the Changsha hold released, the host room freed, no host-cancel', async () => {
    const { id, series, requestId } = await planned();
    await offer(requestId, 'OF-2', 2);
    await gateway.simulator.pushResult(series ?? '', '430300', { approve: false, reason: 'NO_CAPACITY' });
    await waitFor(async () => (await view(id)).state === 'failed');
    const failed = await view(id);
    expect(failed.reason).to.equal('430300 NO_CAPACITY');
    const released = await gateway.changshaSimulator.waitForEvent(of('slot.released', requestId));
    expect(released.data['reason']).to.equal('PROJECT_CANCELLED');
    await waitFor(async () => (await gateway.runtime.ledger.bookings()).every((booking) => booking.owner !== `host:${id}`));
    expect(gateway.simulator.received.filter((message) => message.operation === 'host-cancel')).to.have.length(0);
  });

  it('when Changsha declines, the evaluation fails and the province application is cancelled once its number is known', async () => {
    const { id, series, requestId } = await planned();
    await gateway.changsha.send('slot.declined', { requestId, reason: 'NO_CAPACITY' });
    await waitFor(async () => (await view(id)).state === 'failed');
    expect((await view(id)).reason).to.equal('430100 NO_CAPACITY');
    const cancel = await gateway.simulator.waitFor('host-cancel');
    expect(cancel.data['ORIGINAL_SERIES_NUMBER']).to.equal(series);
  });

  it('when nothing is decided by the deadline (injected clock), the sweep fails it with DEADLINE naming the undecided guests and lets everything go', async () => {
    const { id, requestId } = await planned();
    clock.advance(121 * 60_000);
    expect(await sweepHostEvaluations(gateway.runtime)).to.be.greaterThan(0);
    const failed = await view(id);
    expect(failed.state).to.equal('failed');
    expect(failed.reason).to.equal('DEADLINE 430300,430100');
    await gateway.changshaSimulator.waitForEvent(of('slot.released', requestId));
    await gateway.simulator.waitFor('host-cancel');
  });

  it("when a Changsha hold nears its end (injected clock) while the province is undecided, the sweep confirms it inside the margin, not before", async () => {
    const { id, requestId } = await planned();
    await offer(requestId, 'OF-3', 2, 10 * 60_000);
    await waitFor(async () => (await view(id)).legs.some((leg) => leg.state === 'offered'));
    clock.advance(7 * 60_000);
    await sweepHostEvaluations(gateway.runtime);
    expect((await view(id)).legs.find((leg) => leg.center === '430100')?.state).to.equal('offered');
    clock.advance(60_000 + 1);
    await sweepHostEvaluations(gateway.runtime);
    expect((await view(id)).legs.find((leg) => leg.center === '430100')?.state).to.equal('confirmed');
    await gateway.changshaSimulator.waitForEvent(of('slot.confirmed', requestId));
  });

  it('when what a stored step asks for cannot be carried out now (the province queue refuses), the plan is still answered 201 and its outbox waits for the host sweep', async () => {
    // a fault injected into the real queue: its add fails as it would with Redis gone mid-step
    const queue = gateway.runtime.outboundQueues.province;
    const add = queue.add.bind(queue);
    queue.add = () => Promise.reject(new Error('queue unavailable'));
    const created = await api().post<{ id: string; state: string }>('/api/v1/host-evaluations', plan({ guests: [{ center: '430300', seats: 2 }] }));
    expect(created.status, JSON.stringify(created.data)).to.equal(201);
    expect(created.data.state).to.equal('requested');
    const stored = await gateway.runtime.hostEvaluations.get(created.data.id);
    expect(stored?.outbox.map((entry) => entry.key)).to.include('apply:0');
    expect(await gateway.runtime.redis.zscore(gateway.runtime.keys.hostWake, created.data.id)).to.not.equal(null);
    // the queue back, the sweep (30 s on, injected clock) sends the host-apply
    queue.add = add;
    clock.advance(31_000);
    await sweepHostEvaluations(gateway.runtime);
    await gateway.simulator.waitFor('host-apply', (message) => message.data['BID_SECTION_CODE'] === plan().sectionCode);
  });

  it('when the plan breaks rules, the API answers 400 or 422 listing every violation, and nothing is planned', async () => {
    const bad = await api().post('/api/v1/host-evaluations', { ...plan(), hostSeats: 0, guests: [], agentPhone: 'x' });
    expect(bad.status).to.equal(400);
    expect((bad.data as { errors: { path: string }[] }).errors.map((error) => error.path)).to.include.members(['/hostSeats', '/guests', '/agentPhone']);
    const rules = await api().post('/api/v1/host-evaluations', plan({ sectionCode: 'M4302000260018837009002', projectType: undefined, guests: [{ center: '430200', seats: 1 }, { center: '999999', seats: 1 }] }));
    expect(rules.status).to.equal(422);
    expect((rules.data as { errors: { path: string }[] }).errors.map((error) => error.path)).to.have.members(['/sectionCode', '/projectType', '/guests/0/center', '/guests/1/center']);
    const listed = await api().get<{ items: unknown[] }>(`/api/v1/host-evaluations?date=${isoDay(day)}`);
    expect(listed.data.items).to.have.length(0);
  });

  it('when a lifecycle report comes before the evaluation is in force, it is refused 422 NOT_IN_FORCE; a second plan of the same section is a conflict', async () => {
    const { id } = await planned();
    const early = await api().post(`/api/v1/host-evaluations/${id}/status`, { status: 'started' });
    expect(early.status).to.equal(422);
    expect(early.data).to.include({ code: 'NOT_IN_FORCE' });
    const again = await api().post('/api/v1/host-evaluations', plan());
    expect(again.status).to.equal(409);
    const listed = await api().get<{ items: HostEvaluationView[] }>(`/api/v1/host-evaluations?date=${isoDay(day)}`);
    expect(listed.data.items.map((item) => item.id)).to.deep.equal([id]);
  });

  it('when cancelled while legs are still being asked, every leg is let go and it ends cancelled', async () => {
    const { id, series, requestId } = await planned();
    const cancelled = await api().delete(`/api/v1/host-evaluations/${id}`, { data: { reason: '招标人撤回' } });
    expect(cancelled.status).to.equal(202);
    expect(cancelled.data).to.deep.equal({ id, state: 'cancelled' });
    await gateway.changshaSimulator.waitForEvent(of('slot.released', requestId));
    const cancel = await gateway.simulator.waitFor('host-cancel');
    expect(cancel.data['ORIGINAL_SERIES_NUMBER']).to.equal(series);
    // an offer that comes after the cancel is released at once
    await offer(requestId, 'OF-late', 2);
    await waitFor(() => gateway.changshaSimulator.eventsOf('slot.released', requestId).length >= 1);
    expect((await view(id)).legs.every((leg) => leg.state === 'cancelled' || leg.state === 'declined')).to.equal(true);
  });
});
