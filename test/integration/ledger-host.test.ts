import { expect } from 'chai';
import fc from 'fast-check';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { Keys } from '../../kernel/redis/keys.ts';
import { loadConfig, type RoomConfig } from '../../config/index.ts';
import { WorkCalendar } from '../../ledger/calendar.ts';
import { RoomLedger, hostOwner, type Booking, type HostHoldInput, type LedgerRequest } from '../../ledger/index.ts';
import { sweepLapsedHolds } from '../../usecases/decisions.ts';
import type { Runtime } from '../../usecases/runtime.ts';
import { deleteNamespace, testEnv, testRedisUrl } from '../helpers/gateway.ts';

const MINUTE = 60 * 1000;
const HOUR = 60 * MINUTE;
const DAY_START = Date.parse('2027-03-03T08:00:00+08:00');
// 09:00–12:00 Beijing time on a Wednesday
const START = DAY_START + HOUR;
const END = DAY_START + 4 * HOUR;

describe('room ledger: Zhuzhou\'s own host room (host evaluations), on real Redis', () => {
  let redis: Redis;
  let namespace: string;
  let ledger: RoomLedger;
  let bufferMinutes: number;
  let rooms: readonly RoomConfig[];

  beforeEach(() => {
    namespace = `t-${randomBytes(6).toString('hex')}`;
    const config = loadConfig({ env: testEnv(namespace, 'http://127.0.0.1:9') });
    bufferMinutes = config.ledger.bufferMinutes;
    rooms = config.ledger.rooms;
    redis = new Redis(testRedisUrl());
    ledger = new RoomLedger(redis, new Keys(namespace), rooms, bufferMinutes);
  });
  afterEach(async () => {
    redis.disconnect();
    await deleteNamespace(testRedisUrl(), namespace);
  });

  function hold(overrides: Partial<HostHoldInput> & Pick<HostHoldInput, 'evaluationId'>): ReturnType<RoomLedger['holdHostRoom']> {
    return ledger.holdHostRoom({ start: START, end: END, seats: 3, closed: false, now: DAY_START, ...overrides });
  }

  function guest(overrides: Partial<LedgerRequest> & Pick<LedgerRequest, 'id'>): LedgerRequest {
    return { op: 'apply', partner: 'province', start: START, end: END, seats: 3, now: DAY_START, notifyId: randomBytes(16).toString('hex'), trackingNo: `T-${overrides.id}`, decidedAt: new Date(DAY_START).toISOString(), ...overrides };
  }

  const owners = async (): Promise<string[]> => [...new Set((await ledger.bookings()).map((booking) => booking.owner))].sort();

  it('when a host evaluation asks for 3 seats, it holds the smallest room that fits, owned by host:<evaluation>, with no expiry', async () => {
    const held = await hold({ evaluationId: 'HE1' });
    expect(held).to.deep.equal({ ok: true, roomId: 'ZZ-PBS-05', seatIds: ['ZZ-PBS-05-01', 'ZZ-PBS-05-02', 'ZZ-PBS-05-03'], state: 'held' });
    expect(await ledger.bookings()).to.deep.equal([{ resource: 'ZZ-PBS-05', owner: 'host:HE1', start: START, end: END }]);
    const state = (await ledger.requestStates(['host:HE1'])).get('host:HE1');
    expect(state).to.deep.include({ state: 'held', seats: 3, roomId: 'ZZ-PBS-05', trackingNo: null });
    expect(state?.holdUntil).to.equal(undefined);
  });

  it('when a second and a third evaluation ask for the same window, each gets the next room by best fit, never the first one\'s', async () => {
    await hold({ evaluationId: 'HE1' });
    expect(await hold({ evaluationId: 'HE2' })).to.deep.include({ ok: true, roomId: 'ZZ-PBS-06' });
    expect(await hold({ evaluationId: 'HE3' })).to.deep.include({ ok: true, roomId: 'ZZ-PBS-03' });
    expect(await owners()).to.deep.equal(['host:HE1', 'host:HE2', 'host:HE3']);
  });

  it('when a change of an evaluation in force asks for the same window, it keeps the room of the booking in force beside it, and another evaluation cannot take that room', async () => {
    await hold({ evaluationId: 'HE1' });
    await ledger.bookHostRoom({ evaluationId: 'HE1' });
    await hold({ evaluationId: 'HE2' }); // ZZ-PBS-06: no other 3-seat room is free

    const change = await hold({ evaluationId: 'HE1', change: 1 });
    expect(change).to.deep.include({ ok: true, roomId: 'ZZ-PBS-05' });
    expect(await owners()).to.deep.equal(['host:HE1', 'host:HE1:C1', 'host:HE2']);
    // another evaluation's change sees HE1's booking and its change's hold as taken
    await ledger.bookHostRoom({ evaluationId: 'HE2' });
    expect(await hold({ evaluationId: 'HE2', change: 1, seats: 3 })).to.deep.include({ ok: true, roomId: 'ZZ-PBS-06' });
    expect(await hold({ evaluationId: 'HE3' })).to.deep.include({ ok: true, roomId: 'ZZ-PBS-03' });

    // the change comes into force: the old booking goes, and a second change keeps the room again
    expect(await ledger.bookHostRoom({ evaluationId: 'HE1', change: 1 })).to.deep.include({ ok: true, outcome: 'booked' });
    expect(await ledger.freeHostRoom({ evaluationId: 'HE1' })).to.deep.equal({ outcome: 'released' });
    const second = await hold({ evaluationId: 'HE1', change: 2, start: START + HOUR, end: END + HOUR });
    expect(second).to.deep.include({ ok: true, roomId: 'ZZ-PBS-05' });
    expect((await ledger.bookings()).filter((booking) => booking.owner.startsWith('host:HE1')).map((booking) => booking.owner).sort()).to.deep.equal(['host:HE1:C1', 'host:HE1:C2']);
  });

  it('when the first plan is only held, not booked, its change does not count that hold as free', async () => {
    await hold({ evaluationId: 'HE1', seats: 9 });
    expect(await hold({ evaluationId: 'HE1', change: 1, seats: 9 })).to.deep.include({ ok: true, roomId: 'ZZ-GW-A' });
  });

  it('when no room nor enough hall seats are free the hold is refused NO_CAPACITY, on a closed day CENTER_CLOSED, and neither holds anything', async () => {
    expect(await hold({ evaluationId: 'HE-big', seats: 13 })).to.deep.equal({ ok: false, reason: 'NO_CAPACITY' });
    await hold({ evaluationId: 'HE-a', seats: 9 });
    await hold({ evaluationId: 'HE-b', seats: 12 });
    expect(await hold({ evaluationId: 'HE-c', seats: 8 })).to.deep.equal({ ok: false, reason: 'NO_CAPACITY' });
    const saturday = Date.parse('2027-03-06T09:00:00+08:00');
    const closed = new WorkCalendar([]).isClosed('2027-03-06');
    expect(closed).to.equal(true);
    expect(await hold({ evaluationId: 'HE-sat', start: saturday, end: saturday + 2 * HOUR, closed })).to.deep.equal({ ok: false, reason: 'CENTER_CLOSED' });
    expect(await hold({ evaluationId: 'HE-past', start: DAY_START - 3 * HOUR, end: DAY_START - HOUR })).to.deep.equal({ ok: false, reason: 'INVALID_WINDOW' });
    expect(await owners()).to.deep.equal(['host:HE-a', 'host:HE-b']);
  });

  it('when the same hold is asked twice (a job run again), the second answers the first room and holds nothing more', async () => {
    const first = await hold({ evaluationId: 'HE1' });
    await hold({ evaluationId: 'HE2' });
    const again = await hold({ evaluationId: 'HE1' });
    expect(again).to.deep.equal(first);
    expect((await ledger.bookings()).filter((booking) => booking.owner === 'host:HE1')).to.have.length(1);
  });

  it('when the hold is booked it is in force, a second booking is a repeat, and a room never held cannot be booked', async () => {
    await hold({ evaluationId: 'HE1' });
    expect(await ledger.bookHostRoom({ evaluationId: 'HE1' })).to.deep.equal({ ok: true, outcome: 'booked', roomId: 'ZZ-PBS-05', seatIds: ['ZZ-PBS-05-01', 'ZZ-PBS-05-02', 'ZZ-PBS-05-03'] });
    expect(await ledger.bookHostRoom({ evaluationId: 'HE1' })).to.deep.include({ ok: true, outcome: 'unchanged', roomId: 'ZZ-PBS-05' });
    expect((await ledger.requestStates(['host:HE1'])).get('host:HE1')?.state).to.equal('in-force');
    expect(await ledger.bookHostRoom({ evaluationId: 'HE-never' })).to.deep.equal({ ok: false, reason: 'NOT_HELD' });
    expect(await hold({ evaluationId: 'HE-full', seats: 13 })).to.deep.include({ ok: false });
    expect(await ledger.bookHostRoom({ evaluationId: 'HE-full' })).to.deep.equal({ ok: false, reason: 'NOT_HELD' });
  });

  it('when the host room is freed without an end, hold or booking goes entirely, a second free changes nothing, and the room is free for others', async () => {
    await hold({ evaluationId: 'HE1', seats: 9 });
    await ledger.bookHostRoom({ evaluationId: 'HE1' });
    expect(await ledger.freeHostRoom({ evaluationId: 'HE1' })).to.deep.equal({ outcome: 'released' });
    expect(await ledger.freeHostRoom({ evaluationId: 'HE1' })).to.deep.equal({ outcome: 'unchanged' });
    expect(await ledger.bookings()).to.deep.equal([]);
    expect(await ledger.bookHostRoom({ evaluationId: 'HE1' })).to.deep.equal({ ok: false, reason: 'NOT_HELD' });
    const other = await ledger.decide(guest({ id: 'SQ1', seats: 9 }));
    expect(other.held === false && other.decision).to.deep.include({ outcome: 'approved', roomId: 'ZZ-PBS-01' });
  });

  it('when a free overtakes its hold, the hold that comes after is refused RELEASED and holds nothing', async () => {
    expect(await ledger.freeHostRoom({ evaluationId: 'HE1', change: 1 })).to.deep.equal({ outcome: 'unchanged' });
    expect(await hold({ evaluationId: 'HE1', change: 1 })).to.deep.equal({ ok: false, reason: 'RELEASED' });
    expect(await ledger.bookings()).to.deep.equal([]);
  });

  it('when the host room is freed from a reported end, it stays occupied until that end and is free from the end plus the buffer, never lengthened', async () => {
    const end = DAY_START + 7 * HOUR; // 15:00
    await hold({ evaluationId: 'HE1', seats: 9, end });
    await ledger.bookHostRoom({ evaluationId: 'HE1' });
    const endedAt = DAY_START + 4 * HOUR; // 12:00
    expect(await ledger.freeHostRoom({ evaluationId: 'HE1', from: endedAt })).to.deep.equal({ outcome: 'shortened', end: endedAt });
    // the room board shows the end beside the booking, as for a guest booking the host ended
    expect((await ledger.requestStates(['host:HE1'])).get('host:HE1')).to.deep.include({ state: 'in-force', lifecycle: { status: 'ended', at: endedAt }, bookedEnd: end });
    expect(await ledger.freeHostRoom({ evaluationId: 'HE1', from: endedAt })).to.deep.equal({ outcome: 'unchanged', end: endedAt });
    expect(await ledger.freeHostRoom({ evaluationId: 'HE1', from: end + HOUR })).to.deep.equal({ outcome: 'unchanged', end: endedAt });
    expect(await ledger.bookings()).to.deep.equal([{ resource: 'ZZ-PBS-01', owner: 'host:HE1', start: START, end: endedAt }]);

    const freeFrom = endedAt + bufferMinutes * MINUTE;
    const tooEarly = await ledger.decide(guest({ id: 'SQ-early', seats: 9, start: freeFrom - MINUTE, end: freeFrom + HOUR }));
    expect(tooEarly.held === false && tooEarly.decision).to.deep.include({ outcome: 'approved', roomId: 'ZZ-GW-A' });
    const inTime = await ledger.decide(guest({ id: 'SQ-freed', seats: 9, start: freeFrom, end: freeFrom + HOUR }));
    expect(inTime.held === false && inTime.decision).to.deep.include({ outcome: 'approved', roomId: 'ZZ-PBS-01' });
  });

  it('when the clock is past every hold time, the lapsed-hold sweep and the expiry path release a Changsha hold but leave the host hold alone', async () => {
    await hold({ evaluationId: 'HE1' });
    await ledger.decide(guest({ op: 'hold', partner: 'changsha', id: 'CSR-1', offerId: 'O-1', holdUntil: DAY_START + 30 * MINUTE }));
    const farFuture = DAY_START + 30 * 24 * HOUR;
    expect((await ledger.lapsedHolds(farFuture)).map((lapsed) => `${lapsed.partner}:${lapsed.requestId}`)).to.deep.equal(['changsha:CSR-1']);
    expect([...(await ledger.heldOwners())]).to.deep.equal(['changsha:CSR-1']);
    const expiry = await ledger.decide(guest({ op: 'expire', partner: 'host', id: 'HE1', now: farFuture }));
    expect(expiry.held === false && expiry.decision.outcome).to.equal('unchanged');
    const confirm = await ledger.decide(guest({ op: 'confirm', partner: 'host', id: 'HE1', offerId: 'O-x', now: farFuture }));
    expect(confirm.held === false && confirm.decision.outcome).to.equal('unchanged');
    await ledger.decide(guest({ op: 'expire', partner: 'changsha', id: 'CSR-1', offerId: 'O-1', now: farFuture }));

    // the sweep itself, with nothing lapsed left but the host hold: it finds nothing to release
    const runtime = { ledger, clock: { now: () => farFuture } } as unknown as Runtime;
    expect(await sweepLapsedHolds(runtime)).to.deep.equal({ swept: 0 });
    expect(await owners()).to.deep.equal(['host:HE1']);
    expect((await ledger.requestStates(['host:HE1'])).get('host:HE1')?.state).to.equal('held');
    // the ledger gauge of /metrics counts it as a hold, not a booking, though it is not in the lapsing holds index
    expect([...(await ledger.heldOwners(['host:HE1']))]).to.deep.equal(['host:HE1']);
  });

  it('when an evaluation id has a colon or a change is not numbered from 1, it is refused before reaching Redis', async () => {
    expect(() => hostOwner('HE:1')).to.throw('colon');
    let refusal: unknown;
    try {
      await hold({ evaluationId: 'HE1', change: -1 });
    } catch (error) {
      refusal = error;
    }
    expect(refusal).to.have.property('code', 'SEMANTIC_INVALID');
    expect(hostOwner('HE1', 2)).to.equal('host:HE1:C2');
  });

  describe('never double-booked (property)', () => {
    type Step =
      | { t: 'guest'; slot: Slot; seats: number }
      | { t: 'hold'; evaluation: number; asChange: boolean; slot: Slot; seats: number }
      | { t: 'book'; pick: number }
      | { t: 'free'; pick: number; endAfterSlots: number | null }
      | { t: 'repeat'; pick: number };
    interface Slot {
      startSlot: number;
      slots: number;
    }
    const slotArb = fc.record({ startSlot: fc.integer({ min: 0, max: 15 }), slots: fc.integer({ min: 1, max: 8 }) });
    const seatsArb = fc.oneof({ weight: 4, arbitrary: fc.integer({ min: 1, max: 9 }) }, { weight: 1, arbitrary: fc.integer({ min: 10, max: 13 }) });
    const pickArb = fc.nat({ max: 999 });
    const stepArb: fc.Arbitrary<Step> = fc.oneof(
      { weight: 4, arbitrary: fc.record({ t: fc.constant('guest' as const), slot: slotArb, seats: seatsArb }) },
      { weight: 4, arbitrary: fc.record({ t: fc.constant('hold' as const), evaluation: fc.integer({ min: 0, max: 3 }), asChange: fc.boolean(), slot: slotArb, seats: seatsArb }) },
      { weight: 3, arbitrary: fc.record({ t: fc.constant('book' as const), pick: pickArb }) },
      { weight: 2, arbitrary: fc.record({ t: fc.constant('free' as const), pick: pickArb, endAfterSlots: fc.option(fc.integer({ min: 0, max: 8 }), { nil: null }) }) },
      { weight: 1, arbitrary: fc.record({ t: fc.constant('repeat' as const), pick: pickArb }) },
    );
    const slotTimes = (slot: Slot) => ({ start: DAY_START + slot.startSlot * 30 * MINUTE, end: DAY_START + (slot.startSlot + slot.slots) * 30 * MINUTE });

    /** Overlaps within the buffer, except a change's hold beside its evaluation's booking in force when it was held. */
    function conflicts(bookings: Booking[], allowed: Set<string>): string[] {
      const buffer = bufferMinutes * MINUTE;
      const found: string[] = [];
      bookings.forEach((a, i) => {
        for (const b of bookings.slice(i + 1)) {
          if (a.resource !== b.resource || a.owner === b.owner) continue;
          if (!(a.start - buffer < b.end && b.start - buffer < a.end)) continue;
          if (allowed.has(`${a.owner}|${b.owner}`) || allowed.has(`${b.owner}|${a.owner}`)) continue;
          found.push(`${a.resource}: ${a.owner} [${a.start},${a.end}) and ${b.owner} [${b.start},${b.end})`);
        }
      });
      return found;
    }

    /** Whether anything fits `seats` over the window in `bookings`, the `ignored` owners counting as free: plain loops, no ledger. */
    function somethingFits(bookings: Booking[], window: { start: number; end: number }, seats: number, ignored: Set<string>): boolean {
      const buffer = bufferMinutes * MINUTE;
      const free = (resource: string) => bookings.every((b) => b.resource !== resource || ignored.has(b.owner) || !(window.start - buffer < b.end && b.start < window.end + buffer));
      return rooms.some((room) =>
        room.kind === 'room'
          ? room.seats >= seats && free(room.id)
          : Array.from({ length: room.seats }, (_, n) => `${room.id}-${String(n + 1).padStart(2, '0')}`).filter(free).length >= seats,
      );
    }

    async function run(steps: Step[]): Promise<void> {
      // a namespace of its own for every run: the runs share one Redis
      const runNamespace = `t-${randomBytes(6).toString('hex')}`;
      ledger = new RoomLedger(redis, new Keys(runNamespace), rooms, bufferMinutes);
      try {
        await runSteps(steps);
      } finally {
        await deleteNamespace(testRedisUrl(), runNamespace);
      }
    }

    async function runSteps(steps: Step[]): Promise<void> {
      const story: string[] = [];
      const allowed = new Set<string>();
      /** per evaluation: its host room refs asked so far, and which are booked now */
      const evaluations = new Map<number, { changes: number; inForce: Set<number> }>();
      const asked: { evaluation: number; change: number; input: HostHoldInput }[] = [];
      let guests = 0;
      for (const [index, step] of steps.entries()) {
        const before = await ledger.bookings();
        const pick = <T>(list: T[], n: number): T | undefined => list[n % Math.max(list.length, 1)];
        if (step.t === 'guest') {
          const window = slotTimes(step.slot);
          const result = await ledger.decide(guest({ id: `SQ${++guests}`, ...window, seats: step.seats }));
          const outcome = result.held === false ? result.decision.outcome : 'held';
          story.push(`#${index} guest SQ${guests} ${step.seats} seats ${JSON.stringify(step.slot)}: ${outcome}`);
          if (outcome === 'rejected') expect(somethingFits(before, window, step.seats, new Set()), story.join('\n')).to.equal(false);
        } else if (step.t === 'hold' || step.t === 'repeat') {
          const repeat = step.t === 'repeat' ? pick(asked, step.pick) : undefined;
          if (step.t === 'repeat' && !repeat) continue;
          let input: HostHoldInput;
          let evaluationNo: number;
          let change: number;
          if (repeat) {
            ({ input, evaluation: evaluationNo, change } = repeat);
          } else if (step.t === 'hold') {
            evaluationNo = step.evaluation;
            const known = evaluations.get(evaluationNo) ?? { changes: -1, inForce: new Set<number>() };
            change = known.changes >= 0 && step.asChange ? known.changes + 1 : known.changes >= 0 ? -1 : 0;
            if (change < 0) continue;
            known.changes = change;
            evaluations.set(evaluationNo, known);
            input = { evaluationId: `HE${evaluationNo}`, ...(change === 0 ? {} : { change }), ...slotTimes(step.slot), seats: step.seats, closed: false, now: DAY_START };
            asked.push({ evaluation: evaluationNo, change, input });
          } else continue;
          const owner = hostOwner(input.evaluationId, input.change);
          const inForce = [...(evaluations.get(evaluationNo)?.inForce ?? [])].filter((n) => n < change).map((n) => hostOwner(input.evaluationId, n));
          const result = await ledger.holdHostRoom(input);
          story.push(`#${index} ${repeat ? 'repeat ' : ''}hold ${owner} ${input.seats} seats: ${JSON.stringify(result)}`);
          if (!repeat && result.ok) for (const other of inForce) allowed.add(`${owner}|${other}`);
          if (!repeat && !result.ok) {
            expect(result.reason, story.join('\n')).to.equal('NO_CAPACITY');
            expect(somethingFits(before, input, input.seats, new Set(inForce)), story.join('\n')).to.equal(false);
          }
          if (!repeat) expect((await ledger.bookings()).filter((b) => b.owner === owner).length, story.join('\n')).to.equal(result.ok ? (result.roomId === 'ZZ-GW-A' ? input.seats : 1) : 0);
        } else {
          const target = pick(asked, step.pick);
          if (!target) continue;
          const ref = { evaluationId: target.input.evaluationId, ...(target.change === 0 ? {} : { change: target.change }) };
          const known = evaluations.get(target.evaluation);
          if (step.t === 'book') {
            const booked = await ledger.bookHostRoom(ref);
            story.push(`#${index} book ${hostOwner(ref.evaluationId, ref.change)}: ${JSON.stringify(booked)}`);
            if (booked.ok) known?.inForce.add(target.change);
          } else {
            const from = step.endAfterSlots === null ? undefined : target.input.start + step.endAfterSlots * 30 * MINUTE;
            const freed = await ledger.freeHostRoom({ ...ref, ...(from === undefined ? {} : { from }) });
            story.push(`#${index} free ${hostOwner(ref.evaluationId, ref.change)} from ${from ?? '-'}: ${JSON.stringify(freed)}`);
            if (from === undefined) known?.inForce.delete(target.change);
          }
        }
        const after = await ledger.bookings();
        expect(conflicts(after, allowed), `double booking after step #${index}:\n${story.join('\n')}\n`).to.deep.equal([]);
        for (const owner of new Set(after.map((b) => b.owner))) {
          const roomsOf = new Set(after.filter((b) => b.owner === owner).map((b) => b.resource.replace(/^(ZZ-GW-A)-\d+$/, '$1')));
          expect(roomsOf.size, `${owner} in several rooms:\n${story.join('\n')}`).to.equal(1);
        }
      }
    }

    it('when guest applies mix with host holds, changes, bookings and frees over one morning, no resource is ever occupied twice within the buffer and every refusal had nothing free', async () => {
      await fc.assert(fc.asyncProperty(fc.array(stepArb, { minLength: 15, maxLength: 40 }), run), { numRuns: 60 });
    });
  });
});
