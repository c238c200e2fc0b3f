import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import type { Keys } from '../kernel/redis/keys.ts';
import type { RoomConfig } from '../config/index.ts';

const decideScript = readFileSync(join(import.meta.dirname, 'decide.lua'), 'utf8');
const lifecycleScript = readFileSync(join(import.meta.dirname, 'lifecycle.lua'), 'utf8');

/** An evaluation lies within one calendar day, so no booking spans more than a day. */
const MAX_SPAN_SECONDS = 24 * 3600;

export type LedgerOperation = 'apply' | 'change' | 'cancel' | 'hold' | 'confirm' | 'release' | 'expire';
/** `unchanged`: the event found nothing to act on (a repeat, or a release of what is already gone). */
export type BookingOutcome = 'approved' | 'rejected' | 'cancelled' | 'held' | 'confirmed' | 'released' | 'unchanged';
export type RejectReason = 'NO_CAPACITY' | 'CENTER_CLOSED' | 'NOT_IN_FORCE' | 'INVALID_WINDOW';
export type DecisionReason = '' | RejectReason | 'CANCELLED' | 'HOLD_EXPIRED' | 'PROJECT_POSTPONED' | 'PROJECT_CANCELLED' | 'OTHER';

export interface LedgerRequest {
  op: LedgerOperation;
  partner: string;
  id: string;
  replaces?: string;
  /** epoch milliseconds; apply and change only */
  start?: number;
  end?: number;
  seats?: number;
  closed?: boolean;
  /** holds: the offer made; confirms and expiries: the offer they are about */
  offerId?: string;
  /** holds: epoch milliseconds when the hold lapses */
  holdUntil?: number;
  /** releases: the partner's reason */
  reason?: string;
  /** the decision's clock, epoch milliseconds (holds expire by it) */
  now: number;
  notifyId: string;
  trackingNo: string;
  decidedAt: string;
}

export interface LedgerDecision {
  requestId: string;
  kind: LedgerOperation;
  outcome: BookingOutcome;
  reason: DecisionReason;
  roomId: string;
  seatIds: string[];
  notifyId: string;
  decidedAt: string;
  /** the message the request came in */
  trackingNo: string;
  offerId: string;
  /** epoch milliseconds; holds only */
  holdUntil: number | undefined;
  /**
   * apply/change: in-force, rejected, replaced, cancelled; cancel: applied, rejected;
   * hold: held, in-force (confirmed), expired, released, rejected; '' when unknown
   */
  state: string;
}

export type LedgerResult =
  | { held: true }
  | { held: false; decision: LedgerDecision; alreadyDecided: boolean; resume: string[] };

export type LifecycleStatus = 'started' | 'paused' | 'resumed' | 'ended' | 'archived';

/** One report of the host's evaluation on a request Zhuzhou holds. */
export interface LifecycleEntry {
  status: LifecycleStatus;
  /** epoch ms, when it took effect at the host */
  at: number;
  reason?: string;
  /** the message that reported it */
  trackingNo: string;
}

export interface LifecycleReportInput {
  partner: string;
  id: string;
  status: LifecycleStatus;
  /** epoch ms */
  at: number;
  reason?: string;
  trackingNo: string;
}

export interface LifecycleResult {
  /** `repeat`: this message's report was recorded before; `not-in-force`: nothing recorded */
  outcome: 'recorded' | 'repeat' | 'not-in-force';
  /** the status with the latest `at`, absent before any report */
  status?: LifecycleStatus;
  /** in the host's `at` order */
  history: LifecycleEntry[];
  /** epoch ms: the end of the booking's occupancy now, and as booked when an end shortened it */
  end?: number;
  bookedEnd?: number;
}

/** A request as the room board shows it. */
export interface RequestState {
  /** the host's evaluation, once it reported one */
  lifecycle?: { status: LifecycleStatus; at: number };
  /** epoch ms: the end as booked, when the host's end freed the room earlier */
  bookedEnd?: number;
  state: string;
  /** epoch ms; holds only */
  holdUntil?: number;
  seats: number | null;
  roomId: string | null;
  /** the message that made the decision */
  trackingNo: string | null;
}

export interface Booking {
  owner: string;
  resource: string;
  start: number;
  end: number;
}

interface RawDecision {
  outcome: BookingOutcome;
  reason: LedgerDecision['reason'];
  room: string;
  seatIds: string;
  notifyId: string;
  decidedAt: string;
  kind: LedgerOperation;
  state: string;
  offerId?: string;
  holdUntil?: string;
  trackingNo?: string;
}

type RawResult = { held: true } | { decision: RawDecision; already: boolean; resume: string[] | Record<string, never> };

/** Lua cjson writes an empty array as `{}`. */
function asArray<T>(value: T[] | Record<string, never>): T[] {
  return Array.isArray(value) ? value : [];
}

/**
 * Zhuzhou's rooms and seats. Every decision is one Lua script on one slot,
 * so concurrent requests from any number of processes never double-book.
 */
export class RoomLedger {
  readonly #redis: Redis;
  readonly #keys: Keys;
  readonly #rooms: readonly RoomConfig[];
  readonly #bestFitOrder: { id: string; kind: string; seats: number }[];
  readonly #bufferSeconds: number;

  constructor(redis: Redis, keys: Keys, rooms: readonly RoomConfig[], bufferMinutes: number) {
    this.#redis = redis;
    this.#keys = keys;
    this.#rooms = rooms;
    this.#bufferSeconds = bufferMinutes * 60;
    // Best fit: the smallest single-project room, ties to the lower id; the hall only after every room.
    this.#bestFitOrder = [...rooms]
      .sort((a, b) => (a.kind === b.kind ? a.seats - b.seats || a.id.localeCompare(b.id) : a.kind === 'room' ? -1 : 1))
      .map(({ id, kind, seats }) => ({ id, kind, seats }));
    if (!('ledgerDecide' in redis)) {
      redis.defineCommand('ledgerDecide', { numberOfKeys: 1, lua: decideScript });
    }
    if (!('ledgerLifecycle' in redis)) {
      redis.defineCommand('ledgerLifecycle', { numberOfKeys: 1, lua: lifecycleScript });
    }
  }

  /**
   * Records the host's report on a request in force, in `at` order; `ended`
   * frees its room or seats from `at` (plus the buffer, as every booking), never
   * later than booked. One script on the ledger's slot, like every decision.
   */
  async recordLifecycle(report: LifecycleReportInput): Promise<LifecycleResult> {
    const payload = {
      partner: report.partner,
      id: report.id,
      status: report.status,
      at: Math.floor(report.at / 1000),
      ...(report.reason === undefined ? {} : { reason: report.reason }),
      trackingNo: report.trackingNo,
    };
    const scripted = this.#redis as unknown as { ledgerLifecycle(key: string, arg: string): Promise<string> };
    const raw = JSON.parse(await scripted.ledgerLifecycle(this.#keys.ledger.base, JSON.stringify(payload))) as RawLifecycle;
    return {
      outcome: raw.outcome,
      ...(raw.status ? { status: raw.status } : {}),
      history: asArray(raw.history).map(toLifecycleEntry),
      ...(raw.finish ? { end: Number(raw.finish) * 1000 } : {}),
      ...(raw.bookedFinish ? { bookedEnd: Number(raw.bookedFinish) * 1000 } : {}),
    };
  }

  /** The host's reports on a request, in `at` order. */
  async lifecycle(partner: string, requestId: string): Promise<LifecycleEntry[]> {
    const raw = await this.#redis.hget(this.#keys.ledger.request(partner, requestId), 'lifecycle');
    return raw ? asArray(JSON.parse(raw) as RawLifecycleEntry[] | Record<string, never>).map(toLifecycleEntry) : [];
  }

  room(id: string): RoomConfig | undefined {
    return this.#rooms.find((room) => room.id === id);
  }

  async decide(request: LedgerRequest): Promise<LedgerResult> {
    const payload = {
      op: request.op,
      partner: request.partner,
      id: request.id,
      ...(request.replaces === undefined ? {} : { replaces: request.replaces }),
      start: Math.floor((request.start ?? 0) / 1000),
      finish: Math.floor((request.end ?? 0) / 1000),
      seats: request.seats ?? 0,
      closed: request.closed ?? false,
      buffer: this.#bufferSeconds,
      maxSpan: MAX_SPAN_SECONDS,
      rooms: this.#bestFitOrder,
      notifyId: request.notifyId,
      trackingNo: request.trackingNo,
      decidedAt: request.decidedAt,
      now: Math.floor(request.now / 1000),
      ...(request.offerId === undefined ? {} : { offerId: request.offerId }),
      ...(request.holdUntil === undefined ? {} : { holdUntil: Math.floor(request.holdUntil / 1000) }),
      ...(request.reason === undefined ? {} : { reason: request.reason }),
    };
    const scripted = this.#redis as unknown as { ledgerDecide(key: string, arg: string): Promise<string> };
    const raw = JSON.parse(await scripted.ledgerDecide(this.#keys.ledger.base, JSON.stringify(payload))) as RawResult;
    if ('held' in raw) return { held: true };
    return { held: false, decision: toDecision(request.id, raw.decision), alreadyDecided: raw.already, resume: asArray(raw.resume) };
  }

  /** Holds whose expiry has passed at `now` (the sweep behind the delayed expiry jobs). */
  async lapsedHolds(now: number, limit = 500): Promise<{ partner: string; requestId: string; offerId: string; trackingNo: string }[]> {
    const members = await this.#redis.zrangebyscore(this.#keys.ledger.holds, '-inf', String(Math.floor(now / 1000)), 'LIMIT', 0, limit);
    const holds = [];
    for (const member of members) {
      const [partner = '', ...rest] = member.split(':');
      const requestId = rest.join(':');
      const [offerId, trackingNo] = await this.#redis.hmget(this.#keys.ledger.request(partner, requestId), 'offerId', 'trackingNo');
      holds.push({ partner, requestId, offerId: offerId ?? '', trackingNo: trackingNo ?? '' });
    }
    return holds;
  }

  /** Forgets a waiting message once it has been queued again. */
  async resumed(partner: string, requestId: string, trackingNo: string): Promise<void> {
    await this.#redis.srem(this.#keys.ledger.waiting(partner, requestId), trackingNo);
  }

  /** Where a request stands: its state, and the window and seats it was decided on. */
  async describe(partner: string, requestId: string): Promise<{ state: string; start?: number; end?: number; seats?: number; roomId: string } | undefined> {
    // the window as decided: the host's early end shortens the occupancy, not what was booked
    const [state, start, finish, seats, room, bookedFinish] = await this.#redis.hmget(this.#keys.ledger.request(partner, requestId), 'state', 'start', 'finish', 'seats', 'room', 'bookedFinish');
    if (state === null || state === undefined) return undefined;
    return {
      state,
      roomId: room ?? '',
      ...(start ? { start: Number(start) * 1000 } : {}),
      ...(bookedFinish || finish ? { end: Number(bookedFinish || finish) * 1000 } : {}),
      ...(seats ? { seats: Number(seats) } : {}),
    };
  }

  /** Where each of `owners` (`<partner>:<requestId>`, as bookings name them) stands, for the room board: one read each. */
  async requestStates(owners: readonly string[]): Promise<Map<string, RequestState>> {
    const states = new Map<string, RequestState>();
    await Promise.all(
      owners.map(async (owner) => {
        const colon = owner.indexOf(':');
        const fields = await this.#redis.hgetall(this.#keys.ledger.request(owner.slice(0, colon), owner.slice(colon + 1)));
        states.set(owner, {
          ...(fields['lifecycleStatus'] ? { lifecycle: { status: fields['lifecycleStatus'] as LifecycleStatus, at: Number(fields['lifecycleAt']) * 1000 } } : {}),
          ...(fields['bookedFinish'] ? { bookedEnd: Number(fields['bookedFinish']) * 1000 } : {}),
          state: fields['state'] ?? 'unknown',
          ...(fields['holdUntil'] ? { holdUntil: Number(fields['holdUntil']) * 1000 } : {}),
          seats: fields['seats'] ? Number(fields['seats']) : null,
          roomId: fields['room'] ?? null,
          trackingNo: fields['trackingNo'] || null,
        });
      }),
    );
    return states;
  }

  /** The owners of the live holds (`<partner>:<requestId>`). */
  async heldOwners(): Promise<Set<string>> {
    return new Set(await this.#redis.zrange(this.#keys.ledger.holds, '0', '-1'));
  }

  /** The decision on a request, if there is one (for a repeated notify). */
  async lookup(partner: string, requestId: string): Promise<LedgerDecision | undefined> {
    const fields = await this.#redis.hgetall(this.#keys.ledger.request(partner, requestId));
    if (fields['outcome'] === undefined) return undefined;
    return toDecision(requestId, fields as unknown as RawDecision);
  }

  #resources(): string[] {
    return this.#rooms.flatMap((room) =>
      room.kind === 'room' ? [room.id] : Array.from({ length: room.seats }, (_, n) => `${room.id}-${String(n + 1).padStart(2, '0')}`),
    );
  }

  /** Forgets bookings that ended before `cutoff` (retention); returns how many. */
  async purgeBefore(cutoff: number): Promise<number> {
    let purged = 0;
    // members are scored by start, and no booking spans more than a day
    const maxStart = String(Math.floor(cutoff / 1000) - MAX_SPAN_SECONDS);
    for (const resource of this.#resources()) {
      purged += await this.#redis.zremrangebyscore(this.#keys.ledger.occupancy(resource), '-inf', maxStart);
    }
    return purged;
  }

  /**
   * The bookings (holds included) that overlap `window` (epoch ms, end excluded),
   * or every one kept, in one round trip: the occupancy sets hold retention's
   * worth of the past, and the dashboard, /metrics and availability each want days.
   */
  async bookings(window?: { from: number; to: number }): Promise<Booking[]> {
    const resources = this.#resources();
    const pipeline = this.#redis.pipeline();
    for (const resource of resources) {
      const key = this.#keys.ledger.occupancy(resource);
      // members are scored by start, and no booking spans more than a day
      if (window) pipeline.zrangebyscore(key, String(Math.floor(window.from / 1000) - MAX_SPAN_SECONDS), `(${Math.ceil(window.to / 1000)}`);
      else pipeline.zrange(key, '0', '-1');
    }
    const replies = (await pipeline.exec()) ?? [];
    const result: Booking[] = [];
    resources.forEach((resource, n) => {
      const [error, members] = replies[n] ?? [new Error('no reply'), []];
      if (error) throw error;
      for (const member of members as string[]) {
        const [start, end, ...owner] = member.split(':');
        const booking = { resource, owner: owner.join(':'), start: Number(start) * 1000, end: Number(end) * 1000 };
        if (!window || (booking.start < window.to && booking.end > window.from)) result.push(booking);
      }
    });
    return result;
  }
}

interface RawLifecycleEntry {
  status: LifecycleStatus;
  at: number;
  reason: string;
  trackingNo: string;
}

interface RawLifecycle {
  outcome: LifecycleResult['outcome'];
  status: LifecycleStatus | '';
  at: string;
  history: RawLifecycleEntry[] | Record<string, never>;
  finish: string;
  bookedFinish: string;
}

function toLifecycleEntry(raw: RawLifecycleEntry): LifecycleEntry {
  return { status: raw.status, at: raw.at * 1000, ...(raw.reason ? { reason: raw.reason } : {}), trackingNo: raw.trackingNo };
}

function toDecision(requestId: string, raw: RawDecision): LedgerDecision {
  return {
    requestId,
    kind: raw.kind,
    outcome: raw.outcome,
    reason: raw.reason,
    roomId: raw.room,
    seatIds: asArray(JSON.parse(raw.seatIds) as string[] | Record<string, never>),
    notifyId: raw.notifyId,
    decidedAt: raw.decidedAt,
    state: raw.state,
    trackingNo: raw.trackingNo ?? '',
    offerId: raw.offerId ?? '',
    holdUntil: raw.holdUntil ? Number(raw.holdUntil) * 1000 : undefined,
  };
}
