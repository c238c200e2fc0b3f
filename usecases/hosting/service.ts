/**
 * What the center's systems and operators do with host evaluations (the API
 * and the dashboard call these): plan, change, cancel, report the lifecycle,
 * read. Input is checked here, every violation listed; the flow does the rest.
 */
import { HUNAN_AREA_CODES } from '../../adapters/province/rules.ts';
import { beijingDate, formatIsoBeijing } from '../../kernel/beijing-time.ts';
import { GatewayError } from '../../kernel/errors.ts';
import { idFactory } from '../../kernel/ids.ts';
import { maskName, maskPhone } from '../../kernel/pii.ts';
import { validatorFor, type Violation } from '../../schemas/registry.ts';
import type { HostEvaluationAction, HostEvaluationInput } from '../../schemas/types.generated.ts';
import type { TraceEntry } from '../../stores/traces.ts';
import { pageOf, type Page, type Position } from '../../stores/keyset.ts';
import type { Runtime } from '../runtime.ts';
import { advance, machineSettings } from './flow.ts';
import { changeEvaluation, planEvaluation, stepEvaluation, type EvaluationState, type HostRoom, type Leg, type Lifecycle, type LifecycleStatus, type Plan } from './machine.ts';
import type { HostEvaluationRecord, HostRequestDetails } from './record.ts';

export type { HostEvaluationInput } from '../../schemas/types.generated.ts';

const validateInput = validatorFor<HostEvaluationInput>('api/host-evaluation.json');
const validateAction = validatorFor<HostEvaluationAction>('api/host-evaluation-action.json');
const nextId = idFactory();

export interface HostLegView {
  center: string;
  partner: string;
  state: Leg['state'] | 'cancelled';
  seats: number;
  roomName: string | null;
  roomAddress: string | null;
  seatNumbers: string[];
  seriesNumber?: string;
  requestId?: string;
  reason: string | null;
}

export interface HostRoomView {
  roomId: string | null;
  seats: number;
  seatIds: string[];
  state: HostRoom['state'];
}

export interface HostEvaluationView {
  id: string;
  state: EvaluationState;
  reason: string | null;
  lifecycle: Lifecycle;
  window: { start: string; end: string };
  hostRoom: HostRoomView;
  legs: HostLegView[];
  change: null | { number: number; reason: string; window: { start: string; end: string }; hostRoom: HostRoomView; legs: HostLegView[] };
  needsOperator: string | null;
  lastChangeFailure: string | null;
  projectCode: string;
  sectionCode: string;
  projectName: string;
  tradeType: string;
  projectType: string | null;
  /** personal data, masked */
  agentContact: string;
  agentPhone: string;
  createdAt: string;
  trace: TraceEntry[];
}

function refused(violations: Violation[]): GatewayError {
  return new GatewayError('SEMANTIC_INVALID', undefined, { violations });
}

/** The input checked by schema (400) and by the rules (422), every violation listed. */
function checkInput(runtime: Runtime, input: unknown, forChange: boolean): HostEvaluationInput {
  const checked = validateInput(input);
  if (!checked.ok) throw new GatewayError('SCHEMA_INVALID', undefined, { violations: checked.violations });
  const plan = checked.value;
  const start = Date.parse(plan.start);
  const end = Date.parse(plan.end);
  const violations: Violation[] = [];
  if (end <= start) violations.push({ path: '/end', message: 'must be after start' });
  if (beijingDate(start) !== beijingDate(end)) violations.push({ path: '/end', message: 'must be on the same calendar day as start in Beijing time' });
  if (end <= runtime.clock.now()) violations.push({ path: '/end', message: 'is already past' });
  if (!plan.sectionCode.startsWith(plan.projectCode)) violations.push({ path: '/sectionCode', message: 'must start with projectCode' });
  if (plan.tradeType === 'GCJS' && plan.projectType === undefined) violations.push({ path: '/projectType', message: 'is required for GCJS' });
  if (plan.tradeType === 'ZFCG' && plan.projectType !== undefined) violations.push({ path: '/projectType', message: 'is for GCJS only' });
  const seen = new Set<string>();
  plan.guests.forEach((guest, index) => {
    if (guest.center === runtime.config.center.areaCode) violations.push({ path: `/guests/${index}/center`, message: 'is the host itself' });
    else if (!HUNAN_AREA_CODES.has(guest.center)) violations.push({ path: `/guests/${index}/center`, message: 'is not an area code of domain.md' });
    if (seen.has(guest.center)) violations.push({ path: `/guests/${index}/center`, message: 'is named twice' });
    seen.add(guest.center);
  });
  if (forChange && plan.reason === undefined) violations.push({ path: '/reason', message: 'a change needs its reason' });
  if (!forChange && plan.reason !== undefined) violations.push({ path: '/reason', message: 'is for a change only' });
  if (violations.length > 0) throw refused(violations);
  return plan;
}

function planOf(input: HostEvaluationInput): Plan {
  return { start: Date.parse(input.start), end: Date.parse(input.end), hostSeats: input.hostSeats, guests: input.guests.map((guest) => ({ center: guest.center, seats: guest.seats })) };
}

function detailsOf(runtime: Runtime, input: HostEvaluationInput): HostRequestDetails {
  return {
    projectCode: input.projectCode,
    sectionCode: input.sectionCode,
    projectName: input.projectName,
    tradeType: input.tradeType,
    ...(input.projectType === undefined ? {} : { projectType: input.projectType }),
    agentContact: runtime.personalData.encrypt(input.agentContact),
    agentPhone: runtime.personalData.encrypt(input.agentPhone),
    ...(input.remark === undefined ? {} : { remark: input.remark }),
  };
}

const ACTIVE: readonly EvaluationState[] = ['requested', 'in-force', 'changing'];

/**
 * One evaluation a bid section: a second plan while the first is requested or
 * in force is a conflict naming it. The section's claim is taken by
 * compare-and-set, so two plans racing get one evaluation.
 */
async function claimSection(runtime: Runtime, sectionCode: string, id: string): Promise<void> {
  const key = runtime.keys.hostSection(sectionCode);
  for (;;) {
    if ((await runtime.redis.set(key, id, 'NX')) === 'OK') return;
    const holder = await runtime.redis.get(key);
    if (holder === null) continue;
    const current = await runtime.hostEvaluations.get(holder);
    if (current && ACTIVE.includes(current.state)) throw new GatewayError('CONFLICT', `bid section ${sectionCode} is hosted by ${holder} (${current.state})`);
    const scripted = runtime.redis as unknown as { documentCompareAndSet(key: string, expected: string, next: string): Promise<number> };
    if ((await scripted.documentCompareAndSet(key, holder, id)) === 1) return;
  }
}

export async function planHostEvaluation(runtime: Runtime, input: unknown, actor: string): Promise<HostEvaluationView> {
  const checked = checkInput(runtime, input, false);
  const now = runtime.clock.now();
  const id = `HE${nextId(now)}`;
  await claimSection(runtime, checked.sectionCode, id);
  const step = planEvaluation(id, planOf(checked), (center) => runtime.hostRoutes.partnerFor(center), now, machineSettings(runtime));
  const record: HostEvaluationRecord = { ...step.evaluation, details: { '0': detailsOf(runtime, checked) }, outbox: [], createdAt: now, updatedAt: now };
  await runtime.hostEvaluations.create(record);
  await runtime.traces.index(id, { section: checked.sectionCode });
  // the first step is stored like every other: its hold goes through the outbox
  await advance(runtime, id, 'planned', () => ({ evaluation: record, commands: step.commands }), { detail: { kind: 'planned', by: actor, guests: checked.guests, hostSeats: checked.hostSeats, start: checked.start, end: checked.end } as { kind: string } });
  return requireView(runtime, id);
}

export async function changeHostEvaluation(runtime: Runtime, id: string, input: unknown, actor: string): Promise<HostEvaluationView> {
  const checked = checkInput(runtime, input, true);
  await requireRecord(runtime, id);
  const settings = machineSettings(runtime);
  await advance(
    runtime,
    id,
    'change',
    (record) => {
      if (record.details['0']?.sectionCode !== checked.sectionCode) throw refused([{ path: '/sectionCode', message: 'is not the evaluation\'s bid section' }]);
      const step = changeEvaluation(record, planOf(checked), checked.reason ?? '', (center) => runtime.hostRoutes.partnerFor(center), runtime.clock.now(), settings);
      const next = step.evaluation as HostEvaluationRecord;
      next.details = { ...record.details, [String(next.changes)]: detailsOf(runtime, checked) };
      return step;
    },
    { detail: { kind: 'change', by: actor, reason: checked.reason, guests: checked.guests, hostSeats: checked.hostSeats, start: checked.start, end: checked.end } as { kind: string } },
  );
  return requireView(runtime, id);
}

export async function cancelHostEvaluation(runtime: Runtime, id: string, reason: string, actor: string): Promise<HostEvaluationView> {
  await requireRecord(runtime, id);
  await advance(runtime, id, 'cancel', (record) => stepEvaluation(record, { kind: 'cancel', reason }, runtime.clock.now(), machineSettings(runtime)), { detail: { kind: 'cancel', by: actor, reason } as { kind: string } });
  return requireView(runtime, id);
}

export async function reportHostLifecycle(runtime: Runtime, id: string, status: LifecycleStatus, reason: string | undefined, actor: string): Promise<HostEvaluationView> {
  await requireRecord(runtime, id);
  const at = runtime.clock.now();
  const event = { kind: 'lifecycle' as const, status, at, ...(reason === undefined ? {} : { reason }) };
  await advance(runtime, id, 'lifecycle', (record) => stepEvaluation(record, event, at, machineSettings(runtime)), {
    detail: { ...event, by: actor } as { kind: string },
    // the room board shows the host room's lifecycle as it shows a guest booking's (`ended` frees it from the end)
    alsoDo: (next) =>
      status === 'ended'
        ? []
        : [
            {
              key: `room-status:${status}:${at}`,
              action: { type: 'room-lifecycle', status, at, ...(next.hostRoom.change === undefined ? {} : { change: next.hostRoom.change }), ...(reason === undefined ? {} : { reason }) },
            },
          ],
  });
  return requireView(runtime, id);
}

/** The body of a cancel (`{reason}`) or a lifecycle report (`{status, reason}`), checked by schema, every violation listed (400). */
export function checkHostAction(input: unknown, kind: 'cancel' | 'status'): HostEvaluationAction {
  const checked = validateAction(input ?? {});
  if (!checked.ok) throw new GatewayError('SCHEMA_INVALID', undefined, { violations: checked.violations });
  const violations: Violation[] = [];
  if (kind === 'status' && checked.value.status === undefined) violations.push({ path: '/status', message: 'is required' });
  if (kind === 'cancel' && checked.value.status !== undefined) violations.push({ path: '/status', message: 'is for /status only' });
  if (kind === 'cancel' && checked.value.reason === undefined) violations.push({ path: '/reason', message: 'a cancel needs its reason' });
  if (violations.length > 0) throw new GatewayError('SCHEMA_INVALID', undefined, { violations });
  return checked.value;
}

async function requireRecord(runtime: Runtime, id: string): Promise<HostEvaluationRecord> {
  const record = await runtime.hostEvaluations.get(id);
  if (!record) throw new GatewayError('NOT_FOUND', `no host evaluation ${id}`);
  return record;
}

async function requireView(runtime: Runtime, id: string): Promise<HostEvaluationView> {
  const view = await getHostEvaluation(runtime, id);
  if (!view) throw new GatewayError('NOT_FOUND', `no host evaluation ${id}`);
  return view;
}

export async function getHostEvaluation(runtime: Runtime, id: string): Promise<HostEvaluationView | undefined> {
  const record = await runtime.hostEvaluations.get(id);
  if (!record) return undefined;
  return viewOf(runtime, record, await runtime.traces.read(id));
}

/** The evaluations whose window starts on a Beijing day (`yyyy-MM-dd`), earliest first, without their traces. */
export async function hostEvaluationsOn(runtime: Runtime, date: string): Promise<HostEvaluationView[]> {
  const from = Date.parse(`${date}T00:00:00+08:00`);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date) || Number.isNaN(from)) throw new GatewayError('SCHEMA_INVALID', undefined, { violations: [{ path: '/date', message: 'must be yyyy-MM-dd' }] });
  const records = await runtime.hostEvaluations.startingBetween(from, from + 24 * 3600 * 1000);
  return records.map((record) => viewOf(runtime, record, []));
}

/** Which evaluations a list names: their window starts in [from, to) (either end open), by state and by a guest leg's partner. */
export interface HostEvaluationListQuery {
  from?: number | undefined;
  to?: number | undefined;
  state?: EvaluationState | undefined;
  partner?: string | undefined;
  /** the page starts after this place (window start, id) */
  after?: Position | undefined;
  limit: number;
}

/**
 * A page of the evaluations that match, earliest window first (its start,
 * then the id), without their traces, and how many match in all. An
 * evaluation whose window a change moves while a caller walks the pages moves
 * in the list with it.
 */
export async function listHostEvaluations(runtime: Runtime, query: HostEvaluationListQuery): Promise<Page<HostEvaluationView>> {
  const records = await runtime.hostEvaluations.startingWithin(query.from, query.to);
  const matching = records.filter(
    (record) => (query.state === undefined || record.state === query.state) && (query.partner === undefined || record.legs.some((leg) => leg.partner === query.partner)),
  );
  const page = pageOf(matching, (record) => ({ at: record.plan.start, id: record.id }), 'earliest-first', query.after, query.limit);
  return { ...page, items: page.items.map((record) => viewOf(runtime, record, [])) };
}

function legView(leg: Leg, seriesNumber: string | undefined, cancelled: boolean): HostLegView {
  return {
    center: leg.center,
    partner: leg.partner,
    // a leg let go because the evaluation was cancelled reads as cancelled, not as lost
    state: cancelled && leg.state === 'released' ? 'cancelled' : leg.state,
    seats: leg.seats,
    roomName: leg.room?.name ?? null,
    roomAddress: leg.room?.address ?? null,
    seatNumbers: [...(leg.room?.seatNumbers ?? [])],
    ...(leg.partner !== 'changsha' && seriesNumber !== undefined ? { seriesNumber } : {}),
    ...(leg.requestId === undefined ? {} : { requestId: leg.requestId }),
    reason: leg.reason ?? null,
  };
}

function roomView(room: HostRoom, seats: number): HostRoomView {
  return { roomId: room.roomId ?? null, seats, seatIds: [...(room.seatIds ?? [])], state: room.state };
}

/** A sealed field opened and masked: enough to recognise the person, not to contact them. */
function unsealMasked(runtime: Runtime, sealed: string | undefined, mask: (plain: string) => string): string {
  if (!sealed) return '';
  try {
    return mask(runtime.personalData.decrypt(sealed));
  } catch {
    return '***';
  }
}

function viewOf(runtime: Runtime, record: HostEvaluationRecord, trace: TraceEntry[]): HostEvaluationView {
  const details = record.details[String(record.hostRoom.change ?? 0)] ?? record.details['0'];
  const cancelled = record.state === 'cancelled';
  const change = record.change;
  return {
    id: record.id,
    state: record.state,
    reason: record.reason ?? null,
    lifecycle: record.lifecycle,
    window: { start: formatIsoBeijing(record.plan.start), end: formatIsoBeijing(record.plan.end) },
    hostRoom: roomView(record.hostRoom, record.plan.hostSeats),
    legs: record.legs.map((leg) => legView(leg, record.province?.seriesNumber, cancelled)),
    change: change
      ? {
          number: change.number,
          reason: change.reason,
          window: { start: formatIsoBeijing(change.plan.start), end: formatIsoBeijing(change.plan.end) },
          hostRoom: roomView(change.hostRoom, change.plan.hostSeats),
          legs: change.legs.map((leg) => legView(leg, change.province?.seriesNumber ?? record.province?.seriesNumber, false)),
        }
      : null,
    needsOperator: record.needsOperator ?? null,
    lastChangeFailure: record.lastChangeFailure ?? null,
    projectCode: details?.projectCode ?? '',
    sectionCode: details?.sectionCode ?? '',
    projectName: details?.projectName ?? '',
    tradeType: details?.tradeType ?? '',
    projectType: details?.projectType ?? null,
    agentContact: unsealMasked(runtime, details?.agentContact, maskName),
    agentPhone: unsealMasked(runtime, details?.agentPhone, maskPhone),
    createdAt: formatIsoBeijing(record.createdAt),
    trace,
  };
}
