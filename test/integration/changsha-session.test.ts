import { expect } from 'chai';
import { fixedClock } from '../../kernel/clock.ts';
import { futureDay } from '../helpers/dates.ts';
import { startTestGateway, waitForStage, type TestGateway } from '../helpers/gateway.ts';
import { loggedIn } from '../helpers/ops-client.ts';
import type { ChangshaWireEvent, SentEvent } from '../simulators/changsha.ts';
import { slotRequestedData } from '../simulators/changsha-client.ts';

/** `yyyyMMdd` and HH:mm, Beijing time, to epoch ms. */
function at(day: string, time: string): number {
  return Date.parse(`${day.slice(0, 4)}-${day.slice(4, 6)}-${day.slice(6, 8)}T${time}:00+08:00`);
}

function iso(day: string, time: string): string {
  return `${day.slice(0, 4)}-${day.slice(4, 6)}-${day.slice(6, 8)}T${time}:00+08:00`;
}

const of = (type: string, requestId: string) => (event: ChangshaWireEvent) => event.eventType === type && (event.data as { requestId?: string }).requestId === requestId;
/** The gateway's tracking id in a 202, from an answer (the client) or a sent event (the simulator). */
function trackingIdOf(answered: SentEvent | { data: unknown }): string {
  return ('event' in answered ? (answered.answer as { trackingId: string }) : (answered.data as { trackingId: string })).trackingId;
}

interface BoardBooking {
  requestId: string;
  resource: string;
  start: string;
  end: string;
  state: string;
  lifecycle: { status: string; at: string } | null;
  bookedEnd: string | null;
}

describe('Changsha session.status, Zhuzhou as guest: the host\'s lifecycle of a booking, over HTTP on real Redis', () => {
  let gateway: TestGateway;
  let clock: ReturnType<typeof fixedClock>;
  const day = futureDay({ open: true });

  beforeEach(async () => {
    clock = fixedClock(Date.now());
    gateway = await startTestGateway({ clock });
  });
  afterEach(async () => {
    await gateway.close();
  });

  /** A Changsha request for `seats` seats, offered and confirmed: in force at Zhuzhou. */
  async function booked(seats: number, start: string, end: string): Promise<{ requestId: string; roomId: string }> {
    const data = slotRequestedData({ start: iso(day, start), end: iso(day, end), seats });
    expect((await gateway.changsha.send('slot.requested', data)).status).to.equal(202);
    const offer = await gateway.changshaSimulator.waitForEvent(of('slot.offered', data.requestId));
    const { offerId, roomId } = offer.data as { offerId: string; roomId: string };
    const confirmed = await gateway.changsha.send('slot.confirmed', { requestId: data.requestId, offerId });
    await waitForStage(gateway.runtime, trackingIdOf(confirmed), 'decision');
    expect((await gateway.runtime.ledger.lookup('changsha', data.requestId))?.state).to.equal('in-force');
    return { requestId: data.requestId, roomId };
  }

  /** Changsha (the simulator, as host) reports a status; resolves once the gateway has processed it. */
  async function report(requestId: string, status: 'started' | 'paused' | 'resumed' | 'ended', time: string, reason?: string): Promise<SentEvent> {
    const sent = await gateway.changshaSimulator.sendSessionStatus(gateway.url, { requestId, status, at: at(day, time), ...(reason === undefined ? {} : { reason }) });
    if (sent.status === 202) await waitForStage(gateway.runtime, trackingIdOf(sent), 'lifecycle');
    return sent;
  }

  async function boardBooking(requestId: string): Promise<BoardBooking | undefined> {
    const viewer = await loggedIn(gateway, 'viewer', 'viewer');
    const board = await viewer.get<{ bookings: BoardBooking[] }>(`/ops/api/rooms?from=${day.slice(0, 4)}-${day.slice(4, 6)}-${day.slice(6, 8)}&days=1`);
    return board.bookings.find((booking) => booking.requestId === requestId);
  }

  it('when Changsha reports started, paused with a reason, resumed and an early end, each is answered 202, recorded in order and shown on the room board, and the room is free from the reported end plus the buffer', async () => {
    const { requestId, roomId } = await booked(9, '09:00', '15:00');
    expect(roomId).to.equal('ZZ-PBS-01');
    // the evaluation day, on the gateway's clock
    clock.set(at(day, '09:00'));

    const answers = [
      await report(requestId, 'started', '09:00'),
      await report(requestId, 'paused', '10:30', '专家申请回避，暂停评标，等待补抽专家'),
      await report(requestId, 'resumed', '10:50'),
    ];
    expect(answers.map((answer) => answer.status)).to.deep.equal([202, 202, 202]);
    expect(answers.map((answer) => (answer.answer as { accepted: boolean }).accepted)).to.deep.equal([true, true, true]);
    const paused = await boardBooking(requestId);
    expect(paused).to.deep.include({ resource: 'ZZ-PBS-01', state: 'in-force', lifecycle: { status: 'resumed', at: new Date(at(day, '10:50')).toISOString() }, bookedEnd: null });

    clock.set(at(day, '12:01'));
    expect((await report(requestId, 'ended', '12:00')).status).to.equal(202);
    expect((await gateway.runtime.ledger.lifecycle('changsha', requestId)).map(({ status, at: time, reason }) => ({ status, at: time, reason }))).to.deep.equal([
      { status: 'started', at: at(day, '09:00'), reason: undefined },
      { status: 'paused', at: at(day, '10:30'), reason: '专家申请回避，暂停评标，等待补抽专家' },
      { status: 'resumed', at: at(day, '10:50'), reason: undefined },
      { status: 'ended', at: at(day, '12:00'), reason: undefined },
    ]);
    const ended = await boardBooking(requestId);
    expect(ended).to.deep.include({
      lifecycle: { status: 'ended', at: new Date(at(day, '12:00')).toISOString() },
      end: new Date(at(day, '12:00')).toISOString(),
      bookedEnd: new Date(at(day, '15:00')).toISOString(),
    });

    // 30 minutes of buffer: at 12:29 the room is still being turned over, from 12:30 it is free
    const early = slotRequestedData({ start: iso(day, '12:29'), end: iso(day, '14:00'), seats: 9 });
    await gateway.changsha.send('slot.requested', early);
    expect((await gateway.changshaSimulator.waitForEvent(of('slot.offered', early.requestId))).data).to.deep.include({ roomId: 'ZZ-GW-A' });
    const freed = slotRequestedData({ start: iso(day, '12:30'), end: iso(day, '14:00'), seats: 9 });
    await gateway.changsha.send('slot.requested', freed);
    expect((await gateway.changshaSimulator.waitForEvent(of('slot.offered', freed.requestId))).data).to.deep.include({ roomId: 'ZZ-PBS-01' });
  });

  it('when session.status names an unknown requestId, a hold not yet confirmed, or a request Changsha released, answers 422 NOT_IN_FORCE and records nothing', async () => {
    const held = slotRequestedData({ start: iso(day, '09:00'), end: iso(day, '12:00'), seats: 3 });
    await gateway.changsha.send('slot.requested', held);
    await gateway.changshaSimulator.waitForEvent(of('slot.offered', held.requestId));
    const { requestId: released } = await booked(4, '13:00', '15:00');
    const release = await gateway.changsha.send('slot.released', { requestId: released, reason: 'PROJECT_CANCELLED' });
    await waitForStage(gateway.runtime, trackingIdOf(release), 'decision');

    for (const requestId of ['CSR-never-asked', held.requestId, released]) {
      const answer = await gateway.changsha.sessionStatus(requestId, 'started', at(day, '09:00'));
      expect(answer.status, requestId).to.equal(422);
      expect(answer.headers['content-type']).to.match(/^application\/problem\+json/);
      expect(answer.data).to.deep.include({ title: 'Unprocessable event', status: 422, errors: [{ path: '/data/requestId', message: 'NOT_IN_FORCE' }] });
      expect(await gateway.runtime.ledger.lifecycle('changsha', requestId)).to.deep.equal([]);
    }
  });

  it('when paused comes without a reason, answers 400 naming /data/reason and records nothing', async () => {
    const { requestId } = await booked(3, '09:00', '12:00');
    const answer = await gateway.changsha.sessionStatus(requestId, 'paused', at(day, '10:00'));
    expect(answer.status).to.equal(400);
    expect(answer.data).to.deep.include({ title: 'Invalid event', errors: [{ path: '/data/reason', message: 'is required' }] });
    expect(await gateway.runtime.ledger.lifecycle('changsha', requestId)).to.deep.equal([]);
  });

  it('when the same session.status comes again after the booking was released, answers the first 202 again and records it once', async () => {
    const { requestId } = await booked(3, '09:00', '12:00');
    const event = gateway.changsha.event('session.status', { requestId, status: 'started', at: iso(day, '09:00') });
    const first = await gateway.changsha.post(event);
    expect(first.status).to.equal(202);
    await waitForStage(gateway.runtime, trackingIdOf(first), 'lifecycle');
    const release = await gateway.changsha.send('slot.released', { requestId, reason: 'OTHER' });
    await waitForStage(gateway.runtime, trackingIdOf(release), 'decision');
    const again = await gateway.changsha.post(event);
    expect(again.status).to.equal(202);
    expect(again.data).to.deep.equal(first.data);
    expect((await gateway.runtime.ledger.lifecycle('changsha', requestId)).map((entry) => entry.status)).to.deep.equal(['started']);
  });

  it('when statuses do not follow one another (resumed with no pause) or overtake each other, each is accepted and recorded as the host reported it, the latest by its time being the status (changsha.md leaves transitions to the host)', async () => {
    const { requestId } = await booked(3, '09:00', '12:00');
    expect((await report(requestId, 'resumed', '09:40')).status).to.equal(202);
    expect((await report(requestId, 'started', '09:00')).status).to.equal(202);
    expect((await gateway.runtime.ledger.lifecycle('changsha', requestId)).map((entry) => entry.status)).to.deep.equal(['started', 'resumed']);
    expect((await boardBooking(requestId))?.lifecycle).to.deep.equal({ status: 'resumed', at: new Date(at(day, '09:40')).toISOString() });
  });
});

describe('Changsha session.status, Zhuzhou as host: the adapter tells a guest of the evaluation', () => {
  let gateway: TestGateway;
  beforeEach(async () => {
    gateway = await startTestGateway({ workers: false });
  });
  afterEach(async () => {
    await gateway.close();
  });

  it('when Zhuzhou pauses and ends its evaluation, each session.status is signed, delivered and recorded by Changsha; sent again from the same cause it is the same eventId, a repeat Changsha does not record twice', async () => {
    const adapter = gateway.runtime.adapters.changsha;
    const requestId = 'ZZR-20261130-0012';
    const day = futureDay({ open: true });
    const pausedAt = new Date(at(day, '10:40')).toISOString();
    const pauseId = adapter.messageIdFor(`lifecycle:${requestId}:paused:${pausedAt}`);
    expect(adapter.messageIdFor(`lifecycle:${requestId}:paused:${pausedAt}`)).to.equal(pauseId);
    const pause = adapter.host?.encode({ kind: 'status', requestId, lifecycle: { status: 'paused', at: pausedAt, reason: '专家申请回避' } }, pauseId);
    const end = adapter.host?.encode({ kind: 'status', requestId, lifecycle: { status: 'ended', at: new Date(at(day, '15:05')).toISOString() } }, adapter.messageIdFor(`lifecycle:${requestId}:ended`));
    if (!pause || !end) expect.fail('the Changsha adapter encodes no host messages');

    expect(await adapter.deliver(pause)).to.deep.include({ kind: 'delivered', status: 202 });
    expect(await adapter.deliver(end)).to.deep.include({ kind: 'delivered', status: 202 });
    // the resend of a job run twice: Changsha answers 409 duplicate, which is success
    expect(await adapter.deliver(pause)).to.deep.include({ kind: 'delivered', status: 409 });

    const simulator = gateway.changshaSimulator;
    expect(simulator.rejected).to.deep.equal([]);
    expect(simulator.duplicates).to.equal(1);
    expect(simulator.sessions.get(requestId)).to.deep.equal([
      { eventId: pauseId, status: 'paused', at: iso(day, '10:40'), reason: '专家申请回避' },
      { eventId: end.messageId, status: 'ended', at: iso(day, '15:05') },
    ]);
  });
});
