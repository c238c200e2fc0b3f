import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import type { Keys } from '../kernel/redis/keys.ts';
import { ulidTime } from '../kernel/ids.ts';
import { scanKeys } from '../kernel/redis/scan.ts';
import type { RoomConfig } from '../config/index.ts';
import { GatewayError } from '../kernel/errors.ts';

const decideScript = readFileSync(join(import.meta.dirname, 'decide.lua'), 'utf8');
const lifecycleScript = readFileSync(join(import.meta.dirname, 'lifecycle.lua'), 'utf8');

/**
 * decide.lua with the configuration it decides by as Lua constants (ROOMS in
 * best-fit order, BUFFER and MAX_SPAN in seconds). Room ids are checked here
 * again (the config schema allows only [A-Z0-9-]): nothing else reaches the text.
 */
function decideScriptFor(rooms: readonly { id: string; kind: string; seats: number }[], bufferSeconds: number): string {
  const literal = rooms
    .map((room) => {
      if (!/^[A-Z0-9-]{1,32}$/.test(room.id) || (room.kind !== 'room' && room.kind !== 'hall') || !Number.isInteger(room.seats)) throw new GatewayError('INTERNAL', `room ${JSON.stringify(room.id)} cannot be written into the ledger script`);
      // seat names as constants too: formatting them seat by seat was a share of every hall search
      const seatNames = Array.from({ length: room.seats }, (_, n) => `'${room.id}-${String(n + 1).padStart(2, '0')}'`).join(', ');
      return `{ id = '${room.id}', kind = '${room.kind}', seats = ${room.seats}, seatNames = { ${seatNames} } }`;
    })
    .join(', ');
  if (!Number.isInteger(bufferSeconds)) throw new GatewayError('INTERNAL', 'the turnover buffer is whole seconds');
  return `local ROOMS = { ${literal} }\nlocal BUFFER = ${bufferSeconds}\nlocal MAX_SPAN = ${MAX_SPAN_SECONDS}\n${decideScript}`;
}

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

/** The partner name under which the ledger keeps Zhuzhou's own host rooms. */
export const HOST_PARTNER = 'host';

/**
 * The ledger's request id of a host evaluation's room: the evaluation for its
 * first plan, `<evaluation>:C<n>` for its n-th change, so that a change's hold
 * and the booking in force are two owners side by side.
 */
export function hostRequestId(evaluationId: string, change?: number): string {
  if (evaluationId === '' || evaluationId.includes(':')) throw hostRefusal('/evaluationId', 'an evaluation id is not empty and has no colon (owners are split on it)');
  if (change === undefined || change === 0) return evaluationId;
  if (!Number.isInteger(change) || change < 1) throw hostRefusal('/change', 'a change is numbered from 1');
  return `${evaluationId}:C${change}`;
}

/** The owner bookings name a host evaluation's room by (`host:HE1`, `host:HE1:C1`), as `partner:requestId` for guests. */
export function hostOwner(evaluationId: string, change?: number): string {
  return `${HOST_PARTNER}:${hostRequestId(evaluationId, change)}`;
}

function hostRefusal(path: string, message: string): GatewayError {
  return new GatewayError('SEMANTIC_INVALID', message, { violations: [{ path, message }] });
}

export interface HostRoomRef {
  evaluationId: string;
  /** the change (1, 2, ...) the room is for; absent for the evaluation's first plan */
  change?: number;
}

export interface HostHoldInput extends HostRoomRef {
  /** epoch ms */
  start: number;
  end: number;
  seats: number;
  /** the day is closed (the caller's WorkCalendar, as for a guest request) */
  closed: boolean;
  /** epoch ms: a window already ended is refused */
  now: number;
}

export type HostRoomRefusal = 'NO_CAPACITY' | 'CENTER_CLOSED' | 'INVALID_WINDOW' | 'RELEASED';

/**
 * `state`: where the room stands now (`held`, `in-force` once booked, `released`
 * once freed); a hold asked again answers the first hold's room and seats.
 */
export type HostHoldResult = { ok: true; roomId: string; seatIds: string[]; state: string } | { ok: false; reason: HostRoomRefusal };

/** `unchanged`: booked before (a repeat); a room not held (never, refused or freed) cannot be booked. */
export type HostBookResult = { ok: true; outcome: 'booked' | 'unchanged'; roomId: string; seatIds: string[] } | { ok: false; reason: 'NOT_HELD' };

export interface HostFreeResult {
  /**
   * `released`: freed entirely now; `shortened`: the booking ends at `from`;
   * `unchanged`: nothing (left) to free, or an end already applied;
   * `not-in-force`: `from` given for a room that is not booked, nothing changed
   */
  outcome: 'released' | 'shortened' | 'unchanged' | 'not-in-force';
  /** epoch ms: the end of the occupancy now, with `from` */
  end?: number;
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

type RawResult = { held: true } | { decision: RawDecision; already: boolean; resume: string[] };

/** What decide.lua is told, by name here and by position in its ARGV (decideArgv). */
interface DecideArgs {
  op: LedgerOperation | 'host-hold' | 'host-book' | 'host-free';
  partner: string;
  id: string;
  replaces?: string;
  /** epoch seconds */
  start?: number;
  finish?: number;
  seats?: number;
  closed?: boolean;
  notifyId: string;
  trackingNo: string;
  decidedAt: string;
  /** epoch seconds */
  now: number;
  offerId?: string;
  holdUntil?: number;
  reason?: string;
  evaluation?: string;
  change?: number;
  sameEvaluation?: readonly string[];
}

/**
 * Positional, not one JSON argument: decoding JSON in the script cost more than
 * the rest of reading its input (bench:ledger). The order is decide.lua's.
 */
function decideArgv(args: DecideArgs): string[] {
  const text = (value: string | number | undefined) => (value === undefined ? '' : String(value));
  return [
    args.op, args.partner, args.id, text(args.replaces), text(args.start), text(args.finish), text(args.seats), args.closed ? '1' : '',
    args.notifyId, args.trackingNo, args.decidedAt, text(args.now), text(args.offerId), text(args.holdUntil), text(args.reason),
    text(args.evaluation), text(args.change), ...(args.sameEvaluation ?? []),
  ];
}

/** decide.lua answers a flat array: `held`, or `decision`, already (0/1), the decision's fields in RawDecision's order, then the waiting messages. */
function fromScriptAnswer(answer: unknown): RawResult {
  if (!Array.isArray(answer) || (answer[0] !== 'held' && answer[0] !== 'decision')) throw new GatewayError('INTERNAL', 'the ledger script answered something it never answers');
  if (answer[0] === 'held') return { held: true };
  const [, already, outcome, reason, room, seatIds, notifyId, decidedAt, kind, state, offerId, holdUntil, trackingNo, ...resume] = answer.map(String);
  return {
    decision: {
      outcome: outcome as BookingOutcome,
      reason: reason as RawDecision['reason'],
      room: room ?? '',
      seatIds: seatIds ?? '[]',
      notifyId: notifyId ?? '',
      decidedAt: decidedAt ?? '',
      kind: kind as LedgerOperation,
      state: state ?? '',
      offerId: offerId ?? '',
      holdUntil: holdUntil ?? '',
      trackingNo: trackingNo ?? '',
    },
    already: already === '1',
    resume,
  };
}

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
  /** the name the decision script is defined under on the connection: one per room configuration */
  readonly #decideCommand: string;

  constructor(redis: Redis, keys: Keys, rooms: readonly RoomConfig[], bufferMinutes: number) {
    this.#redis = redis;
    this.#keys = keys;
    this.#rooms = rooms;
    this.#bufferSeconds = bufferMinutes * 60;
    // Best fit: the smallest single-project room, ties to the lower id; the hall only after every room.
    this.#bestFitOrder = [...rooms]
      .sort((a, b) => (a.kind === b.kind ? a.seats - b.seats || a.id.localeCompare(b.id) : a.kind === 'room' ? -1 : 1))
      .map(({ id, kind, seats }) => ({ id, kind, seats }));
    // the rooms, the buffer and the longest window are written into the script as constants:
    // decoding them from every call's argument cost a tenth of a decision (bench:ledger)
    const script = decideScriptFor(this.#bestFitOrder, this.#bufferSeconds);
    this.#decideCommand = `ledgerDecide_${createHash('sha1').update(script).digest('hex').slice(0, 12)}`;
    if (!(this.#decideCommand in redis)) {
      redis.defineCommand(this.#decideCommand, { numberOfKeys: 1, lua: script });
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

  /**
   * Holds Zhuzhou's host room for an evaluation (or one change of it) by the
   * rules of a guest apply, in the same script: best fit, the hall by seat,
   * the buffer, closed days. The hold lapses on no clock (only booking or
   * freeing ends it), and a change may take the seats of the evaluation's own
   * booking in force (make before break, rule 7).
   */
  async holdHostRoom(input: HostHoldInput): Promise<HostHoldResult> {
    if (!Number.isInteger(input.seats) || input.seats < 1) throw hostRefusal('/seats', 'a host room needs at least one seat');
    const id = hostRequestId(input.evaluationId, input.change);
    const change = input.change ?? 0;
    const sameEvaluation = Array.from({ length: change }, (_, n) => hostRequestId(input.evaluationId, n));
    const raw = await this.#script({
      op: 'host-hold',
      partner: HOST_PARTNER,
      id,
      evaluation: input.evaluationId,
      change,
      sameEvaluation,
      start: Math.floor(input.start / 1000),
      finish: Math.floor(input.end / 1000),
      seats: input.seats,
      closed: input.closed,
      notifyId: '',
      trackingNo: '',
      decidedAt: new Date(input.now).toISOString(),
      now: Math.floor(input.now / 1000),
    });
    const decision = toDecision(id, raw);
    if (decision.outcome === 'held') return { ok: true, roomId: decision.roomId, seatIds: decision.seatIds, state: decision.state };
    if (decision.outcome === 'released') return { ok: false, reason: 'RELEASED' };
    return { ok: false, reason: decision.reason as HostRoomRefusal };
  }

  /** The host room held becomes a booking (the evaluation or its change is in force). */
  async bookHostRoom(ref: HostRoomRef & { now?: number }): Promise<HostBookResult> {
    const id = hostRequestId(ref.evaluationId, ref.change);
    const decision = toDecision(id, await this.#hostEvent('host-book', id, ref.now));
    if (decision.outcome === 'rejected') return { ok: false, reason: 'NOT_HELD' };
    return { ok: true, outcome: decision.outcome === 'approved' ? 'booked' : 'unchanged', roomId: decision.roomId, seatIds: decision.seatIds };
  }

  /**
   * Without `from`, lets the host room go entirely (hold or booking). With
   * `from` (epoch ms, the end the host reported), the booking ends there,
   * never later than booked, the buffer following it: the same step as a
   * guest booking's `ended` (lifecycle.lua), recorded in its lifecycle.
   */
  async freeHostRoom(ref: HostRoomRef & { from?: number; now?: number }): Promise<HostFreeResult> {
    const id = hostRequestId(ref.evaluationId, ref.change);
    if (ref.from === undefined) {
      const decision = toDecision(id, await this.#hostEvent('host-free', id, ref.now));
      return { outcome: decision.outcome === 'released' ? 'released' : 'unchanged' };
    }
    const before = await this.#redis.hget(this.#keys.ledger.request(HOST_PARTNER, id), 'finish');
    // the end itself names the report: the same end asked twice is a repeat
    const ended = await this.recordLifecycle({ partner: HOST_PARTNER, id, status: 'ended', at: ref.from, trackingNo: `host-end:${Math.floor(ref.from / 1000)}` });
    if (ended.outcome === 'not-in-force') return { outcome: 'not-in-force', ...(ended.end === undefined ? {} : { end: ended.end }) };
    const shortened = ended.end !== undefined && before !== null && ended.end < Number(before) * 1000;
    return { outcome: shortened ? 'shortened' : 'unchanged', ...(ended.end === undefined ? {} : { end: ended.end }) };
  }

  async #hostEvent(op: 'host-book' | 'host-free', id: string, now = Date.now()): Promise<RawDecision> {
    return this.#script({ op, partner: HOST_PARTNER, id, notifyId: '', trackingNo: '', decidedAt: new Date(now).toISOString(), now: Math.floor(now / 1000) });
  }

  async #script(payload: DecideArgs): Promise<RawDecision> {
    const raw = await this.#decideScript(payload);
    // only a change or cancel waits for its original; host rooms never do
    if ('held' in raw) throw new GatewayError('INTERNAL', 'the ledger held a host room operation');
    return raw.decision;
  }

  async #decideScript(payload: DecideArgs): Promise<RawResult> {
    const scripted = this.#redis as unknown as Record<string, (key: string, ...argv: string[]) => Promise<unknown>>;
    const run = scripted[this.#decideCommand];
    if (!run) throw new GatewayError('INTERNAL', 'the ledger script is not defined on its connection');
    return fromScriptAnswer(await run.call(this.#redis, this.#keys.ledger.base, ...decideArgv(payload)));
  }

  async decide(request: LedgerRequest): Promise<LedgerResult> {
    const payload: DecideArgs = {
      op: request.op,
      partner: request.partner,
      id: request.id,
      ...(request.replaces === undefined ? {} : { replaces: request.replaces }),
      start: Math.floor((request.start ?? 0) / 1000),
      finish: Math.floor((request.end ?? 0) / 1000),
      seats: request.seats ?? 0,
      closed: request.closed ?? false,
      notifyId: request.notifyId,
      trackingNo: request.trackingNo,
      decidedAt: request.decidedAt,
      now: Math.floor(request.now / 1000),
      ...(request.offerId === undefined ? {} : { offerId: request.offerId }),
      ...(request.holdUntil === undefined ? {} : { holdUntil: Math.floor(request.holdUntil / 1000) }),
      ...(request.reason === undefined ? {} : { reason: request.reason }),
    };
    const raw = await this.#decideScript(payload);
    if ('held' in raw) return { held: true };
    return { held: false, decision: toDecision(request.id, raw.decision), alreadyDecided: raw.already, resume: raw.resume };
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

  /**
   * The owners of the live holds (`<partner>:<requestId>`) among `owners`: a
   * partner's hold is in the holds index (it lapses), a host room's hold is not
   * (it lasts until booked or freed), so those are read one by one.
   */
  async heldOwners(owners: readonly string[] = []): Promise<Set<string>> {
    const held = new Set(await this.#redis.zrange(this.#keys.ledger.holds, '0', '-1'));
    const hosts = [...new Set(owners.filter((owner) => owner.startsWith(`${HOST_PARTNER}:`)))];
    for (const [owner, state] of await this.requestStates(hosts)) if (state.state === 'held') held.add(owner);
    return held;
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
    // a ledger from before the occupancy index keeps a set a resource until its next decision
    for (const resource of this.#resources()) {
      purged += await this.#redis.zremrangebyscore(this.#keys.ledger.occupancy(resource), '-inf', maxStart);
    }
    const bookings = await this.#redis.zrangebyscore(this.#keys.ledger.occupancyIndex, '-inf', maxStart);
    purged += bookings.reduce((sum, member) => sum + (member.split('|')[1] ?? '').split(',').length, 0);
    await this.#redis.zremrangebyscore(this.#keys.ledger.occupancyIndex, '-inf', maxStart);
    return purged;
  }

  /**
   * Retention of the ledger's other keys (issue 18): request records (the
   * decision hashes, lifecycle and host-hold fields included) whose every time
   * lies before `cutoff`, the waiting lists' entries of messages received
   * before it, and hold entries that lapsed before it; returns how many
   * request records went. The records have no time index, and decide.lua would
   * have to write one: instead each record is dated by what it holds (decision
   * and event times, its window, its hold's expiry, the ULID of the tracking
   * numbers that touched it), found by SCAN over the request key shape, `batch`
   * keys a page, so Redis is never blocked. A record with no time at all is
   * kept. Idempotent, and safe from several processes at once: a record old
   * enough to go is one no partner acts on any more.
   */
  async purgeRequestsBefore(cutoff: number, batch: number): Promise<number> {
    const { base, holds } = this.#keys.ledger;
    await this.#redis.zremrangebyscore(holds, '-inf', `(${Math.floor(cutoff / 1000)}`);
    let purged = 0;
    await scanKeys(this.#redis, `${base}:req:*`, batch, async (keys) => {
      const records = await Promise.all(keys.map((key) => this.#redis.hgetall(key)));
      const old = keys.filter((_, n) => {
        const latest = latestTimeOf(records[n] ?? {});
        return latest !== undefined && latest < cutoff;
      });
      if (old.length > 0) purged += await this.#redis.unlink(...old);
    });
    await scanKeys(this.#redis, `${base}:wait:*`, batch, async (keys) => {
      const members = await Promise.all(keys.map((key) => this.#redis.smembers(key)));
      const removals = this.#redis.pipeline();
      keys.forEach((key, n) => {
        const stale = (members[n] ?? []).filter((trackingNo) => (ulidTime(trackingNo) ?? Infinity) < cutoff);
        if (stale.length > 0) removals.srem(key, ...stale);
      });
      await removals.exec();
    });
    return purged;
  }

  /**
   * The bookings (holds included) that overlap `window` (epoch ms, end excluded),
   * or every one kept, in one round trip: the occupancy sets hold retention's
   * worth of the past, and the dashboard, /metrics and availability each want days.
   */
  async bookings(window?: { from: number; to: number }): Promise<Booking[]> {
    const { occupancyIndex, occupancyIndexBuilt } = this.#keys.ledger;
    // members are scored by start, and no booking spans more than a day
    const from = window ? String(Math.floor(window.from / 1000) - MAX_SPAN_SECONDS) : '-inf';
    const to = window ? `(${Math.ceil(window.to / 1000)}` : '+inf';
    const [[, built], [, members]] = ((await this.#redis.multi().exists(occupancyIndexBuilt).zrangebyscore(occupancyIndex, from, to).exec()) ?? []) as [[unknown, number], [unknown, string[]]];
    if (built !== 1) return this.#legacyBookings(window);
    const result: Booking[] = [];
    for (const member of members) {
      const [head = '', list = ''] = member.split('|');
      const [start, end, ...owner] = head.split(':');
      for (const resource of list.split(',')) {
        const booking = { resource, owner: owner.join(':'), start: Number(start) * 1000, end: Number(end) * 1000 };
        if (!window || (booking.start < window.to && booking.end > window.from)) result.push(booking);
      }
    }
    return result;
  }

  /** The bookings of a ledger from before the occupancy index, from its sets a resource. */
  async #legacyBookings(window?: { from: number; to: number }): Promise<Booking[]> {
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

/** Fields of a request record in epoch seconds. */
const SECOND_FIELDS = new Set(['start', 'finish', 'bookedFinish', 'holdUntil', 'lifecycleAt']);
/** Fields naming a message (a ULID tracking number) that acted on the record. */
const TRACKING_FIELDS = new Set(['trackingNo', 'releasedBy']);

/** The latest time (epoch ms) a request record holds, undefined when it holds none. */
function latestTimeOf(record: Record<string, string>): number | undefined {
  let latest: number | undefined;
  let latestReceipt: number | undefined;
  for (const [field, value] of Object.entries(record)) {
    let time: number | undefined;
    if (SECOND_FIELDS.has(field)) time = Number(value) * 1000;
    // decidedAt, confirmedAt, bookedAt, releasedAt…: ISO 8601
    else if (field.endsWith('At')) time = Date.parse(value);
    else if (TRACKING_FIELDS.has(field)) {
      const receipt = ulidTime(value);
      if (receipt !== undefined && Number.isFinite(receipt) && receipt > 0) latestReceipt = Math.max(latestReceipt ?? receipt, receipt);
    }
    if (time !== undefined && Number.isFinite(time) && time > 0) latest = Math.max(latest ?? time, time);
  }
  // a ULID's time is the id generator's (monotonic: it never goes back, so it can run ahead of the
  // clock the ledger decided by): the record's own times come first, the ids only when it has none
  return latest ?? latestReceipt;
}
