/**
 * Carries out the life of a host evaluation (machine.ts) against Redis and the
 * partners. Each step is stored by compare-and-set together with what it asks
 * for (the outbox); only then is anything done, one action at a time, each
 * removed once done. A process killed at any point leaves the outbox behind for
 * the next one (the wake index and its sweep), and every message it sends has
 * an id derived from the evaluation and the action, so a resend is a repeat.
 */
import type { PartnerId } from '../../adapters/types.ts';
import type { HostApplicationMessage } from '../../adapters/host-applications.ts';
import { beijingDate, formatIsoBeijing } from '../../kernel/beijing-time.ts';
import { GatewayError } from '../../kernel/errors.ts';
import { HOST_PARTNER, hostRequestId } from '../../ledger/index.ts';
import { INBOUND_JOB_OPTIONS } from '../../queues/catalog.ts';
import { jobId } from '../../queues/names.ts';
import type { BookingRequest, HostApplicationEvent, HostEvent as PartnerHostEvent, HostMessage } from '../../schemas/types.generated.ts';
import { enqueueDelivery } from '../delivery/queue.ts';
import type { PendingWrites } from '../pending-writes.ts';
import type { Runtime } from '../runtime.ts';
import { stepEvaluation, type Command, type HostEvent, type MachineSettings, type Step, type Track } from './machine.ts';
import type { ApplicationAnswerTo, HostAction, HostEvaluationRecord, HostRequestDetails, OutboxEntry } from './record.ts';

/** An outbox left unfinished is looked at again this long after it was stored. */
const OUTBOX_RETRY_MS = 30_000;
/** Actions one drain carries out at most: a step asks for a handful; more means a loop. */
const MAX_ACTIONS_PER_DRAIN = 64;

export function machineSettings(runtime: Runtime): MachineSettings {
  const hosting = runtime.config.hosting;
  return { decisionDeadlineMs: hosting.decisionDeadlineMinutes * 60_000, confirmMarginMs: hosting.confirmMarginSeconds * 1000 };
}

/** Changsha's category of a plan (domain.md's mapping). */
export function categoryOf(details: Pick<HostRequestDetails, 'tradeType' | 'projectType'>): NonNullable<HostMessage['request']>['category'] {
  if (details.tradeType === 'ZFCG') return 'procurement';
  const byType: Record<string, NonNullable<HostMessage['request']>['category']> = { A01: 'building', A02: 'municipal', A03: 'road', A07: 'water' };
  return byType[details.projectType ?? ''] ?? 'other';
}

/** The partner through which Zhuzhou applies for several guest centers at once. */
function applicationPartner(runtime: Runtime): PartnerId {
  const found = Object.values(runtime.adapters).find((adapter) => adapter.hostApplications !== undefined);
  if (!found) throw new GatewayError('INTERNAL', 'no partner takes host applications');
  return found.id;
}

function trackOf(record: HostEvaluationRecord, change: number | undefined): Track {
  if (change !== undefined && record.change?.number === change) return record.change;
  return record;
}

function detailsOf(record: HostEvaluationRecord, change: number | undefined): HostRequestDetails {
  const details = record.details[String(change ?? 0)] ?? record.details['0'];
  if (!details) throw new GatewayError('INTERNAL', `host evaluation ${record.id} has no details`);
  return details;
}

const LIFECYCLE_OF_CODE = { '1': 'started', '2': 'ended', '3': 'archived', '4': 'paused' } as const;

/** A command of the machine as an outbox entry, built from the evaluation the step produced. */
function toEntry(runtime: Runtime, record: HostEvaluationRecord, command: Command): OutboxEntry {
  const optionalChange = (change: number | undefined) => (change === undefined ? {} : { change });
  switch (command.kind) {
    case 'hold-host-room':
      return { key: `hold:${command.change ?? 0}`, action: { type: 'hold', start: command.start, end: command.end, seats: command.seats, ...optionalChange(command.change) } };
    case 'book-host-room':
      return { key: `book:${command.change ?? 0}`, action: { type: 'book', ...optionalChange(command.change) } };
    case 'free-host-room':
      return { key: `free:${command.change ?? 0}:${command.from ?? 'all'}`, action: { type: 'free', ...optionalChange(command.change), ...(command.from === undefined ? {} : { from: command.from }) } };
    case 'host-apply':
    case 'host-change': {
      const track = trackOf(record, command.change);
      const details = detailsOf(record, command.change);
      const plan = {
        tenderProjectCode: details.projectCode,
        bidSectionCode: details.sectionCode,
        projectName: details.projectName,
        sector: details.tradeType,
        ...(details.projectType === undefined ? {} : { projectType: details.projectType }),
        start: formatIsoBeijing(track.plan.start),
        end: formatIsoBeijing(track.plan.end),
        hostRoomId: track.hostRoom.roomId ?? '',
        hostSeats: track.plan.hostSeats,
        contact: { name: runtime.personalData.decrypt(details.agentContact), phone: runtime.personalData.decrypt(details.agentPhone) },
        guests: command.guests.map((guest) => ({ center: guest.center, seats: guest.seats })),
        ...(details.remark ? { remark: details.remark } : {}),
      };
      const message: HostApplicationMessage = command.kind === 'host-apply' ? { kind: 'apply', plan } : { kind: 'change', plan, replaces: command.original, reason: command.reason };
      const key = command.kind === 'host-apply' ? `apply:${command.change ?? 0}` : `change:${command.change}`;
      return { key, action: { type: 'application', partner: applicationPartner(runtime), message, answer: optionalChange(command.change) } };
    }
    case 'host-cancel':
      return {
        key: `cancel:${command.seriesNumber}`,
        action: { type: 'application', partner: applicationPartner(runtime), message: { kind: 'cancel', replaces: command.seriesNumber, reason: command.reason }, answer: { cancel: true } },
      };
    case 'eval-status': {
      const message: HostApplicationMessage = {
        kind: 'status',
        applicationId: command.seriesNumber,
        status: LIFECYCLE_OF_CODE[command.status],
        at: formatIsoBeijing(command.at),
        ...(command.reason === undefined ? {} : { reason: command.reason }),
      };
      return { key: `status:${command.seriesNumber}:${command.status}:${command.at}`, action: { type: 'application', partner: applicationPartner(runtime), message } };
    }
    case 'slot-requested': {
      const track = [record.change, record].find((candidate) => candidate?.legs.some((leg) => leg.requestId === command.requestId)) ?? record;
      const leg = track.legs.find((candidate) => candidate.requestId === command.requestId);
      const details = detailsOf(record, record.change && track === record.change ? record.change.number : undefined);
      const message: HostMessage = {
        kind: 'request',
        requestId: command.requestId,
        request: {
          tenderProjectCode: details.projectCode,
          bidSectionCode: details.sectionCode,
          projectName: details.projectName,
          category: categoryOf(details),
          start: formatIsoBeijing(track.plan.start),
          end: formatIsoBeijing(track.plan.end),
          seats: command.seats,
          hostCenter: runtime.config.center.areaCode,
        },
      };
      return { key: `slot:${command.requestId}`, action: { type: 'slot', partner: leg?.partner ?? runtime.hostRoutes.partnerFor(command.center), message } };
    }
    case 'slot-confirmed':
      return { key: `confirm:${command.requestId}:${command.offerId}`, action: { type: 'slot', partner: legPartner(runtime, record, command.requestId), message: { kind: 'confirm', requestId: command.requestId, offerId: command.offerId } } };
    case 'slot-released':
      return { key: `release:${command.requestId}`, action: { type: 'slot', partner: legPartner(runtime, record, command.requestId), message: { kind: 'release', requestId: command.requestId, reason: command.reason } } };
    case 'session-status':
      return {
        key: `session:${command.requestId}:${command.status}:${command.at}`,
        action: {
          type: 'slot',
          partner: legPartner(runtime, record, command.requestId),
          message: { kind: 'status', requestId: command.requestId, lifecycle: { status: command.status, at: formatIsoBeijing(command.at), ...(command.reason === undefined ? {} : { reason: command.reason }) } },
        },
      };
  }
}

function legPartner(runtime: Runtime, record: HostEvaluationRecord, requestId: string): PartnerId {
  const leg = [...(record.change?.legs ?? []), ...record.legs].find((candidate) => candidate.requestId === requestId);
  if (leg) return leg.partner;
  const center = requestId.split('-')[1] ?? '';
  return runtime.hostRoutes.partnerFor(center);
}

/** What a step asks for, less what its outbox holds already (the same key is the same action). */
function withCommands(runtime: Runtime, before: HostEvaluationRecord, step: Step): HostEvaluationRecord {
  const next = step.evaluation as HostEvaluationRecord;
  const entries = step.commands.map((command) => toEntry(runtime, next, command));
  const known = new Set(before.outbox.map((entry) => entry.key));
  next.outbox = [...before.outbox, ...entries.filter((entry) => !known.has(entry.key))];
  next.updatedAt = runtime.clock.now();
  return next;
}

/** The trace of a step: what happened and where the evaluation stands, without personal data. */
function traceDetail(event: HostEvent | { kind: string }, record: HostEvaluationRecord, added: readonly OutboxEntry[]): Record<string, unknown> {
  return {
    event,
    state: record.state,
    lifecycle: record.lifecycle,
    legs: record.legs.map((leg) => `${leg.center}:${leg.state}`),
    ...(record.change ? { change: { number: record.change.number, legs: record.change.legs.map((leg) => `${leg.center}:${leg.state}`) } } : {}),
    ...(record.reason === undefined ? {} : { reason: record.reason }),
    ...(added.length > 0 ? { then: added.map((entry) => entry.key) } : {}),
  };
}

/**
 * Stores a step of an evaluation, computed by compare-and-set from the
 * evaluation as it stands (undefined: nothing changes), traces it, and carries
 * out what it asked for unless `drain` is false (the caller is draining).
 * Errors of `compute` (a refused lifecycle, a conflict) reach the caller, nothing stored.
 */
export async function advance(
  runtime: Runtime,
  id: string,
  stage: string,
  compute: (record: HostEvaluationRecord) => Step | undefined,
  options: { drain?: boolean; detail?: HostEvent | { kind: string }; alsoDo?: (record: HostEvaluationRecord) => OutboxEntry[] } = {},
): Promise<HostEvaluationRecord | undefined> {
  let added: OutboxEntry[] = [];
  let changed = false;
  const updated = await runtime.hostEvaluations.update(id, (record) => {
    added = [];
    changed = false;
    const step = compute(record);
    if (!step) return undefined;
    const next = withCommands(runtime, record, step);
    const known = new Set(next.outbox.map((entry) => entry.key));
    next.outbox.push(...(options.alsoDo?.(next) ?? []).filter((entry) => !known.has(entry.key)));
    added = next.outbox.slice(record.outbox.length);
    changed = true;
    return next;
  });
  if (!updated) return undefined;
  if (changed) {
    if (updated.plan.start !== (await runtime.hostEvaluations.get(id))?.plan.start) await runtime.hostEvaluations.reindex(updated);
    await runtime.hostEvaluations.reindex(updated);
    await runtime.traces.append(id, `host-${stage}`, traceDetail(options.detail ?? { kind: stage }, updated, added));
    if (added.length > 0) await runtime.redis.zadd(runtime.keys.hostWake, runtime.clock.now() + OUTBOX_RETRY_MS, id);
  }
  if (options.drain !== false) {
    try {
      await drainOutbox(runtime, id);
    } catch (error) {
      // the step is stored with its outbox and filed under the wake index: the host sweep carries
      // the rest out, so the caller hears where the evaluation stands, not that Redis hiccuped
      runtime.logger.warn('host evaluation step stored; what it asks for is left to the host sweep', { correlationId: id, stage, error: error instanceof Error ? error.message : String(error) });
    }
  }
  return updated;
}

/** Applies a partner's or the clock's event to an evaluation. */
export async function applyHostEvent(runtime: Runtime, id: string, event: HostEvent, options: { drain?: boolean; patch?: (record: HostEvaluationRecord) => void } = {}): Promise<HostEvaluationRecord | undefined> {
  const settings = machineSettings(runtime);
  return advance(
    runtime,
    id,
    event.kind,
    (record) => {
      const step = stepEvaluation(record, event, runtime.clock.now(), settings);
      options.patch?.(step.evaluation as HostEvaluationRecord);
      // an event that changes nothing (a repeat, a late answer) is not stored again
      if (step.commands.length === 0 && JSON.stringify(step.evaluation) === JSON.stringify(record)) return undefined;
      return step;
    },
    { ...(options.drain === undefined ? {} : { drain: options.drain }), detail: event },
  );
}

/**
 * Carries out the outbox of an evaluation, action by action, each removed
 * once done; then files the evaluation under the next time it must be looked
 * at. Safe to run from two processes at once: every action is idempotent.
 */
export async function drainOutbox(runtime: Runtime, id: string): Promise<void> {
  for (let done = 0; done < MAX_ACTIONS_PER_DRAIN; done++) {
    const record = await runtime.hostEvaluations.get(id);
    const entry = record?.outbox[0];
    if (!record || !entry) break;
    await perform(runtime, record, entry);
    await runtime.hostEvaluations.update(id, (current) =>
      current.outbox.some((candidate) => candidate.key === entry.key) ? { ...current, outbox: current.outbox.filter((candidate) => candidate.key !== entry.key) } : undefined,
    );
  }
  await fileWake(runtime, id);
}

/** The next time the clock matters to an evaluation: its deadline, a Changsha hold's margin, an unfinished outbox. */
export function nextWake(record: HostEvaluationRecord, settings: MachineSettings, now: number): number | undefined {
  if (record.outbox.length > 0) return now + OUTBOX_RETRY_MS;
  const asking = record.state === 'requested' ? record : record.state === 'changing' ? record.change : undefined;
  if (!asking) return undefined;
  const margins = asking.legs.filter((leg) => leg.state === 'offered' && leg.holdUntil !== undefined).map((leg) => (leg.holdUntil ?? 0) - settings.confirmMarginMs);
  return Math.min(asking.deadline, ...margins);
}

async function fileWake(runtime: Runtime, id: string): Promise<void> {
  const record = await runtime.hostEvaluations.get(id);
  const wake = record ? nextWake(record, machineSettings(runtime), runtime.clock.now()) : undefined;
  if (wake === undefined) await runtime.redis.zrem(runtime.keys.hostWake, id);
  else await runtime.redis.zadd(runtime.keys.hostWake, wake, id);
}

/**
 * The host sweep: every evaluation due (its deadline, a hold's margin, an
 * outbox left by a process that died) is drained and ticked. Returns how many.
 */
export async function sweepHostEvaluations(runtime: Runtime, limit = 200): Promise<number> {
  const due = await runtime.redis.zrangebyscore(runtime.keys.hostWake, '-inf', String(runtime.clock.now()), 'LIMIT', 0, limit);
  for (const id of due) {
    await drainOutbox(runtime, id);
    await applyHostEvent(runtime, id, { kind: 'tick' });
    await fileWake(runtime, id);
  }
  return due.length;
}

async function perform(runtime: Runtime, record: HostEvaluationRecord, entry: OutboxEntry): Promise<void> {
  const id = record.id;
  const action: HostAction = entry.action;
  const optionalChange = action.type !== 'slot' && action.type !== 'application' && action.type !== 'room-lifecycle' && action.change !== undefined ? { change: action.change } : {};
  const now = runtime.clock.now();
  switch (action.type) {
    case 'hold': {
      const held = await runtime.ledger.holdHostRoom({ evaluationId: id, ...optionalChange, start: action.start, end: action.end, seats: action.seats, closed: runtime.calendar.isClosed(beijingDate(action.start)), now });
      const event: HostEvent = held.ok
        ? { kind: 'host-room-held', roomId: held.roomId, seatIds: held.seatIds, ...optionalChange }
        : { kind: 'host-room-refused', reason: `${runtime.config.center.areaCode} ${held.reason}`, ...optionalChange };
      await applyHostEvent(runtime, id, event, { drain: false });
      return;
    }
    case 'book': {
      const booked = await runtime.ledger.bookHostRoom({ evaluationId: id, ...optionalChange, now });
      if (!booked.ok) await flagOperator(runtime, id, `host room not held when it was to be booked (${entry.key})`);
      return;
    }
    case 'free':
      await runtime.ledger.freeHostRoom({ evaluationId: id, ...optionalChange, ...(action.from === undefined ? {} : { from: action.from }), now });
      return;
    case 'room-lifecycle':
      await runtime.ledger.recordLifecycle({
        partner: HOST_PARTNER,
        id: hostRequestId(id, action.change),
        status: action.status,
        at: action.at,
        ...(action.reason === undefined ? {} : { reason: action.reason }),
        // the report names itself: the same one carried out twice is a repeat
        trackingNo: `host-status:${action.status}:${action.at}`,
      });
      return;
    case 'application': {
      const adapter = runtime.adapters[action.partner];
      const encoded = adapter.hostApplications?.encode(action.message, adapter.messageIdFor(`host:${id}:${entry.key}`));
      if (!encoded?.ok) {
        const reason = encoded ? violationsText(encoded.error) : `${action.partner} takes no host applications`;
        if (action.answer && !action.answer.cancel) await applyHostEvent(runtime, id, { kind: 'host-apply-refused', reason: `REFUSED ${reason}`, ...(action.answer.change === undefined ? {} : { change: action.answer.change }) }, { drain: false });
        else await flagOperator(runtime, id, `${entry.key} refused unsent: ${reason}`);
        return;
      }
      const answerTo: ApplicationAnswerTo | undefined = action.answer ? { evaluationId: id, ...action.answer } : undefined;
      await enqueueDelivery(runtime, encoded.value, id, encoded.value.messageId, undefined, answerTo);
      return;
    }
    case 'slot': {
      const adapter = runtime.adapters[action.partner];
      if (!adapter.host) {
        await flagOperator(runtime, id, `${action.partner} takes no seat requests (${entry.key})`);
        return;
      }
      const outbound = adapter.host.encode(action.message, adapter.messageIdFor(`host:${id}:${entry.key}`));
      await enqueueDelivery(runtime, outbound, id);
      return;
    }
  }
}

function violationsText(error: GatewayError): string {
  return error.violations.length > 0 ? error.violations.map((violation) => `${violation.path} ${violation.message}`).join('; ') : error.message;
}

async function flagOperator(runtime: Runtime, id: string, note: string): Promise<void> {
  runtime.logger.error('host evaluation needs an operator', { correlationId: id, note });
  await runtime.hostEvaluations.update(id, (record) => (record.needsOperator === note ? undefined : { ...record, needsOperator: note }));
  await runtime.traces.append(id, 'host-needs-operator', { note });
}

/** The evaluation a Changsha leg's request id belongs to, when it is one (`HE...-<center>[-C<n>]`). */
export async function evaluationOfLeg(runtime: Runtime, requestId: string): Promise<HostEvaluationRecord | undefined> {
  const [evaluationId] = requestId.split('-');
  if (!evaluationId?.startsWith('HE') || evaluationId === requestId) return undefined;
  // the id names its evaluation, so a leg of an older change (no longer in the document) is still found
  return runtime.hostEvaluations.get(evaluationId);
}

/** A Changsha offer, decline or release about a leg; false when the request is not a leg of a host evaluation. */
export async function handleLegEvent(runtime: Runtime, partner: PartnerId, event: PartnerHostEvent | BookingRequest): Promise<boolean> {
  const record = await evaluationOfLeg(runtime, event.requestId);
  if (!record) return false;
  if (event.kind === 'offered') {
    const offerId = event.offerId ?? '';
    const seatIds = event.seatIds ?? [];
    await applyHostEvent(
      runtime,
      record.id,
      { kind: 'slot-offered', requestId: event.requestId, offerId, holdUntil: Date.parse(event.holdExpiresAt ?? '') || runtime.clock.now(), seats: seatIds.length },
      {
        patch: (next) => {
          for (const leg of [...next.legs, ...(next.change?.legs ?? [])]) {
            if (leg.requestId === event.requestId && leg.offerId === offerId) leg.room = { name: event.roomId ?? '', address: partner, seatNumbers: seatIds };
          }
        },
      },
    );
  } else if (event.kind === 'declined') {
    await applyHostEvent(runtime, record.id, { kind: 'slot-declined', requestId: event.requestId, reason: event.reason ?? 'DECLINED' });
  } else {
    await applyHostEvent(runtime, record.id, { kind: 'slot-released', requestId: event.requestId, reason: event.reason ?? 'RELEASED' });
  }
  return true;
}

const OUTCOME_CODES = { 'in-force': '1', failed: '3', cancelled: '5', expired: '6' } as const;

function toMachineEvent(event: HostApplicationEvent): HostEvent {
  if (event.kind === 'guest-result' && event.guest) {
    const guest = event.guest;
    return {
      kind: 'host-result',
      seriesNumber: event.applicationId,
      center: guest.center,
      approved: guest.decision === 'approved',
      ...(guest.decision === 'approved' ? { room: { name: guest.roomName, address: guest.roomAddress, seatNumbers: guest.seatIds } } : { reason: event.remark || 'REJECTED' }),
    };
  }
  return { kind: 'host-outcome', seriesNumber: event.applicationId, outcome: OUTCOME_CODES[event.outcome ?? 'failed'] };
}

/** Reads the evaluation of an application, or holds the push behind its answer: one script, so none slips between. */
const CLAIM_OR_HOLD = `local id = redis.call('GET', KEYS[1]) if id then return id end redis.call('RPUSH', KEYS[2], ARGV[1]) redis.call('PEXPIRE', KEYS[2], ARGV[2]) return false`;
/** Records whose an application is and returns the pushes held for it, in order. */
const RECORD_AND_READ_HELD = `redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return redis.call('LRANGE', KEYS[2], 0, -1)`;

interface HeldPush {
  partner: PartnerId;
  trackingNo: string;
  event: HostApplicationEvent;
}

/** How long the link from an application id to its evaluation is kept: the retention period. */
function applicationLinkTtlMs(runtime: Runtime): number {
  return runtime.config.periodic.retentionDays * 24 * 3600 * 1000;
}

/**
 * A province push about a host application (a guest's result, the outcome).
 * One that overtook the answer naming its application is held, in order,
 * until that answer is recorded (`held`), and goes to operators if it never is.
 */
export async function handleApplicationPush(runtime: Runtime, partner: PartnerId, event: HostApplicationEvent, processJobId: string, pending: PendingWrites): Promise<'held' | 'handled'> {
  const keys = runtime.keys;
  const held: HeldPush = { partner, trackingNo: event.trackingNo, event };
  const evaluationId = (await runtime.redis.eval(CLAIM_OR_HOLD, 2, keys.hostApplication(event.applicationId), keys.hostApplicationHeld(event.applicationId), JSON.stringify(held), String(applicationLinkTtlMs(runtime)))) as string | null;
  if (evaluationId === null) {
    await runtime.traces.write([
      ...pending.splice(0),
      runtime.traces.appendCommand(event.trackingNo, 'held', { waitingFor: event.applicationId, note: 'the answer naming this application is not recorded yet' }),
      runtime.messages.stateCommand(partner, event.trackingNo, 'held'),
    ]);
    await runtime.inboundQueue.add(
      'held-timeout',
      { partner, trackingNo: event.trackingNo, requestId: event.applicationId, replaces: event.applicationId },
      { ...INBOUND_JOB_OPTIONS, jobId: jobId(processJobId, 'held-timeout'), delay: runtime.config.intake.heldOriginalTimeoutHours * 3600 * 1000 },
    );
    return 'held';
  }
  pending.push(runtime.traces.appendCommand(event.trackingNo, 'host-evaluation', { evaluationId }));
  await applyHostEvent(runtime, evaluationId, toMachineEvent(event));
  return 'handled';
}

/**
 * The partner answered an application (host-apply, host-change, host-cancel)
 * with its id: the evaluation learns it, the link from the id is recorded, and
 * the pushes that overtook the answer are applied in the order they came.
 */
export async function applicationAnswered(runtime: Runtime, partner: PartnerId, operation: string, answer: unknown, answerTo: ApplicationAnswerTo): Promise<void> {
  const applicationId = runtime.adapters[partner].hostApplications?.applicationIdOf(operation, answer);
  if (applicationId === undefined) throw new GatewayError('DELIVERY_REFUSED', `${partner} answered ${operation} without an application id`);
  const id = answerTo.evaluationId;
  await runtime.traces.append(id, 'host-application-answered', { operation, applicationId, ...(answerTo.change === undefined ? {} : { change: answerTo.change }) });
  if (!answerTo.cancel) await applyHostEvent(runtime, id, { kind: 'host-apply-answered', seriesNumber: applicationId, ...(answerTo.change === undefined ? {} : { change: answerTo.change }) });
  const keys = runtime.keys;
  const heldJson = (await runtime.redis.eval(RECORD_AND_READ_HELD, 2, keys.hostApplication(applicationId), keys.hostApplicationHeld(applicationId), id, String(applicationLinkTtlMs(runtime)))) as string[];
  for (const json of heldJson) {
    const held = JSON.parse(json) as HeldPush;
    await applyHostEvent(runtime, id, toMachineEvent(held.event));
    await runtime.traces.write([runtime.traces.appendCommand(held.trackingNo, 'resumed', { evaluationId: id }), runtime.messages.stateCommand(held.partner, held.trackingNo, 'processed')]);
  }
  if (heldJson.length > 0) await runtime.redis.del(keys.hostApplicationHeld(applicationId));
}

/** The partner refused an application for good (or never took it within the retry horizon). */
export async function applicationRefused(runtime: Runtime, answerTo: ApplicationAnswerTo, reason: string): Promise<void> {
  if (answerTo.cancel) {
    const record = await runtime.hostEvaluations.get(answerTo.evaluationId);
    // the province ended the application itself meanwhile (a guest rejected, it expired): nothing is left to cancel
    if (record?.state === 'failed' || record?.state === 'cancelled') await runtime.traces.append(answerTo.evaluationId, 'host-cancel-refused', { reason, note: 'the evaluation had ended already' });
    else await flagOperator(runtime, answerTo.evaluationId, `host-cancel refused: ${reason}`);
    return;
  }
  await applyHostEvent(runtime, answerTo.evaluationId, { kind: 'host-apply-refused', reason: `REFUSED ${reason}`, ...(answerTo.change === undefined ? {} : { change: answerTo.change }) });
}
