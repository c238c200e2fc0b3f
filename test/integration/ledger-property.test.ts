import { expect } from 'chai';
import fc from 'fast-check';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { loadConfig } from '../../config/index.ts';
import { Keys } from '../../kernel/redis/keys.ts';
import { RoomLedger, type Booking, type LedgerRequest, type LedgerResult } from '../../ledger/index.ts';
import { deleteNamespace, testEnv, testRedisUrl } from '../helpers/gateway.ts';

/*
 * The RoomLedger (one Lua script per decision, on real Redis) against a
 * reference model written here: in memory, plain loops, no indexes, so that it
 * is obviously right rather than fast. Random sequences of province requests
 * (apply, change, cancel) and Changsha slot events (hold, confirm, release,
 * expire) over one day run against both; after every step the answers and the
 * bookings must agree, and no resource may be booked twice within the buffer.
 */

const MINUTE = 60_000;
const MIDNIGHT = Date.parse('2027-03-03T00:00:00+08:00');
const at = (hour: number, minute = 0): number => MIDNIGHT + (hour * 60 + minute) * MINUTE;

interface Room {
  id: string;
  kind: string;
  seats: number;
}

/** What the test compares of one answer of the ledger. */
type Answer =
  | { held: true }
  | {
      held: false;
      kind: string;
      outcome: string;
      reason: string;
      roomId: string;
      seatIds: string[];
      notifyId: string;
      state: string;
      offerId: string;
      holdUntil: number | undefined;
      alreadyDecided: boolean;
      resume: string[];
    };

/** One request id of one partner, as the model remembers it. */
interface ModelRecord {
  /** has a decision of its own (a release tombstone has none) */
  decided: boolean;
  kind: string;
  outcome: string;
  reason: string;
  room: string;
  seatIds: string[];
  notifyId: string;
  state: string;
  offerId: string;
  holdUntil: number | undefined;
  /** a release that came before its hold: the reason the hold is answered with */
  releaseReason?: string;
  /** what it occupies now; undefined once freed (or never booked) */
  booking: { resources: string[]; start: number; end: number } | undefined;
}

interface Placement {
  room: string;
  seatIds: string[];
  resources: string[];
}

const seatName = (room: Room, n: number): string => `${room.id}-${String(n).padStart(2, '0')}`;

class ReferenceLedger {
  readonly #rooms: readonly Room[];
  readonly #bufferMs: number;
  readonly #records = new Map<string, ModelRecord>();
  readonly #waiting = new Map<string, Set<string>>();

  constructor(rooms: readonly Room[], bufferMs: number) {
    this.#rooms = rooms;
    this.#bufferMs = bufferMs;
  }

  /** The worker has queued a waiting message again. */
  resumed(partner: string, requestId: string, trackingNo: string): void {
    this.#waiting.get(`${partner}:${requestId}`)?.delete(trackingNo);
  }

  bookings(): Booking[] {
    const result: Booking[] = [];
    for (const [owner, record] of this.#records) {
      if (!record.booking) continue;
      for (const resource of record.booking.resources) result.push({ resource, owner, start: record.booking.start, end: record.booking.end });
    }
    return result;
  }

  decide(r: LedgerRequest): Answer {
    const key = `${r.partner}:${r.id}`;
    const self = this.#records.get(key);
    const isEvent = r.op === 'confirm' || r.op === 'release' || r.op === 'expire';
    if (!isEvent && self?.decided) return this.#answer(key, self, true);

    switch (r.op) {
      case 'confirm': {
        if (self && self.offerId === r.offerId && self.state === 'in-force') return this.#event(r, self, 'confirmed', '');
        if (self && self.offerId === r.offerId && self.state === 'held' && r.now < (self.holdUntil ?? 0)) {
          self.state = 'in-force';
          return this.#event(r, self, 'confirmed', '');
        }
        // too late or another offer: the answer says released, so the hold goes too
        if (self && self.state === 'held') {
          self.booking = undefined;
          self.state = 'expired';
        }
        return this.#event(r, self, 'released', 'HOLD_EXPIRED');
      }
      case 'release': {
        const reason = r.reason ?? 'OTHER';
        if (!self) {
          const tombstone = this.#blank();
          tombstone.kind = 'hold';
          tombstone.state = 'released';
          tombstone.releaseReason = reason;
          this.#records.set(key, tombstone);
          return this.#event(r, tombstone, 'unchanged', reason);
        }
        if (self.state === 'held' || self.state === 'in-force') {
          self.booking = undefined;
          self.state = 'released';
          return this.#event(r, self, 'released', reason);
        }
        return this.#event(r, self, 'unchanged', reason);
      }
      case 'expire': {
        if (self && self.state === 'held' && self.offerId === r.offerId && r.now >= (self.holdUntil ?? 0)) {
          self.booking = undefined;
          self.state = 'expired';
          return this.#event(r, self, 'released', 'HOLD_EXPIRED');
        }
        return this.#event(r, self, 'unchanged', '');
      }
      case 'hold': {
        if (self?.state === 'released') return this.#decide(r, key, 'released', self.releaseReason ?? 'OTHER', 'released', undefined);
        if (r.closed) return this.#decide(r, key, 'rejected', 'CENTER_CLOSED', 'rejected', undefined);
        if (window(r).end <= r.now) return this.#decide(r, key, 'rejected', 'INVALID_WINDOW', 'rejected', undefined);
        const placement = this.#bestFit(r, undefined, undefined);
        if (!placement) return this.#decide(r, key, 'rejected', 'NO_CAPACITY', 'rejected', undefined);
        const record = this.#book(key, r, placement);
        record.offerId = r.offerId ?? '';
        record.holdUntil = r.holdUntil;
        return this.#decide(r, key, 'held', '', 'held', placement);
      }
      case 'apply':
      case 'change':
      case 'cancel': {
        let original: ModelRecord | undefined;
        let originalKey: string | undefined;
        if (r.op !== 'apply') {
          originalKey = `${r.partner}:${r.replaces ?? ''}`;
          original = this.#records.get(originalKey);
          if (!original) {
            const waiting = this.#waiting.get(originalKey) ?? new Set<string>();
            waiting.add(r.trackingNo);
            this.#waiting.set(originalKey, waiting);
            return { held: true };
          }
          if (original.state !== 'in-force') return this.#decide(r, key, 'rejected', 'NOT_IN_FORCE', 'rejected', undefined);
        }
        if (r.op === 'cancel' && original) {
          original.booking = undefined;
          original.state = 'cancelled';
          return this.#decide(r, key, 'cancelled', 'CANCELLED', 'applied', undefined);
        }
        if (r.closed) return this.#decide(r, key, 'rejected', 'CENTER_CLOSED', 'rejected', undefined);
        const placement = this.#bestFit(r, originalKey, original?.room);
        if (!placement) return this.#decide(r, key, 'rejected', 'NO_CAPACITY', 'rejected', undefined);
        if (original) {
          original.booking = undefined;
          original.state = 'replaced';
        }
        this.#book(key, r, placement);
        return this.#decide(r, key, 'approved', '', 'in-force', placement);
      }
    }
  }

  /** Free over [start - buffer, end + buffer) of every booking but the ignored owner's. */
  #isFree(resource: string, start: number, end: number, ignoreOwner: string | undefined): boolean {
    return this.bookings().every(
      (b) => b.resource !== resource || b.owner === ignoreOwner || !(start - this.#bufferMs < b.end && b.start < end + this.#bufferMs),
    );
  }

  #place(room: Room, r: LedgerRequest, ignoreOwner: string | undefined): Placement | undefined {
    const { start, end } = window(r);
    const seats = r.seats ?? 0;
    if (room.kind === 'room') {
      if (room.seats < seats || !this.#isFree(room.id, start, end, ignoreOwner)) return undefined;
      const seatIds = Array.from({ length: seats }, (_, i) => seatName(room, i + 1));
      return { room: room.id, seatIds, resources: [room.id] };
    }
    const free = Array.from({ length: room.seats }, (_, i) => seatName(room, i + 1)).filter((seat) => this.#isFree(seat, start, end, ignoreOwner));
    if (free.length < seats) return undefined;
    const chosen = free.slice(0, seats);
    return { room: room.id, seatIds: chosen, resources: chosen };
  }

  /** The original's room first (for changes), then single-project rooms smallest first (ties: lower id), then halls. */
  #bestFit(r: LedgerRequest, ignoreOwner: string | undefined, preferredRoom: string | undefined): Placement | undefined {
    const bySize = (a: Room, b: Room): number => a.seats - b.seats || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
    const order = [
      // a change keeps a single-project room only; from the hall it goes by best fit
      ...this.#rooms.filter((room) => room.id === preferredRoom && room.kind === 'room'),
      ...this.#rooms.filter((room) => room.kind === 'room').sort(bySize),
      ...this.#rooms.filter((room) => room.kind !== 'room').sort(bySize),
    ];
    for (const room of order) {
      const placement = this.#place(room, r, ignoreOwner);
      if (placement) return placement;
    }
    return undefined;
  }

  #blank(): ModelRecord {
    return { decided: false, kind: '', outcome: '', reason: '', room: '', seatIds: [], notifyId: '', state: '', offerId: '', holdUntil: undefined, booking: undefined };
  }

  #book(key: string, r: LedgerRequest, placement: Placement): ModelRecord {
    const record = this.#records.get(key) ?? this.#blank();
    record.booking = { resources: placement.resources, ...window(r) };
    this.#records.set(key, record);
    return record;
  }

  #decide(r: LedgerRequest, key: string, outcome: string, reason: string, state: string, placement: Placement | undefined): Answer {
    const record = this.#records.get(key) ?? this.#blank();
    Object.assign(record, { decided: true, kind: r.op, outcome, reason, state, room: placement?.room ?? '', seatIds: placement?.seatIds ?? [], notifyId: r.notifyId });
    this.#records.set(key, record);
    return this.#answer(key, record, false);
  }

  #answer(key: string, record: ModelRecord, alreadyDecided: boolean): Answer {
    const { kind, outcome, reason, room, seatIds, notifyId, state, offerId, holdUntil } = record;
    const resume = [...(this.#waiting.get(key) ?? [])].sort();
    return { held: false, kind, outcome, reason, roomId: room, seatIds, notifyId, state, offerId, holdUntil, alreadyDecided, resume };
  }

  /** The answer to a confirm, release or expiry: the hold's record, with the event's outcome. */
  #event(r: LedgerRequest, record: ModelRecord | undefined, outcome: string, reason: string): Answer {
    const confirmed = outcome === 'confirmed' && record !== undefined;
    return {
      held: false,
      kind: r.op,
      outcome,
      reason,
      roomId: confirmed ? record.room : '',
      seatIds: confirmed ? record.seatIds : [],
      notifyId: r.notifyId,
      state: record?.state ?? '',
      offerId: record?.offerId ?? '',
      holdUntil: record?.holdUntil,
      alreadyDecided: false,
      resume: [],
    };
  }
}

function window(r: LedgerRequest): { start: number; end: number } {
  return { start: r.start ?? 0, end: r.end ?? 0 };
}

function observed(result: LedgerResult): Answer {
  if (result.held) return { held: true };
  const d = result.decision;
  return {
    held: false,
    kind: d.kind,
    outcome: d.outcome,
    reason: d.reason,
    roomId: d.roomId,
    seatIds: d.seatIds,
    notifyId: d.notifyId,
    // the script reports a missing field of an unknown id as `false`
    state: typeof d.state === 'string' ? d.state : '',
    offerId: d.offerId,
    holdUntil: d.holdUntil,
    alreadyDecided: result.alreadyDecided,
    resume: [...result.resume].sort(),
  };
}

/** The fields in which the ledger's answer differs from the model's, for the failure message. */
function differences(actual: Answer, expected: Answer): string {
  const keys = new Set([...Object.keys(actual), ...Object.keys(expected)]);
  const field = (answer: Answer, key: string): unknown => (answer as unknown as Record<string, unknown>)[key];
  return [...keys]
    .filter((key) => JSON.stringify(field(actual, key)) !== JSON.stringify(field(expected, key)))
    .map((key) => `${key}: ledger ${JSON.stringify(field(actual, key))}, model ${JSON.stringify(field(expected, key))}`)
    .join('; ');
}

function canonical(bookings: Booking[]): string[] {
  return bookings.map((b) => `${b.resource} ${b.owner} ${clock(b.start)}-${clock(b.end)}`).sort();
}

function overlapsWithinBuffer(bookings: Booking[], bufferMs: number): string[] {
  const clashes: string[] = [];
  bookings.forEach((a, i) => {
    for (const b of bookings.slice(i + 1)) {
      if (a.resource === b.resource && a.start - bufferMs < b.end && b.start < a.end + bufferMs) {
        clashes.push(`${a.resource}: ${a.owner} ${clock(a.start)}-${clock(a.end)} and ${b.owner} ${clock(b.start)}-${clock(b.end)}`);
      }
    }
  });
  return clashes;
}

// ---- scenarios ----------------------------------------------------------------

interface Slot {
  /** half hours after 08:00 */
  startSlot: number;
  /** length in half hours */
  slots: number;
}

type Step =
  | { t: 'apply'; slot: Slot; seats: number; closed: boolean }
  | { t: 'change'; pick: number; forward: boolean; slot: Slot; seats: number; closed: boolean }
  | { t: 'cancel'; pick: number; forward: boolean }
  | { t: 'hold'; slot: Slot; seats: number; closed: boolean; holdMinutes: number }
  | { t: 'confirm'; pick: number; stale: boolean }
  | { t: 'release'; pick: number; forward: boolean; reason: string | undefined }
  | { t: 'expire'; pick: number; stale: boolean }
  | { t: 'repeat'; pick: number };

interface Template {
  /** minutes the clock moves before this step */
  advance: number;
  step: Step;
}

const slotArb = fc.record({ startSlot: fc.integer({ min: 0, max: 19 }), slots: fc.integer({ min: 1, max: 8 }) });
const seatsArb = fc.oneof({ weight: 4, arbitrary: fc.integer({ min: 1, max: 9 }) }, { weight: 1, arbitrary: fc.integer({ min: 10, max: 15 }) });
// shrinks to false
const rarely = (oneIn: number): fc.Arbitrary<boolean> => fc.integer({ min: 0, max: oneIn - 1 }).map((n) => n === oneIn - 1);
const pickArb = fc.nat({ max: 999 });

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ t: fc.constant('apply' as const), slot: slotArb, seats: seatsArb, closed: rarely(20) }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('change' as const), pick: pickArb, forward: rarely(10), slot: slotArb, seats: seatsArb, closed: rarely(20) }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('cancel' as const), pick: pickArb, forward: rarely(10) }) },
  { weight: 5, arbitrary: fc.record({ t: fc.constant('hold' as const), slot: slotArb, seats: seatsArb, closed: rarely(20), holdMinutes: fc.constantFrom(0, 15, 30, 30, 60) }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('confirm' as const), pick: pickArb, stale: rarely(6) }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('release' as const), pick: pickArb, forward: rarely(5), reason: fc.constantFrom(undefined, 'PROJECT_POSTPONED', 'PROJECT_CANCELLED', 'OTHER') }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('expire' as const), pick: pickArb, stale: rarely(6) }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('repeat' as const), pick: pickArb }) },
);

const templateArb: fc.Arbitrary<Template> = fc.record({ advance: fc.constantFrom(0, 0, 0, 5, 10, 15, 30), step: stepArb });

/**
 * Turns templates into requests: ids are numbered in order of issue, and a
 * change, cancel or Changsha event names an id issued before it, except the
 * few `forward` ones, which name the next id still to come (an original not
 * decided yet, or a release that overtakes its hold).
 */
function scenario(templates: (Template | undefined)[]): LedgerRequest[] {
  const requests: LedgerRequest[] = [];
  const provinceIds: string[] = [];
  const holdIds: string[] = [];
  let applies = 0;
  let changes = 0;
  let cancels = 0;
  let holds = 0;
  let now = at(7);
  // ids not yet named by a change, cancel or release: likely still in force (or held)
  const openProvince: string[] = [];
  const openHolds: string[] = [];
  // mostly one of the three latest open ids, else any id issued so far
  const pickFrom = (open: string[], all: string[], pick: number, forward: boolean, next: string): string => {
    if (forward || all.length === 0) return next;
    if (pick % 10 >= 7 || open.length === 0) return all[pick % all.length] ?? next;
    return open[open.length - 1 - (Math.floor(pick / 10) % Math.min(open.length, 3))] ?? next;
  };
  const named = (open: string[], id: string): void => {
    const index = open.indexOf(id);
    if (index >= 0) open.splice(index, 1);
  };
  const times = (slot: Slot) => ({ start: at(8) + slot.startSlot * 30 * MINUTE, end: at(8) + (slot.startSlot + slot.slots) * 30 * MINUTE });

  templates.filter((template) => template !== undefined).forEach(({ advance, step }, index) => {
    now += advance * MINUTE;
    const meta = { now, notifyId: `N${index}`, trackingNo: `T${index}`, decidedAt: new Date(now).toISOString() };
    switch (step.t) {
      case 'apply': {
        const id = `SQ${++applies}`;
        provinceIds.push(id);
        openProvince.push(id);
        requests.push({ op: 'apply', partner: 'province', id, ...times(step.slot), seats: step.seats, closed: step.closed, ...meta });
        break;
      }
      case 'change': {
        const replaces = pickFrom(openProvince, provinceIds, step.pick, step.forward, `SQ${applies + 1}`);
        const id = `BG${++changes}`;
        named(openProvince, replaces);
        provinceIds.push(id);
        openProvince.push(id);
        requests.push({ op: 'change', partner: 'province', id, replaces, ...times(step.slot), seats: step.seats, closed: step.closed, ...meta });
        break;
      }
      case 'cancel': {
        const replaces = pickFrom(openProvince, provinceIds, step.pick, step.forward, `SQ${applies + 1}`);
        named(openProvince, replaces);
        requests.push({ op: 'cancel', partner: 'province', id: `QX${++cancels}`, replaces, ...meta });
        break;
      }
      case 'hold': {
        const id = `H${++holds}`;
        holdIds.push(id);
        openHolds.push(id);
        requests.push({ op: 'hold', partner: 'changsha', id, ...times(step.slot), seats: step.seats, closed: step.closed, offerId: `OF-${id}`, holdUntil: now + step.holdMinutes * MINUTE, ...meta });
        break;
      }
      case 'confirm':
      case 'expire': {
        const id = pickFrom(openHolds, holdIds, step.pick, false, `H${holds + 1}`);
        requests.push({ op: step.t, partner: 'changsha', id, offerId: step.stale ? 'OF-stale' : `OF-${id}`, ...meta });
        break;
      }
      case 'release': {
        const id = pickFrom(openHolds, holdIds, step.pick, step.forward, `H${holds + 1}`);
        named(openHolds, id);
        requests.push({ op: 'release', partner: 'changsha', id, ...(step.reason === undefined ? {} : { reason: step.reason }), ...meta });
        break;
      }
      case 'repeat': {
        // a redelivery: same request and tracking number, a new notify id, the current clock
        const earlier = requests[step.pick % Math.max(requests.length, 1)];
        if (earlier) requests.push({ ...earlier, now, notifyId: meta.notifyId, decidedAt: meta.decidedAt });
        break;
      }
    }
  });
  return requests;
}

/**
 * Scenarios of min to max steps. A step may shrink to nothing, so that
 * fast-check can report a counterexample shorter than min.
 */
function scenarios(step: fc.Arbitrary<Template>, min: number, max: number): fc.Arbitrary<LedgerRequest[]> {
  return fc.array(fc.option(step, { nil: undefined, freq: 30 }), { minLength: min, maxLength: max }).map(scenario);
}

function clock(t: number): string {
  const minutes = Math.round((t - MIDNIGHT) / MINUTE);
  return `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
}

function describeRequest(r: LedgerRequest): string {
  const parts = [`${clock(r.now)} ${r.partner} ${r.op} ${r.id}`];
  if (r.replaces !== undefined) parts.push(`replaces ${r.replaces}`);
  if (r.start !== undefined && r.end !== undefined) parts.push(`${clock(r.start)}-${clock(r.end)} seats ${r.seats ?? 0}`);
  if (r.closed) parts.push('closed');
  if (r.offerId !== undefined) parts.push(`offer ${r.offerId}`);
  if (r.holdUntil !== undefined) parts.push(`until ${clock(r.holdUntil)}`);
  if (r.reason !== undefined) parts.push(`reason ${r.reason}`);
  parts.push(`[${r.trackingNo}${r.notifyId.includes('>') ? ' resumed' : ''}]`);
  return parts.join(' ');
}

// ---- the property -------------------------------------------------------------

describe('room ledger against a reference model (property)', () => {
  let config: ReturnType<typeof loadConfig>;
  let rooms: Room[];
  let bufferMs: number;
  let redis: Redis;

  before(() => {
    config = loadConfig({ env: testEnv('t-unused', 'http://127.0.0.1:9') });
    rooms = config.ledger.rooms.map(({ id, kind, seats }) => ({ id, kind, seats }));
    bufferMs = config.ledger.bufferMinutes * MINUTE;
    redis = new Redis(testRedisUrl());
  });
  after(() => {
    redis.disconnect();
  });

  /**
   * Runs the requests against a fresh namespace and the model. Like the worker,
   * when a decision lists messages waiting on it, marks them resumed and decides
   * them next (on the same clock), before the next request of the scenario.
   */
  async function runAgainstModel(requests: LedgerRequest[]): Promise<void> {
    const namespace = `t-prop-${randomBytes(6).toString('hex')}`;
    const ledger = new RoomLedger(redis, new Keys(namespace), config.ledger.rooms, config.ledger.bufferMinutes);
    const model = new ReferenceLedger(rooms, bufferMs);
    const done: LedgerRequest[] = [];
    const story = (): string => done.map((r, i) => `  #${i} ${describeRequest(r)}`).join('\n');
    try {
      for (const next of requests) {
        const pending = [next];
        for (let request = pending.shift(); request; request = pending.shift()) {
          done.push(request);
          const step = done.length - 1;
          const actual = observed(await ledger.decide(request));
          const expected = model.decide(request);
          expect(actual, `answer to step #${step} differs from the model (${differences(actual, expected)}) after:\n${story()}\n`).to.deep.equal(expected);
          const bookings = await ledger.bookings();
          expect(canonical(bookings), `bookings after step #${step} differ from the model after:\n${story()}\n`).to.deep.equal(canonical(model.bookings()));
          expect(overlapsWithinBuffer(bookings, bufferMs), `double booking after step #${step}:\n${story()}\n`).to.deep.equal([]);
          for (const trackingNo of expected.held ? [] : expected.resume) {
            await ledger.resumed(request.partner, request.id, trackingNo);
            model.resumed(request.partner, request.id, trackingNo);
            const waiting = done.findLast((r) => r.trackingNo === trackingNo);
            if (waiting) pending.push({ ...waiting, now: request.now, notifyId: `${request.notifyId}>${trackingNo}`, decidedAt: request.decidedAt });
          }
        }
      }
    } finally {
      await deleteNamespace(testRedisUrl(), namespace);
    }
  }

  it('when province applies, changes and cancels mix with Changsha holds, confirms, releases and expiries over one day, every answer and booking matches the model and no resource is booked twice within the buffer', async () => {
    await fc.assert(
      fc.asyncProperty(scenarios(templateArb, 30, 60), runAgainstModel),
      { numRuns: 40 },
    );
  });

  it('when many requests crowd into one afternoon, rooms fill up, the hall takes the overflow by lowest seats, and the rest is rejected NO_CAPACITY exactly as the model says', async () => {
    const crowdedSlot = fc.record({ startSlot: fc.integer({ min: 10, max: 13 }), slots: fc.integer({ min: 1, max: 4 }) });
    const crowdedStep: fc.Arbitrary<Step> = fc.oneof(
      { weight: 5, arbitrary: fc.record({ t: fc.constant('apply' as const), slot: crowdedSlot, seats: seatsArb, closed: fc.constant(false) }) },
      { weight: 3, arbitrary: fc.record({ t: fc.constant('change' as const), pick: pickArb, forward: fc.constant(false), slot: crowdedSlot, seats: seatsArb, closed: fc.constant(false) }) },
      { weight: 1, arbitrary: fc.record({ t: fc.constant('cancel' as const), pick: pickArb, forward: fc.constant(false) }) },
      { weight: 4, arbitrary: fc.record({ t: fc.constant('hold' as const), slot: crowdedSlot, seats: seatsArb, closed: fc.constant(false), holdMinutes: fc.constant(30) }) },
      { weight: 2, arbitrary: fc.record({ t: fc.constant('confirm' as const), pick: pickArb, stale: fc.constant(false) }) },
      { weight: 1, arbitrary: fc.record({ t: fc.constant('release' as const), pick: pickArb, forward: fc.constant(false), reason: fc.constant('OTHER') }) },
    );
    const crowded = fc.record({ advance: fc.constantFrom(0, 0, 5), step: crowdedStep });
    await fc.assert(
      fc.asyncProperty(scenarios(crowded, 20, 40), runAgainstModel),
      { numRuns: 20 },
    );
  });
});
