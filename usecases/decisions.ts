import type { CanonicalEvent, PartnerId } from '../adapters/types.ts';
import { beijingDate } from '../kernel/beijing-time.ts';
import { GatewayError } from '../kernel/errors.ts';
import type { LedgerDecision, LedgerRequest } from '../ledger/index.ts';
import { INBOUND_JOB_OPTIONS, type InboundJobs } from '../queues/catalog.ts';
import { jobId } from '../queues/names.ts';
import { validatorFor, type ValidationResult } from '../schemas/registry.ts';
import type { Availability, BookingDecision, BookingRequest, HostApplicationEvent, HostEvent } from '../schemas/types.generated.ts';
import { scheduleAvailabilityPublish } from './availability.ts';
import { queuedSend, type SendToPartner } from './delivery/queue.ts';
import { handleHostEvent, handleHostRelease, isHostedRequest } from './host.ts';
import { recordLifecycle } from './lifecycle.ts';
import { handleApplicationPush, handleLegEvent } from './hosting/flow.ts';
import type { PendingWrites } from './pending-writes.ts';
import type { Runtime } from './runtime.ts';

const validators: Record<string, (input: unknown) => ValidationResult<unknown>> = {
  booking: validatorFor<BookingRequest>('canonical/booking-request.json'),
  host: validatorFor<HostEvent>('canonical/host-event.json'),
  availability: validatorFor<Availability>('canonical/availability.json'),
  hostApplication: validatorFor<HostApplicationEvent>('canonical/host-application-event.json'),
};
const validateBookingDecision = validatorFor<BookingDecision>('canonical/booking-decision.json');

function schemaOf(event: CanonicalEvent): string {
  if (event.kind === 'offered' || event.kind === 'declined') return 'host';
  if (event.kind === 'availability') return 'availability';
  if (event.kind === 'guest-result' || event.kind === 'application-outcome') return 'hostApplication';
  return 'booking';
}

async function loadCanonical(runtime: Runtime, partner: PartnerId, trackingNo: string): Promise<CanonicalEvent> {
  const stored = await runtime.messages.load(partner, trackingNo);
  if (!stored) throw new GatewayError('RECORD_MISSING', `no record ${trackingNo}`);
  const event = runtime.adapters[partner].decode(stored.operation, stored.body, { trackingNo, receivedAt: stored.receivedAt });
  const checked = validators[schemaOf(event)]?.(event);
  if (!checked?.ok) throw new GatewayError('CANONICAL_INVALID', JSON.stringify(checked?.violations));
  return event;
}

/**
 * Decodes a recorded message and acts on it: the ledger decides, the partner
 * is answered, host and availability events are handled; the record is then
 * `processed` (or `held`, waiting for its original).
 */
export async function processMessage(runtime: Runtime, send: SendToPartner, { partner, trackingNo }: InboundJobs['process'], processJobId: string): Promise<void> {
  const event = await loadCanonical(runtime, partner, trackingNo);
  // the trace entries and the `processed` mark go in one write at the end (PendingWrites)
  const pending: PendingWrites = [runtime.traces.appendCommand(trackingNo, 'canonical', { event })];
  let outcome: 'held' | 'handled';
  try {
    outcome = await handleEvent(runtime, send, partner, event, processJobId, pending);
  } catch (error) {
    // what the job got as far as stays in its trace, beside the retry or the dead letter
    await runtime.traces.write(pending).catch(() => undefined);
    throw error;
  }
  // A message held in this run stays held until its original resumes it; a resumed
  // one was `held` from its first run and is now processed.
  if (outcome !== 'held') pending.push(runtime.messages.stateCommand(partner, trackingNo, 'processed'));
  await runtime.traces.write(pending);
}

/** `held`: the message waits for its original (decideInLedger set its state). */
async function handleEvent(runtime: Runtime, send: SendToPartner, partner: PartnerId, event: CanonicalEvent, processJobId: string, pending: PendingWrites): Promise<'held' | 'handled'> {
  switch (event.kind) {
    case 'availability':
      await runtime.availability.store(event);
      break;
    case 'offered':
    case 'declined':
      // a leg of a host evaluation, else one of the center's own seat requests
      if (!(await handleLegEvent(runtime, partner, event))) await handleHostEvent(runtime, partner, event);
      break;
    case 'guest-result':
    case 'application-outcome':
      return handleApplicationPush(runtime, partner, event, processJobId, pending);
    case 'query':
      await resendDecision(runtime, send, partner, event, pending);
      break;
    case 'status':
      await recordLifecycle(runtime, partner, event, pending);
      break;
    case 'release':
      // a release of one of Zhuzhou's own seat requests is host business, not the ledger's
      if (await handleLegEvent(runtime, partner, event)) break;
      if (!(await isHostedRequest(runtime, event.requestId))) return decideInLedger(runtime, send, partner, event, processJobId, pending);
      await handleHostRelease(runtime, event);
      break;
    case 'apply':
    case 'change':
    case 'cancel':
    case 'hold':
    case 'confirm':
      return decideInLedger(runtime, send, partner, event, processJobId, pending);
  }
  return 'handled';
}

async function resendDecision(runtime: Runtime, send: SendToPartner, partner: PartnerId, request: BookingRequest, pending: PendingWrites): Promise<void> {
  const looked = runtime.replicas.mark(runtime.redis);
  const decision = await runtime.ledger.lookup(partner, request.requestId);
  if (decision) {
    await runtime.replicas.confirm(looked);
    await answerDecision(runtime, send, partner, decision, request.trackingNo, jobId(decision.notifyId, 'resend', request.trackingNo), pending);
    pending.push(runtime.traces.appendCommand(request.trackingNo, 'notify-resent', { requestId: request.requestId, messageId: decision.notifyId }));
  } else {
    // not decided yet: its answer goes out when it is
    await runtime.traces.append(request.trackingNo, 'query-before-decision', { requestId: request.requestId });
  }
}

async function decideInLedger(runtime: Runtime, send: SendToPartner, partner: PartnerId, request: BookingRequest, processJobId: string, pending: PendingWrites): Promise<'held' | 'handled'> {
  const { trackingNo } = request;
  const log = runtime.logger.child({ correlationId: trackingNo, partner });
  const adapter = runtime.adapters[partner];
  const now = runtime.clock.now();
  const booking = request.booking;
  const start = booking ? Date.parse(booking.start) : undefined;
  const end = booking ? Date.parse(booking.end) : undefined;
  let closed = false;
  if (start !== undefined) {
    const day = beijingDate(start);
    closed = runtime.calendar.isClosed(day);
    if (!runtime.calendar.isPublished(Number(day.slice(0, 4)))) {
      log.warn('no official holiday notice for this year: deciding on Monday to Friday', { day });
      pending.push(runtime.traces.appendCommand(trackingNo, 'calendar-provisional', { day }));
    }
  }
  const ledgerRequest: LedgerRequest = {
    op: request.kind as LedgerRequest['op'],
    partner,
    id: request.requestId,
    ...(request.replaces === undefined ? {} : { replaces: request.replaces }),
    ...(start === undefined ? {} : { start }),
    ...(end === undefined ? {} : { end }),
    ...(booking === undefined ? {} : { seats: booking.seats }),
    ...(request.offerId === undefined ? {} : { offerId: request.offerId }),
    ...(request.reason === undefined ? {} : { reason: request.reason }),
    closed,
    now,
    notifyId: adapter.messageIdFor(`decision:${trackingNo}`),
    trackingNo,
    decidedAt: new Date(now).toISOString(),
  };
  if (request.kind === 'hold') {
    ledgerRequest.offerId = `ZZO-${trackingNo}`;
    ledgerRequest.holdUntil = now + runtime.config.ledger.holdMinutes * 60 * 1000;
  }
  const decided = runtime.replicas.mark(runtime.redis, runtime.queueConnection);
  const result = await runtime.ledger.decide(ledgerRequest);

  if (result.held) {
    // at once, not at the end of the job: the original may resume it any moment, and its
    // `processed` must not be overwritten by this `held`
    await runtime.traces.write([
      ...pending.splice(0),
      runtime.traces.appendCommand(trackingNo, 'held', { waitingFor: request.replaces }),
      runtime.messages.stateCommand(partner, trackingNo, 'held'),
    ]);
    const delay = runtime.config.intake.heldOriginalTimeoutHours * 3600 * 1000;
    await runtime.inboundQueue.add(
      'held-timeout',
      { partner, trackingNo, requestId: request.requestId, replaces: request.replaces ?? '' },
      // one timeout per processing job: a replay that is held again is watched again
      { ...INBOUND_JOB_OPTIONS, jobId: jobId(processJobId, 'held-timeout'), delay },
    );
    log.info('held until its original arrives', { replaces: request.replaces });
    return 'held';
  }

  const { decision } = result;
  log.info('ledger decided', { requestId: decision.requestId, kind: decision.kind, outcome: decision.outcome, reason: decision.reason, room: decision.roomId });
  if (decision.outcome === 'held' && decision.holdUntil !== undefined) {
    await runtime.inboundQueue.add(
      'hold-expiry',
      { partner, trackingNo, requestId: decision.requestId, offerId: decision.offerId },
      { ...INBOUND_JOB_OPTIONS, jobId: jobId('expiry', partner, decision.requestId, decision.offerId), delay: Math.max(0, decision.holdUntil - runtime.clock.now()) },
    );
  }
  pending.push(runtime.traces.appendCommand(trackingNo, 'decision', { ...decision, repeated: result.alreadyDecided }));
  // before the partner hears the refusal: its next change or cancel of that request must not be a conflict
  if (decision.outcome === 'rejected' && request.replaces !== undefined && (await runtime.messages.releaseClaim(partner, request.replaces, request.requestId))) {
    pending.push(runtime.traces.appendCommand(trackingNo, 'claim-released', { replaces: request.replaces }));
  }
  // a room promised and then lost in a failover would be given twice
  await runtime.replicas.confirm(decided);
  await answerDecision(runtime, send, partner, decision, trackingNo, undefined, pending);
  for (const waiting of result.resume) {
    await runtime.inboundQueue.add('process', { partner, trackingNo: waiting }, { ...INBOUND_JOB_OPTIONS, jobId: jobId(waiting, 'after', decision.requestId) });
    await runtime.traces.append(waiting, 'resumed', { after: decision.requestId });
    await runtime.ledger.resumed(partner, decision.requestId, waiting);
  }
  // also when already decided: the run that decided may have failed before it got here (the publish is deduplicated)
  if (changesOccupancy(decision)) await scheduleAvailabilityPublish(runtime, `${decision.kind} ${decision.requestId}`);
  return 'handled';
}

function changesOccupancy(decision: LedgerDecision): boolean {
  return decision.outcome !== 'rejected' && decision.outcome !== 'unchanged' && decision.kind !== 'confirm';
}

/** Tells the partner what the ledger decided, when the partner's contract has an answer for it. */
async function answerDecision(
  runtime: Runtime,
  send: SendToPartner,
  partner: PartnerId,
  decision: LedgerDecision,
  trackingNo: string,
  resendJobId?: string,
  pending?: PendingWrites,
): Promise<void> {
  if (decision.outcome === 'unchanged') return;
  const canonical: BookingDecision = {
    requestId: decision.requestId,
    kind: decision.kind,
    outcome: decision.outcome,
    reason: decision.reason,
    roomId: decision.roomId,
    roomAddress: runtime.ledger.room(decision.roomId)?.address ?? '',
    seatIds: decision.seatIds,
    decidedAt: decision.decidedAt,
    ...(decision.offerId ? { offerId: decision.offerId } : {}),
    ...(decision.holdUntil === undefined ? {} : { holdExpiresAt: new Date(decision.holdUntil).toISOString() }),
  };
  const checked = validateBookingDecision(canonical);
  if (!checked.ok) throw new GatewayError('CANONICAL_INVALID', JSON.stringify(checked.violations));
  const message = runtime.adapters[partner].encodeDecision(checked.value, decision.notifyId);
  if (!message) return;
  await send(message, trackingNo, resendJobId, pending);
}

/** A change held too long for its original: to the operators. */
export async function expireHeld(runtime: Runtime, data: InboundJobs['held-timeout']): Promise<void> {
  const state = await runtime.messages.state(data.partner, data.trackingNo);
  if (state !== 'held') return;
  const letter = await runtime.deadLetters.add({
    queue: runtime.inboundQueue.name,
    jobName: 'process',
    jobId: data.trackingNo,
    data: { partner: data.partner, trackingNo: data.trackingNo },
    partner: data.partner,
    trackingNo: data.trackingNo,
    reason: `ORIGINAL_NOT_RECEIVED: ${data.replaces} did not arrive within ${runtime.config.intake.heldOriginalTimeoutHours} h`,
    attempts: 0,
  });
  await runtime.traces.append(data.trackingNo, 'held-too-long', { deadLetter: letter.id, waitingFor: data.replaces });
  runtime.logger.warn('held message handed to operators', { correlationId: data.trackingNo, waitingFor: data.replaces });
}

/** The delayed job of an offer: unconfirmed by now, the hold is released and the partner told. */
export async function expireHold(runtime: Runtime, send: SendToPartner, data: InboundJobs['hold-expiry']): Promise<void> {
  const now = runtime.clock.now();
  const decided = runtime.replicas.mark(runtime.redis);
  const result = await runtime.ledger.decide({
    op: 'expire',
    partner: data.partner,
    id: data.requestId,
    offerId: data.offerId,
    now,
    notifyId: runtime.adapters[data.partner].messageIdFor(`expiry:${data.offerId}`),
    trackingNo: data.trackingNo,
    decidedAt: new Date(now).toISOString(),
  });
  if (result.held) return;
  if (result.decision.outcome === 'unchanged') {
    const hold = await runtime.ledger.lookup(data.partner, data.requestId);
    // this clock is behind the one that set the hold: try again shortly rather than leave it held
    if (hold?.state === 'held' && hold.offerId === data.offerId) throw new GatewayError('INTERNAL', 'hold not yet due on this clock');
  }
  await runtime.traces.append(data.trackingNo, 'hold-expiry', { outcome: result.decision.outcome, offerId: data.offerId });
  if (result.decision.outcome !== 'released') return;
  runtime.logger.info('hold expired', { correlationId: data.trackingNo, requestId: data.requestId, offerId: data.offerId });
  await runtime.replicas.confirm(decided);
  await answerDecision(runtime, send, data.partner, result.decision, data.trackingNo);
  await scheduleAvailabilityPublish(runtime, `expiry ${data.requestId}`);
}

/** Holds whose expiry job went missing (say, removed from the queue board) are released here. */
export async function sweepLapsedHolds(runtime: Runtime): Promise<{ swept: number }> {
  const lapsed = await runtime.ledger.lapsedHolds(runtime.clock.now());
  for (const hold of lapsed) {
    runtime.logger.warn('hold lapsed without its expiry job: releasing it now', { correlationId: hold.trackingNo, requestId: hold.requestId });
    await expireHold(runtime, queuedSend(runtime), { partner: hold.partner as PartnerId, trackingNo: hold.trackingNo, requestId: hold.requestId, offerId: hold.offerId });
  }
  return { swept: lapsed.length };
}
