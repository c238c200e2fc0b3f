/**
 * The life of one host evaluation (domain.md, "Life of a host evaluation"), as
 * a pure function: an evaluation and what happened give the evaluation after it
 * and what must be done (commands). Nothing here reads Redis or sends anything,
 * so every interleaving of the partners' answers can be driven through it in a
 * test; the flow around it stores the evaluation and carries out the commands.
 *
 * Not here yet: change (make before break).
 */
import type { PartnerId } from '../../adapters/types.ts';
import { GatewayError } from '../../kernel/errors.ts';

export type EvaluationState = 'requested' | 'in-force' | 'failed' | 'cancelled';
export type Lifecycle = 'not-started' | 'started' | 'paused' | 'ended' | 'archived';
export type LegState = 'requested' | 'offered' | 'approved' | 'confirmed' | 'declined' | 'released';
export type LifecycleStatus = 'started' | 'paused' | 'resumed' | 'ended' | 'archived';

export interface GuestPlan {
  center: string;
  seats: number;
}

export interface Plan {
  /** epoch ms */
  start: number;
  end: number;
  hostSeats: number;
  guests: readonly GuestPlan[];
}

export interface Leg {
  center: string;
  partner: PartnerId;
  seats: number;
  state: LegState;
  /** a Changsha leg: Zhuzhou's request id, derived from the evaluation and the center */
  requestId?: string;
  offerId?: string;
  /** epoch ms when Changsha's hold lapses */
  holdUntil?: number;
  room?: { name: string; address: string; seatNumbers: readonly string[] };
  reason?: string;
}

/** The province application of the province legs, one for all of them. */
export interface ProvinceApplication {
  /** `asked`: host-apply sent, its answer not recorded yet */
  state: 'asked' | 'applied' | 'in-force' | 'failed' | 'cancelled';
  seriesNumber?: string;
  /** failed or cancelled while its answer was still awaited: cancel it once the answer names it */
  cancelOnAnswer?: boolean;
}

export interface HostRoom {
  state: 'holding' | 'held' | 'booked' | 'freed' | 'refused';
  roomId?: string;
  seatIds?: readonly string[];
}

export interface HostEvaluation {
  id: string;
  state: EvaluationState;
  lifecycle: Lifecycle;
  /** why it failed or was cancelled: the guest and the code, e.g. `430400 NO_CAPACITY` */
  reason?: string;
  plan: Plan;
  hostRoom: HostRoom;
  legs: Leg[];
  province?: ProvinceApplication;
  /** epoch ms: still requested then, it fails (`DEADLINE`) */
  deadline: number;
  /** a leg was lost while in force: operators change or cancel the evaluation */
  needsOperator?: string;
}

export type ReleaseReason = 'PROJECT_CANCELLED' | 'OTHER';

export type Command =
  | { kind: 'hold-host-room'; start: number; end: number; seats: number }
  | { kind: 'book-host-room' }
  /** frees the host room from `from` (the end reported) or, without it, entirely */
  | { kind: 'free-host-room'; from?: number }
  | { kind: 'host-apply'; guests: readonly GuestPlan[] }
  | { kind: 'host-cancel'; seriesNumber: string; reason: string }
  | { kind: 'slot-requested'; requestId: string; center: string; seats: number }
  | { kind: 'slot-confirmed'; requestId: string; offerId: string }
  | { kind: 'slot-released'; requestId: string; reason: ReleaseReason }
  | { kind: 'eval-status'; seriesNumber: string; status: '1' | '2' | '3' | '4'; at: number; reason?: string }
  | { kind: 'session-status'; requestId: string; status: Exclude<LifecycleStatus, 'archived'>; at: number; reason?: string };

export type HostEvent =
  | { kind: 'host-room-held'; roomId: string; seatIds: readonly string[] }
  | { kind: 'host-room-refused'; reason: string }
  | { kind: 'host-apply-answered'; seriesNumber: string }
  /** the province refused host-apply for good (not a retry) */
  | { kind: 'host-apply-refused'; reason: string }
  | { kind: 'host-result'; seriesNumber: string; center: string; approved: boolean; room?: Leg['room']; reason?: string }
  | { kind: 'host-outcome'; seriesNumber: string; outcome: '1' | '3' | '5' | '6' }
  | { kind: 'slot-offered'; requestId: string; offerId: string; holdUntil: number; seats: number }
  | { kind: 'slot-declined'; requestId: string; reason: string }
  | { kind: 'slot-released'; requestId: string; reason: string }
  | { kind: 'tick' }
  | { kind: 'cancel'; reason: string }
  | { kind: 'lifecycle'; status: LifecycleStatus; at: number; reason?: string };

export interface MachineSettings {
  /** domain.md: undecided this long after the host room was asked for, it fails */
  decisionDeadlineMs: number;
  /** a Changsha hold is confirmed at the latest when it has this long left */
  confirmMarginMs: number;
}

export interface Step {
  evaluation: HostEvaluation;
  commands: Command[];
}

const HOLDING_LEG: readonly LegState[] = ['requested', 'offered', 'approved', 'confirmed'];
const DECIDED_OK: readonly LegState[] = ['approved', 'confirmed'];

/** Zhuzhou's request id of a Changsha leg: the same for every resend of the same evaluation and center. */
export function legRequestId(evaluationId: string, center: string): string {
  return `${evaluationId}-${center}`;
}

/** A new evaluation: only the host room is asked for; the legs go out once it is held (step 1). */
export function planEvaluation(id: string, plan: Plan, partnerFor: (center: string) => PartnerId, now: number, settings: MachineSettings): Step {
  const legs: Leg[] = plan.guests.map((guest) => {
    const partner = partnerFor(guest.center);
    return { center: guest.center, partner, seats: guest.seats, state: 'requested', ...(partner === 'changsha' ? { requestId: legRequestId(id, guest.center) } : {}) };
  });
  const evaluation: HostEvaluation = {
    id,
    state: 'requested',
    lifecycle: 'not-started',
    plan,
    hostRoom: { state: 'holding' },
    legs,
    ...(legs.some((leg) => leg.partner === 'province') ? { province: { state: 'asked' } } : {}),
    deadline: now + settings.decisionDeadlineMs,
  };
  return { evaluation, commands: [{ kind: 'hold-host-room', start: plan.start, end: plan.end, seats: plan.hostSeats }] };
}

/** What `event` does to `evaluation` at `now`. Never changes its argument. */
export function stepEvaluation(current: HostEvaluation, event: HostEvent, now: number, settings: MachineSettings): Step {
  const evaluation: HostEvaluation = structuredClone(current);
  const commands: Command[] = [];
  const step = new StepContext(evaluation, commands, now, settings);
  step.apply(event);
  if (evaluation.state === 'requested') step.progress();
  return { evaluation, commands };
}

class StepContext {
  readonly #evaluation: HostEvaluation;
  readonly #commands: Command[];
  readonly #now: number;
  readonly #settings: MachineSettings;

  constructor(evaluation: HostEvaluation, commands: Command[], now: number, settings: MachineSettings) {
    this.#evaluation = evaluation;
    this.#commands = commands;
    this.#now = now;
    this.#settings = settings;
  }

  apply(event: HostEvent): void {
    const evaluation = this.#evaluation;
    switch (event.kind) {
      case 'host-room-held':
        if (evaluation.hostRoom.state !== 'holding') return;
        evaluation.hostRoom = { state: 'held', roomId: event.roomId, seatIds: event.seatIds };
        if (evaluation.state !== 'requested') {
          // failed or cancelled meanwhile: let go of what came too late
          this.#freeHostRoom();
          return;
        }
        this.#askLegs();
        return;
      case 'host-room-refused':
        if (evaluation.hostRoom.state !== 'holding') return;
        evaluation.hostRoom = { state: 'refused' };
        // nothing was sent yet: failed at once, nothing to release
        if (evaluation.state === 'requested') this.#fail(event.reason);
        return;
      case 'host-apply-answered':
        return this.#provinceAnswered(event.seriesNumber);
      case 'host-apply-refused':
        if (!evaluation.province || evaluation.province.state !== 'asked') return;
        evaluation.province.state = 'failed';
        if (evaluation.state === 'requested') this.#fail(`${this.#provinceCenters().join(',')} ${event.reason}`);
        return;
      case 'host-result':
        return this.#hostResult(event);
      case 'host-outcome':
        return this.#hostOutcome(event);
      case 'slot-offered':
        return this.#slotOffered(event);
      case 'slot-declined': {
        const leg = this.#changshaLeg(event.requestId);
        if (!leg || leg.state !== 'requested') return;
        leg.state = 'declined';
        leg.reason = event.reason;
        if (evaluation.state === 'requested') this.#fail(`${leg.center} ${event.reason}`);
        return;
      }
      case 'slot-released': {
        const leg = this.#changshaLeg(event.requestId);
        if (!leg || !HOLDING_LEG.includes(leg.state)) return;
        leg.state = 'released';
        leg.reason = event.reason;
        if (evaluation.state === 'requested') this.#fail(`${leg.center} ${event.reason}`);
        else if (evaluation.state === 'in-force') evaluation.needsOperator = `${leg.center} ${event.reason}`;
        return;
      }
      case 'tick':
        return;
      case 'cancel':
        return this.#cancel(event.reason);
      case 'lifecycle':
        return this.#lifecycle(event);
    }
  }

  /** Deadline, Changsha confirmations and coming into force: what follows from where the legs stand. */
  progress(): void {
    const evaluation = this.#evaluation;
    if (this.#now >= evaluation.deadline) {
      const undecided = evaluation.legs.filter((leg) => !DECIDED_OK.includes(leg.state)).map((leg) => leg.center);
      this.#fail(`DEADLINE ${undecided.length > 0 ? undecided.join(',') : 'host room'}`);
      return;
    }
    if (evaluation.hostRoom.state !== 'held') return;
    for (const leg of evaluation.legs) {
      if (leg.partner !== 'changsha' || leg.state !== 'offered' || leg.offerId === undefined || leg.requestId === undefined) continue;
      // another Changsha hold counts as approved here, or two holds would each wait for the other
      const othersApproved = evaluation.legs.every((other) => other === leg || DECIDED_OK.includes(other.state) || (other.partner === 'changsha' && other.state === 'offered'));
      const lapsing = leg.holdUntil !== undefined && leg.holdUntil - this.#now <= this.#settings.confirmMarginMs;
      if (othersApproved || lapsing) {
        leg.state = 'confirmed';
        this.#commands.push({ kind: 'slot-confirmed', requestId: leg.requestId, offerId: leg.offerId });
      }
    }
    const provinceInForce = !evaluation.province || evaluation.province.state === 'in-force';
    const legsInForce = evaluation.legs.every((leg) => (leg.partner === 'changsha' ? leg.state === 'confirmed' : leg.state === 'approved'));
    if (provinceInForce && legsInForce) {
      evaluation.state = 'in-force';
      evaluation.hostRoom.state = 'booked';
      this.#commands.push({ kind: 'book-host-room' });
    }
  }

  #askLegs(): void {
    const evaluation = this.#evaluation;
    const provinceGuests = evaluation.legs.filter((leg) => leg.partner === 'province').map((leg) => ({ center: leg.center, seats: leg.seats }));
    if (provinceGuests.length > 0) this.#commands.push({ kind: 'host-apply', guests: provinceGuests });
    for (const leg of evaluation.legs) {
      if (leg.partner === 'changsha' && leg.requestId !== undefined) this.#commands.push({ kind: 'slot-requested', requestId: leg.requestId, center: leg.center, seats: leg.seats });
    }
  }

  #provinceAnswered(seriesNumber: string): void {
    const province = this.#evaluation.province;
    if (!province || province.seriesNumber !== undefined) return;
    province.seriesNumber = seriesNumber;
    if (province.cancelOnAnswer) {
      province.state = 'cancelled';
      delete province.cancelOnAnswer;
      this.#commands.push({ kind: 'host-cancel', seriesNumber, reason: this.#evaluation.reason ?? 'CANCELLED' });
      return;
    }
    if (province.state === 'asked') province.state = 'applied';
  }

  #hostResult(event: Extract<HostEvent, { kind: 'host-result' }>): void {
    const evaluation = this.#evaluation;
    if (evaluation.province?.seriesNumber !== event.seriesNumber) return;
    const leg = evaluation.legs.find((candidate) => candidate.partner === 'province' && candidate.center === event.center);
    if (!leg || leg.state !== 'requested') return;
    if (event.approved) {
      leg.state = 'approved';
      if (event.room) leg.room = event.room;
      return;
    }
    leg.state = 'declined';
    leg.reason = event.reason ?? 'REJECTED';
    // a guest's rejection fails the application at the province too: no host-cancel for it
    if (evaluation.province.state === 'applied' || evaluation.province.state === 'asked') evaluation.province.state = 'failed';
    if (evaluation.state === 'requested') this.#fail(`${leg.center} ${leg.reason}`);
  }

  #hostOutcome(event: Extract<HostEvent, { kind: 'host-outcome' }>): void {
    const evaluation = this.#evaluation;
    const province = evaluation.province;
    if (!province || province.seriesNumber !== event.seriesNumber) return;
    if (event.outcome === '1') {
      if (province.state === 'applied') province.state = 'in-force';
      // every guest approved: results that have not arrived yet are implied
      for (const leg of evaluation.legs) if (leg.partner === 'province' && leg.state === 'requested') leg.state = 'approved';
      return;
    }
    if (province.state === 'cancelled') return;
    province.state = event.outcome === '5' ? 'cancelled' : 'failed';
    for (const leg of evaluation.legs) if (leg.partner === 'province' && HOLDING_LEG.includes(leg.state)) leg.state = 'released';
    if (evaluation.state === 'requested') {
      const rejected = evaluation.legs.find((leg) => leg.partner === 'province' && leg.state === 'declined');
      this.#fail(rejected ? `${rejected.center} ${rejected.reason ?? 'REJECTED'}` : `${this.#provinceCenters().join(',')} ${event.outcome === '6' ? 'EXPIRED' : 'FAILED'}`);
    } else if (evaluation.state === 'in-force') {
      evaluation.needsOperator = `province application ${event.seriesNumber} outcome ${event.outcome}`;
    }
  }

  #slotOffered(event: Extract<HostEvent, { kind: 'slot-offered' }>): void {
    const evaluation = this.#evaluation;
    const leg = this.#changshaLeg(event.requestId);
    if (!leg || leg.offerId === event.offerId) return;
    if (evaluation.state !== 'requested') {
      // failed or cancelled before the offer came: let it go so Changsha frees the seats
      this.#commands.push({ kind: 'slot-released', requestId: event.requestId, reason: 'PROJECT_CANCELLED' });
      return;
    }
    // a second offer for a leg already offered: the first stands
    if (leg.state !== 'requested') return;
    if (event.seats !== leg.seats) {
      leg.state = 'released';
      this.#commands.push({ kind: 'slot-released', requestId: event.requestId, reason: 'OTHER' });
      this.#fail(`${leg.center} OFFER_MISMATCH`);
      return;
    }
    leg.state = 'offered';
    leg.offerId = event.offerId;
    leg.holdUntil = event.holdUntil;
  }

  #fail(reason: string): void {
    const evaluation = this.#evaluation;
    evaluation.state = 'failed';
    evaluation.reason = reason;
    this.#releaseEverything('PROJECT_CANCELLED', reason);
  }

  #cancel(reason: string): void {
    const evaluation = this.#evaluation;
    if (evaluation.state === 'failed' || evaluation.state === 'cancelled') return;
    if (evaluation.lifecycle === 'ended' || evaluation.lifecycle === 'archived') throw new GatewayError('SEMANTIC_INVALID', undefined, { violations: [{ path: '/state', message: 'STATE_CONFLICT' }] });
    evaluation.state = 'cancelled';
    evaluation.reason = reason;
    this.#releaseEverything('PROJECT_CANCELLED', reason);
  }

  /** Every Changsha leg still holding something released, the province application cancelled, the host room freed. */
  #releaseEverything(changshaReason: ReleaseReason, reason: string): void {
    const evaluation = this.#evaluation;
    for (const leg of evaluation.legs) {
      if (leg.partner !== 'changsha' || !HOLDING_LEG.includes(leg.state) || leg.requestId === undefined) continue;
      leg.state = 'released';
      // a leg never asked (the host room was not held yet) has nothing at Changsha
      if (evaluation.hostRoom.state !== 'holding' && evaluation.hostRoom.state !== 'refused') this.#commands.push({ kind: 'slot-released', requestId: leg.requestId, reason: changshaReason });
    }
    const province = evaluation.province;
    if (province && (province.state === 'asked' || province.state === 'applied' || province.state === 'in-force')) {
      if (province.seriesNumber !== undefined) {
        province.state = 'cancelled';
        this.#commands.push({ kind: 'host-cancel', seriesNumber: province.seriesNumber, reason });
      } else if (evaluation.hostRoom.state === 'holding' || evaluation.hostRoom.state === 'refused') {
        // host-apply was never sent
        province.state = 'cancelled';
      } else {
        province.cancelOnAnswer = true;
      }
      for (const leg of evaluation.legs) if (leg.partner === 'province' && HOLDING_LEG.includes(leg.state)) leg.state = 'released';
    }
    this.#freeHostRoom();
  }

  #freeHostRoom(): void {
    const room = this.#evaluation.hostRoom;
    if (room.state === 'held' || room.state === 'booked') {
      room.state = 'freed';
      this.#commands.push({ kind: 'free-host-room' });
    }
  }

  #lifecycle(event: Extract<HostEvent, { kind: 'lifecycle' }>): void {
    const evaluation = this.#evaluation;
    const conflict = (message: 'STATE_CONFLICT' | 'NOT_IN_FORCE') => new GatewayError('SEMANTIC_INVALID', undefined, { violations: [{ path: '/status', message }] });
    if (evaluation.state !== 'in-force') throw conflict('NOT_IN_FORCE');
    const allowed: Record<LifecycleStatus, { from: Lifecycle; to: Lifecycle; code: '1' | '2' | '3' | '4' }> = {
      started: { from: 'not-started', to: 'started', code: '1' },
      paused: { from: 'started', to: 'paused', code: '4' },
      resumed: { from: 'paused', to: 'started', code: '1' },
      ended: { from: 'started', to: 'ended', code: '2' },
      archived: { from: 'ended', to: 'archived', code: '3' },
    };
    const move = allowed[event.status];
    if (evaluation.lifecycle !== move.from) throw conflict('STATE_CONFLICT');
    if (event.status === 'paused' && !event.reason) throw new GatewayError('SEMANTIC_INVALID', undefined, { violations: [{ path: '/reason', message: 'a pause needs its reason' }] });
    evaluation.lifecycle = move.to;
    const reason = event.reason === undefined ? {} : { reason: event.reason };
    if (evaluation.province?.seriesNumber !== undefined) this.#commands.push({ kind: 'eval-status', seriesNumber: evaluation.province.seriesNumber, status: move.code, at: event.at, ...reason });
    if (event.status !== 'archived') {
      const status = event.status;
      for (const leg of evaluation.legs) {
        if (leg.partner === 'changsha' && leg.state === 'confirmed' && leg.requestId !== undefined) this.#commands.push({ kind: 'session-status', requestId: leg.requestId, status, at: event.at, ...reason });
      }
    }
    // the room is free from the end plus the buffer (the ledger adds the buffer)
    if (event.status === 'ended') this.#commands.push({ kind: 'free-host-room', from: event.at });
  }

  #changshaLeg(requestId: string): Leg | undefined {
    return this.#evaluation.legs.find((leg) => leg.partner === 'changsha' && leg.requestId === requestId);
  }

  #provinceCenters(): string[] {
    return this.#evaluation.legs.filter((leg) => leg.partner === 'province').map((leg) => leg.center);
  }
}
