/**
 * The life of one host evaluation (domain.md, "Life of a host evaluation"), as
 * a pure function: an evaluation and what happened give the evaluation after it
 * and what must be done (commands). Nothing here reads Redis or sends anything,
 * so every interleaving of the partners' answers can be driven through it in a
 * test; the flow around it stores the evaluation and carries out the commands.
 *
 * An evaluation is one *track* (a plan, its host room, its legs, its province
 * application) in force or being asked for; a change is a second track, asked
 * for beside the one in force (make before break), that replaces it or is let go.
 */
import type { PartnerId } from '../../adapters/types.ts';
import { GatewayError } from '../../kernel/errors.ts';

export type EvaluationState = 'requested' | 'in-force' | 'failed' | 'changing' | 'cancelled';
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
  /** a Changsha leg: Zhuzhou's request id, derived from the evaluation, the change and the center */
  requestId?: string;
  offerId?: string;
  /** epoch ms when Changsha's hold lapses */
  holdUntil?: number;
  room?: { name: string; address: string; seatNumbers: readonly string[] };
  reason?: string;
}

/** The province application of a track's province legs, one for all of them. */
export interface ProvinceApplication {
  /** `asked`: host-apply (or host-change) sent, its answer not recorded yet */
  /** `replaced`: a host-change of it came into force at the province */
  state: 'asked' | 'applied' | 'in-force' | 'replaced' | 'failed' | 'cancelled';
  seriesNumber?: string;
  /** failed or cancelled while its answer was still awaited: cancel it once the answer names it */
  cancelOnAnswer?: boolean;
}

export interface HostRoom {
  state: 'holding' | 'held' | 'booked' | 'freed' | 'refused';
  /** the change that asked for it (absent: the first plan): what the ledger books it under */
  change?: number;
  roomId?: string;
  seatIds?: readonly string[];
}

export interface Track {
  plan: Plan;
  hostRoom: HostRoom;
  legs: Leg[];
  province?: ProvinceApplication;
  /** epoch ms: still undecided then, the track fails (`DEADLINE`) */
  deadline: number;
}

/** A change asked for beside the track in force. */
export interface Change extends Track {
  /** 1 for the first change of the evaluation: ids of what it sends derive from it */
  number: number;
  reason: string;
  /** how the province part is asked for: a host-change of the application in force, a first host-apply, or not at all */
  provinceBy: 'host-change' | 'host-apply' | 'unchanged' | 'dropped' | 'none';
}

export interface HostEvaluation extends Track {
  id: string;
  state: EvaluationState;
  lifecycle: Lifecycle;
  /** why it failed or was cancelled: the guest and the code, e.g. `430400 NO_CAPACITY` */
  reason?: string;
  change?: Change;
  /** changes asked for so far */
  changes: number;
  /** why the last change failed, the evaluation staying as it was */
  lastChangeFailure?: string;
  /** changes let go before the province answered their host-apply or host-change: cancelled once it does */
  cancelOnAnswer?: number[];
  /** a leg was lost while in force: operators change or cancel the evaluation */
  needsOperator?: string;
}

export type ReleaseReason = 'PROJECT_CANCELLED' | 'OTHER';

/** `change`: the number of the change the command belongs to; absent for the track first asked for or in force. */
export type Command =
  | { kind: 'hold-host-room'; start: number; end: number; seats: number; change?: number }
  | { kind: 'book-host-room'; change?: number }
  /** frees the track's host room from `from` (the end reported) or, without it, entirely */
  | { kind: 'free-host-room'; from?: number; change?: number }
  | { kind: 'host-apply'; guests: readonly GuestPlan[]; change?: number }
  | { kind: 'host-change'; original: string; guests: readonly GuestPlan[]; change: number; reason: string }
  | { kind: 'host-cancel'; seriesNumber: string; reason: string }
  | { kind: 'slot-requested'; requestId: string; center: string; seats: number }
  | { kind: 'slot-confirmed'; requestId: string; offerId: string }
  | { kind: 'slot-released'; requestId: string; reason: ReleaseReason }
  | { kind: 'eval-status'; seriesNumber: string; status: '1' | '2' | '3' | '4'; at: number; reason?: string }
  | { kind: 'session-status'; requestId: string; status: Exclude<LifecycleStatus, 'archived'>; at: number; reason?: string };

/** `change`: as in the command answered (host room and province answers are told apart by it). */
export type HostEvent =
  | { kind: 'host-room-held'; roomId: string; seatIds: readonly string[]; change?: number }
  | { kind: 'host-room-refused'; reason: string; change?: number }
  | { kind: 'host-apply-answered'; seriesNumber: string; change?: number }
  /** the province refused host-apply or host-change for good (not a retry) */
  | { kind: 'host-apply-refused'; reason: string; change?: number }
  | { kind: 'host-result'; seriesNumber: string; center: string; approved: boolean; room?: Leg['room']; reason?: string }
  | { kind: 'host-outcome'; seriesNumber: string; outcome: '1' | '3' | '5' | '6' }
  | { kind: 'slot-offered'; requestId: string; offerId: string; holdUntil: number; seats: number }
  | { kind: 'slot-declined'; requestId: string; reason: string }
  | { kind: 'slot-released'; requestId: string; reason: string }
  | { kind: 'tick' }
  | { kind: 'change'; plan: Plan; reason: string }
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
const LIVE_PROVINCE: readonly ProvinceApplication['state'][] = ['asked', 'applied', 'in-force'];

/** Zhuzhou's request id of a Changsha leg: the same for every resend of the same evaluation, change and center. */
export function legRequestId(evaluationId: string, center: string, change = 0): string {
  return change === 0 ? `${evaluationId}-${center}` : `${evaluationId}-${center}-C${change}`;
}

const refusal = (path: string, message: string) => new GatewayError('SEMANTIC_INVALID', undefined, { violations: [{ path, message }] });

function legsOf(id: string, plan: Plan, partnerFor: (center: string) => PartnerId, change: number): Leg[] {
  return plan.guests.map((guest) => {
    const partner = partnerFor(guest.center);
    return { center: guest.center, partner, seats: guest.seats, state: 'requested', ...(partner === 'changsha' ? { requestId: legRequestId(id, guest.center, change) } : {}) };
  });
}

/** A new evaluation: only the host room is asked for; the legs go out once it is held (step 1). */
export function planEvaluation(id: string, plan: Plan, partnerFor: (center: string) => PartnerId, now: number, settings: MachineSettings): Step {
  const legs = legsOf(id, plan, partnerFor, 0);
  const evaluation: HostEvaluation = {
    id,
    state: 'requested',
    lifecycle: 'not-started',
    plan,
    hostRoom: { state: 'holding' },
    legs,
    ...(legs.some((leg) => leg.partner === 'province') ? { province: { state: 'asked' } } : {}),
    deadline: now + settings.decisionDeadlineMs,
    changes: 0,
  };
  return { evaluation, commands: [{ kind: 'hold-host-room', start: plan.start, end: plan.end, seats: plan.hostSeats }] };
}

/**
 * A change of an evaluation in force: `partnerFor` routes the new plan's
 * guests. Refused (422) unless in force and not yet ended; a second undecided
 * change is a conflict (409), as the province has it.
 */
export function changeEvaluation(current: HostEvaluation, plan: Plan, reason: string, partnerFor: (center: string) => PartnerId, now: number, settings: MachineSettings): Step {
  if (current.state === 'changing') throw new GatewayError('CONFLICT', 'a change of this evaluation is still undecided');
  if (current.state !== 'in-force') throw refusal('/state', 'NOT_IN_FORCE');
  if (current.lifecycle === 'ended' || current.lifecycle === 'archived') throw refusal('/state', 'STATE_CONFLICT');
  const evaluation: HostEvaluation = structuredClone(current);
  const number = evaluation.changes + 1;
  const sameWindow = plan.start === evaluation.plan.start && plan.end === evaluation.plan.end;
  const legs = legsOf(evaluation.id, plan, partnerFor, number).map((leg) => {
    // a Changsha guest whose window and seats stay is kept as it is: Changsha has no change event
    const kept = evaluation.legs.find((old) => old.partner === 'changsha' && old.center === leg.center && old.seats === leg.seats && old.state === 'confirmed');
    return leg.partner === 'changsha' && kept && sameWindow ? structuredClone(kept) : leg;
  });
  const provinceGuests = (legs_: readonly Leg[]) => legs_.filter((leg) => leg.partner === 'province').map((leg) => `${leg.center}:${leg.seats}`).sort().join(',');
  const oldProvince = provinceGuests(evaluation.legs);
  const newProvince = provinceGuests(legs);
  const provinceBy: Change['provinceBy'] =
    newProvince === '' ? (oldProvince === '' ? 'none' : 'dropped') : oldProvince === '' ? 'host-apply' : newProvince === oldProvince && sameWindow ? 'unchanged' : 'host-change';
  if (provinceBy === 'unchanged') {
    for (const leg of legs) {
      const old = evaluation.legs.find((candidate) => candidate.partner === 'province' && candidate.center === leg.center);
      if (leg.partner === 'province' && old) Object.assign(leg, structuredClone(old));
    }
  }
  const change: Change = {
    number,
    reason,
    provinceBy,
    plan,
    hostRoom: { state: 'holding', change: number },
    legs,
    ...(provinceBy === 'host-change' || provinceBy === 'host-apply' ? { province: { state: 'asked' } } : {}),
    deadline: now + settings.decisionDeadlineMs,
  };
  evaluation.change = change;
  evaluation.changes = number;
  evaluation.state = 'changing';
  return { evaluation, commands: [{ kind: 'hold-host-room', start: plan.start, end: plan.end, seats: plan.hostSeats, change: number }] };
}

/** What `event` does to `evaluation` at `now`. Never changes its argument. */
export function stepEvaluation(current: HostEvaluation, event: HostEvent, now: number, settings: MachineSettings): Step {
  const evaluation: HostEvaluation = structuredClone(current);
  const commands: Command[] = [];
  const step = new StepContext(evaluation, commands, now, settings);
  step.apply(event);
  step.progress();
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

  /** The track being asked for: the first one while requested, the change while changing. */
  get #asking(): Track | undefined {
    const evaluation = this.#evaluation;
    if (evaluation.state === 'requested') return evaluation;
    if (evaluation.state === 'changing') return evaluation.change;
    return undefined;
  }

  #trackOf(change: number | undefined): Track | undefined {
    const evaluation = this.#evaluation;
    if (change === undefined) return evaluation;
    return evaluation.change?.number === change ? evaluation.change : undefined;
  }

  apply(event: HostEvent): void {
    switch (event.kind) {
      case 'host-room-held':
        return this.#hostRoomHeld(event);
      case 'host-room-refused': {
        const track = this.#trackOf(event.change);
        if (!track || track.hostRoom.state !== 'holding') return;
        track.hostRoom = { ...track.hostRoom, state: 'refused' };
        // nothing was sent yet for this track: it fails at once, nothing to release
        if (track === this.#asking) this.#failAsking(event.reason);
        return;
      }
      case 'host-apply-answered':
        return this.#provinceAnswered(event.seriesNumber, event.change);
      case 'host-apply-refused': {
        const track = this.#trackOf(event.change);
        if (!track?.province || track.province.state !== 'asked') return;
        track.province.state = 'failed';
        if (track === this.#asking) this.#failAsking(`${provinceCenters(track).join(',')} ${event.reason}`);
        return;
      }
      case 'host-result':
        return this.#hostResult(event);
      case 'host-outcome':
        return this.#hostOutcome(event);
      case 'slot-offered':
        return this.#slotOffered(event);
      case 'slot-declined': {
        const found = this.#changshaLeg(event.requestId);
        if (!found || found.leg.state !== 'requested') return;
        found.leg.state = 'declined';
        found.leg.reason = event.reason;
        if (found.track === this.#asking) this.#failAsking(`${found.leg.center} ${event.reason}`);
        return;
      }
      case 'slot-released': {
        // a leg kept by a change stands in both tracks: the release takes it from both
        const evaluation = this.#evaluation;
        const inForce = evaluation.state === 'in-force' || evaluation.state === 'changing' ? evaluation.legs.find((leg) => leg.partner === 'changsha' && leg.requestId === event.requestId && HOLDING_LEG.includes(leg.state)) : undefined;
        const found = this.#changshaLeg(event.requestId);
        if (inForce) {
          inForce.state = 'released';
          inForce.reason = event.reason;
          evaluation.needsOperator = `${inForce.center} ${event.reason}`;
        }
        if (!found || !HOLDING_LEG.includes(found.leg.state)) return;
        found.leg.state = 'released';
        found.leg.reason = event.reason;
        if (found.track === this.#asking) this.#failAsking(`${found.leg.center} ${event.reason}`);
        return;
      }
      case 'tick':
        return;
      case 'change':
        throw new Error('a change is asked for through changeEvaluation, which routes its guests');
      case 'cancel':
        return this.#cancel(event.reason);
      case 'lifecycle':
        return this.#lifecycle(event);
    }
  }

  /** Deadline, Changsha confirmations and coming into force: what follows from where the asked-for track stands. */
  progress(): void {
    const track = this.#asking;
    if (!track) return;
    if (this.#now >= track.deadline) {
      const undecided = track.legs.filter((leg) => !DECIDED_OK.includes(leg.state)).map((leg) => leg.center);
      this.#failAsking(`DEADLINE ${undecided.length > 0 ? undecided.join(',') : 'host room'}`);
      return;
    }
    if (track.hostRoom.state !== 'held') return;
    for (const leg of track.legs) {
      if (leg.partner !== 'changsha' || leg.state !== 'offered' || leg.offerId === undefined || leg.requestId === undefined) continue;
      // another Changsha hold counts as approved here, or two holds would each wait for the other
      const othersApproved = track.legs.every((other) => other === leg || DECIDED_OK.includes(other.state) || (other.partner === 'changsha' && other.state === 'offered'));
      const lapsing = leg.holdUntil !== undefined && leg.holdUntil - this.#now <= this.#settings.confirmMarginMs;
      if (othersApproved || lapsing) {
        leg.state = 'confirmed';
        this.#commands.push({ kind: 'slot-confirmed', requestId: leg.requestId, offerId: leg.offerId });
      }
    }
    const provinceInForce = !track.province || track.province.state === 'in-force';
    const legsInForce = track.legs.every((leg) => (leg.partner === 'changsha' ? leg.state === 'confirmed' : leg.state === 'approved'));
    if (provinceInForce && legsInForce) this.#comeIntoForce();
  }

  #comeIntoForce(): void {
    const evaluation = this.#evaluation;
    const change = evaluation.change;
    if (evaluation.state === 'requested') {
      evaluation.state = 'in-force';
      evaluation.hostRoom.state = 'booked';
      this.#commands.push({ kind: 'book-host-room' });
      return;
    }
    if (!change) return;
    // make before break: the new track is booked, then what it no longer uses is let go
    change.hostRoom.state = 'booked';
    this.#commands.push({ kind: 'book-host-room', change: change.number });
    const keptRequests = new Set(change.legs.map((leg) => leg.requestId).filter((id) => id !== undefined));
    for (const leg of evaluation.legs) {
      if (leg.partner === 'changsha' && leg.requestId !== undefined && HOLDING_LEG.includes(leg.state) && !keptRequests.has(leg.requestId)) {
        leg.state = 'released';
        this.#commands.push({ kind: 'slot-released', requestId: leg.requestId, reason: 'OTHER' });
      }
    }
    // a host-change in force replaces the original at the province, which frees what it dropped itself
    if (change.provinceBy === 'dropped' && evaluation.province?.seriesNumber !== undefined && LIVE_PROVINCE.includes(evaluation.province.state)) {
      this.#commands.push({ kind: 'host-cancel', seriesNumber: evaluation.province.seriesNumber, reason: change.reason });
    }
    const old = evaluation.hostRoom;
    this.#commands.push({ kind: 'free-host-room', ...(old.change === undefined ? {} : { change: old.change }) });
    const province = change.provinceBy === 'unchanged' ? evaluation.province : change.province;
    evaluation.plan = change.plan;
    evaluation.hostRoom = change.hostRoom;
    evaluation.legs = change.legs;
    evaluation.deadline = change.deadline;
    if (province) evaluation.province = province;
    else delete evaluation.province;
    evaluation.state = 'in-force';
    delete evaluation.change;
    delete evaluation.lastChangeFailure;
  }

  #hostRoomHeld(event: Extract<HostEvent, { kind: 'host-room-held' }>): void {
    const track = this.#trackOf(event.change);
    if (!track || track.hostRoom.state !== 'holding') return;
    track.hostRoom = { ...track.hostRoom, state: 'held', roomId: event.roomId, seatIds: event.seatIds };
    if (track !== this.#asking) {
      // failed or cancelled meanwhile: let go of what came too late
      this.#freeHostRoom(track);
      return;
    }
    const change = this.#evaluation.change;
    const provinceGuests = track.legs.filter((leg) => leg.partner === 'province').map((leg) => ({ center: leg.center, seats: leg.seats }));
    if (track === change) {
      const original = this.#evaluation.province?.seriesNumber;
      if (change.provinceBy === 'host-change' && original !== undefined) this.#commands.push({ kind: 'host-change', original, guests: provinceGuests, change: change.number, reason: change.reason });
      if (change.provinceBy === 'host-apply') this.#commands.push({ kind: 'host-apply', guests: provinceGuests, change: change.number });
    } else if (provinceGuests.length > 0) {
      this.#commands.push({ kind: 'host-apply', guests: provinceGuests });
    }
    for (const leg of track.legs) {
      if (leg.partner === 'changsha' && leg.requestId !== undefined && leg.state === 'requested') this.#commands.push({ kind: 'slot-requested', requestId: leg.requestId, center: leg.center, seats: leg.seats });
    }
  }

  #provinceAnswered(seriesNumber: string, change: number | undefined): void {
    const evaluation = this.#evaluation;
    const orphan = change !== undefined && evaluation.change?.number !== change && evaluation.cancelOnAnswer?.includes(change);
    if (orphan) {
      evaluation.cancelOnAnswer = evaluation.cancelOnAnswer?.filter((number) => number !== change);
      if (evaluation.cancelOnAnswer?.length === 0) delete evaluation.cancelOnAnswer;
      this.#commands.push({ kind: 'host-cancel', seriesNumber, reason: evaluation.reason ?? evaluation.lastChangeFailure ?? 'CANCELLED' });
      return;
    }
    const province = this.#trackOf(change)?.province;
    if (!province || province.seriesNumber !== undefined) return;
    province.seriesNumber = seriesNumber;
    if (province.cancelOnAnswer) {
      province.state = 'cancelled';
      delete province.cancelOnAnswer;
      this.#commands.push({ kind: 'host-cancel', seriesNumber, reason: this.#evaluation.reason ?? this.#evaluation.lastChangeFailure ?? 'CANCELLED' });
      return;
    }
    if (province.state === 'asked') province.state = 'applied';
  }

  /** The track whose province application is `seriesNumber`. */
  #provinceTrack(seriesNumber: string): Track | undefined {
    const evaluation = this.#evaluation;
    if (evaluation.change?.province?.seriesNumber === seriesNumber) return evaluation.change;
    if (evaluation.province?.seriesNumber === seriesNumber) return evaluation;
    return undefined;
  }

  #hostResult(event: Extract<HostEvent, { kind: 'host-result' }>): void {
    const track = this.#provinceTrack(event.seriesNumber);
    if (!track?.province) return;
    const leg = track.legs.find((candidate) => candidate.partner === 'province' && candidate.center === event.center);
    if (!leg || leg.state !== 'requested') return;
    if (event.approved) {
      leg.state = 'approved';
      if (event.room) leg.room = event.room;
      return;
    }
    leg.state = 'declined';
    leg.reason = event.reason ?? 'REJECTED';
    // a guest's rejection fails the application at the province too: no host-cancel for it
    if (track.province.state === 'applied' || track.province.state === 'asked') track.province.state = 'failed';
    if (track === this.#asking) this.#failAsking(`${leg.center} ${leg.reason}`);
  }

  #hostOutcome(event: Extract<HostEvent, { kind: 'host-outcome' }>): void {
    const evaluation = this.#evaluation;
    const track = this.#provinceTrack(event.seriesNumber);
    const province = track?.province;
    if (!track || !province) return;
    if (event.outcome === '1') {
      if (province.state === 'applied') province.state = 'in-force';
      // the province replaces the original at once (make before break on its side)
      const change = evaluation.change;
      if (track === change && change.provinceBy === 'host-change' && evaluation.province?.state === 'in-force') evaluation.province.state = 'replaced';
      // every guest approved: results that have not arrived yet are implied
      for (const leg of track.legs) if (leg.partner === 'province' && leg.state === 'requested') leg.state = 'approved';
      return;
    }
    if (province.state === 'cancelled') return;
    province.state = event.outcome === '5' ? 'cancelled' : 'failed';
    for (const leg of track.legs) if (leg.partner === 'province' && HOLDING_LEG.includes(leg.state)) leg.state = 'released';
    if (track === this.#asking) {
      const rejected = track.legs.find((leg) => leg.partner === 'province' && leg.state === 'declined');
      this.#failAsking(rejected ? `${rejected.center} ${rejected.reason ?? 'REJECTED'}` : `${provinceCenters(track).join(',')} ${event.outcome === '6' ? 'EXPIRED' : 'FAILED'}`);
    } else if (track === evaluation && (evaluation.state === 'in-force' || evaluation.state === 'changing')) {
      evaluation.needsOperator = `province application ${event.seriesNumber} outcome ${event.outcome}`;
    }
  }

  #slotOffered(event: Extract<HostEvent, { kind: 'slot-offered' }>): void {
    const found = this.#changshaLeg(event.requestId);
    if (!found || found.leg.offerId === event.offerId) return;
    const { track, leg } = found;
    if (track !== this.#asking) {
      // failed, cancelled or replaced before the offer came: let it go so Changsha frees the seats
      if (leg.state === 'requested' || leg.state === 'released') this.#commands.push({ kind: 'slot-released', requestId: event.requestId, reason: 'PROJECT_CANCELLED' });
      return;
    }
    // a second offer for a leg already offered: the first stands
    if (leg.state !== 'requested') return;
    if (event.seats !== leg.seats) {
      leg.state = 'released';
      this.#commands.push({ kind: 'slot-released', requestId: event.requestId, reason: 'OTHER' });
      this.#failAsking(`${leg.center} OFFER_MISMATCH`);
      return;
    }
    leg.state = 'offered';
    leg.offerId = event.offerId;
    leg.holdUntil = event.holdUntil;
  }

  /** The track being asked for failed: the first one fails the evaluation; a change only lets go of what it obtained. */
  #failAsking(reason: string): void {
    const evaluation = this.#evaluation;
    const change = evaluation.change;
    if (evaluation.state === 'requested') {
      evaluation.state = 'failed';
      evaluation.reason = reason;
      this.#release(evaluation, 'PROJECT_CANCELLED', reason, undefined);
      return;
    }
    if (evaluation.state === 'changing' && change) {
      const kept = new Set(evaluation.legs.map((leg) => leg.requestId).filter((id) => id !== undefined));
      // the province put its part of the change in force already (outcome "1" replaces the original
      // there): that part cannot be let go without losing the province guests, so it stays, beside
      // the old Changsha legs and host room, and operators reconcile the two
      const provinceMoved = change.province?.state === 'in-force' && change.provinceBy === 'host-change';
      if (provinceMoved && change.province) {
        const province = change.province;
        delete change.province;
        this.#release(change, 'PROJECT_CANCELLED', reason, change.number, kept);
        evaluation.province = province;
        evaluation.legs = [...evaluation.legs.filter((leg) => leg.partner !== 'province'), ...change.legs.filter((leg) => leg.partner === 'province')];
        evaluation.needsOperator = `change ${change.number} failed (${reason}) after the province put ${province.seriesNumber ?? 'it'} in force: its province guests stand, the rest as before`;
      } else {
        this.#release(change, 'PROJECT_CANCELLED', reason, change.number, kept);
      }
      evaluation.state = 'in-force';
      evaluation.lastChangeFailure = reason;
      this.#forget(change);
    }
  }

  #cancel(reason: string): void {
    const evaluation = this.#evaluation;
    if (evaluation.state === 'failed' || evaluation.state === 'cancelled') return;
    if (evaluation.lifecycle === 'ended' || evaluation.lifecycle === 'archived') throw refusal('/state', 'STATE_CONFLICT');
    const change = evaluation.change;
    evaluation.state = 'cancelled';
    evaluation.reason = reason;
    // the host-cancel of the application in force withdraws an undecided change of it at the province;
    // a change the province put in force already replaced it there, and is what gets cancelled
    if (change) {
      const kept = new Set(evaluation.legs.map((leg) => leg.requestId).filter((id) => id !== undefined));
      const withdrawn = change.province && evaluation.province?.seriesNumber !== undefined && change.provinceBy === 'host-change' && change.province.state !== 'in-force';
      if (withdrawn && change.province) change.province.state = 'cancelled';
      this.#release(change, 'PROJECT_CANCELLED', reason, change.number, kept);
      this.#forget(change);
    }
    this.#release(evaluation, 'PROJECT_CANCELLED', reason, undefined);
  }

  /**
   * Every Changsha leg of the track still holding something released (but
   * those in `keep`, which belong to the track in force), its province
   * application cancelled, its host room freed.
   */
  #release(track: Track, changshaReason: ReleaseReason, reason: string, change: number | undefined, keep: ReadonlySet<string> = new Set()): void {
    const asked = track.hostRoom.state !== 'holding' && track.hostRoom.state !== 'refused';
    for (const leg of track.legs) {
      if (leg.partner !== 'changsha' || !HOLDING_LEG.includes(leg.state) || leg.requestId === undefined || keep.has(leg.requestId)) continue;
      leg.state = 'released';
      // a leg never asked (the host room was not held yet) has nothing at Changsha
      if (asked) this.#commands.push({ kind: 'slot-released', requestId: leg.requestId, reason: changshaReason });
    }
    const province = track.province;
    const shared = change !== undefined && (track as Change).provinceBy === 'unchanged';
    if (province && !shared && LIVE_PROVINCE.includes(province.state)) {
      if (province.seriesNumber !== undefined) {
        province.state = 'cancelled';
        this.#commands.push({ kind: 'host-cancel', seriesNumber: province.seriesNumber, reason });
      } else if (!asked) {
        // host-apply was never sent
        province.state = 'cancelled';
      } else {
        province.cancelOnAnswer = true;
      }
      for (const leg of track.legs) if (leg.partner === 'province' && HOLDING_LEG.includes(leg.state)) leg.state = 'released';
    }
    this.#freeHostRoom(track);
  }

  /** Drops a change let go, keeping what its province answer must still undo. */
  #forget(change: Change): void {
    const evaluation = this.#evaluation;
    if (change.province?.cancelOnAnswer) evaluation.cancelOnAnswer = [...(evaluation.cancelOnAnswer ?? []), change.number];
    delete evaluation.change;
  }

  #freeHostRoom(track: Track): void {
    const room = track.hostRoom;
    if (room.state === 'held' || room.state === 'booked') {
      room.state = 'freed';
      this.#commands.push({ kind: 'free-host-room', ...(room.change === undefined ? {} : { change: room.change }) });
    }
  }

  #lifecycle(event: Extract<HostEvent, { kind: 'lifecycle' }>): void {
    const evaluation = this.#evaluation;
    if (evaluation.state !== 'in-force' && evaluation.state !== 'changing') throw refusal('/status', 'NOT_IN_FORCE');
    const allowed: Record<LifecycleStatus, { from: Lifecycle; to: Lifecycle; code: '1' | '2' | '3' | '4' }> = {
      started: { from: 'not-started', to: 'started', code: '1' },
      paused: { from: 'started', to: 'paused', code: '4' },
      resumed: { from: 'paused', to: 'started', code: '1' },
      ended: { from: 'started', to: 'ended', code: '2' },
      archived: { from: 'ended', to: 'archived', code: '3' },
    };
    const move = allowed[event.status];
    if (evaluation.lifecycle !== move.from) throw refusal('/status', 'STATE_CONFLICT');
    if (event.status === 'paused' && !event.reason) throw refusal('/reason', 'a pause needs its reason');
    evaluation.lifecycle = move.to;
    const reason = event.reason === undefined ? {} : { reason: event.reason };
    // the status belongs to the chain in force: an undecided change keeps it when it comes into force
    const province = [evaluation.province, evaluation.change?.province].find((application) => application?.state === 'in-force');
    if (province?.seriesNumber !== undefined) this.#commands.push({ kind: 'eval-status', seriesNumber: province.seriesNumber, status: move.code, at: event.at, ...reason });
    if (event.status !== 'archived') {
      const status = event.status;
      for (const leg of evaluation.legs) {
        if (leg.partner === 'changsha' && leg.state === 'confirmed' && leg.requestId !== undefined) this.#commands.push({ kind: 'session-status', requestId: leg.requestId, status, at: event.at, ...reason });
      }
    }
    // the room is free from the end plus the buffer (the ledger adds the buffer)
    const room = evaluation.hostRoom.change === undefined ? {} : { change: evaluation.hostRoom.change };
    if (event.status === 'ended') this.#commands.push({ kind: 'free-host-room', from: event.at, ...room });
  }

  #changshaLeg(requestId: string): { track: Track; leg: Leg } | undefined {
    const evaluation = this.#evaluation;
    // the change's legs first: a kept leg stands in both, and belongs to the track being asked for
    for (const track of [evaluation.change, evaluation]) {
      const leg = track?.legs.find((candidate) => candidate.partner === 'changsha' && candidate.requestId === requestId);
      if (track && leg) return { track, leg };
    }
    return undefined;
  }
}

function provinceCenters(track: Track): string[] {
  return track.legs.filter((leg) => leg.partner === 'province').map((leg) => leg.center);
}
