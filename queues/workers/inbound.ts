import type { Job } from 'bullmq';
import type { PartnerId } from '../../adapters/types.ts';
import { beijingDate } from '../../gateway/core/beijing-time.ts';
import type { Runtime } from '../../gateway/core/runtime.ts';
import { GatewayError } from '../../gateway/errors.ts';
import type { LedgerDecision } from '../../ledger/index.ts';
import { validatorFor } from '../../schemas/registry.ts';
import type { BookingDecision, BookingRequest } from '../../schemas/types.generated.ts';
import { INBOUND_JOB_OPTIONS, outboundJobOptions, type InboundJobs } from '../catalog.ts';
import { jobId } from '../names.ts';
import { withDeadLetters } from './failure.ts';

const validateBookingRequest = validatorFor<BookingRequest>('canonical/booking-request.json');
const validateBookingDecision = validatorFor<BookingDecision>('canonical/booking-decision.json');

type InboundJob = { [Name in keyof InboundJobs]: Job<InboundJobs[Name], void, Name> }[keyof InboundJobs];

export async function processInboundJob(runtime: Runtime, job: InboundJob): Promise<void> {
  await withDeadLetters(runtime, job, job.data, async () => {
    switch (job.name) {
      case 'process':
        return processMessage(runtime, job.data, job.id ?? job.data.trackingNo);
      case 'held-timeout':
        return expireHeld(runtime, job.data);
    }
  });
}

async function loadCanonical(runtime: Runtime, partner: PartnerId, trackingNo: string): Promise<BookingRequest> {
  const record = await runtime.redis.hgetall(runtime.keys.intake(partner).record(trackingNo));
  if (record['body'] === undefined || record['operation'] === undefined) throw new GatewayError('RECORD_MISSING', `no record ${trackingNo}`);
  const body = JSON.parse(runtime.cipher.decrypt(record['body'])) as unknown;
  const canonical = runtime.adapters[partner].decode(record['operation'], body, { trackingNo, receivedAt: Number(record['receivedAt']) });
  const checked = validateBookingRequest(canonical);
  if (!checked.ok) throw new GatewayError('CANONICAL_INVALID', JSON.stringify(checked.violations));
  return checked.value;
}

async function setState(runtime: Runtime, partner: PartnerId, trackingNo: string, state: string): Promise<void> {
  await runtime.redis.hset(runtime.keys.intake(partner).record(trackingNo), 'state', state);
}

async function processMessage(runtime: Runtime, { partner, trackingNo }: InboundJobs['process'], processJobId: string): Promise<void> {
  const log = runtime.logger.child({ correlationId: trackingNo, partner });
  const request = await loadCanonical(runtime, partner, trackingNo);
  await runtime.traces.append(trackingNo, 'canonical', { event: request });

  if (request.kind === 'query') {
    const decision = await runtime.ledger.lookup(partner, request.requestId);
    if (decision) {
      await sendDecision(runtime, partner, decision, trackingNo, trackingNo);
      await runtime.traces.append(trackingNo, 'notify-resent', { requestId: request.requestId, messageId: decision.notifyId });
    } else {
      // not decided yet: its notify goes out when it is
      await runtime.traces.append(trackingNo, 'query-before-decision', { requestId: request.requestId });
    }
    await setState(runtime, partner, trackingNo, 'processed');
    return;
  }

  const booking = request.booking;
  const start = booking ? Date.parse(booking.start) : undefined;
  const end = booking ? Date.parse(booking.end) : undefined;
  let closed = false;
  if (start !== undefined) {
    const day = beijingDate(start);
    closed = runtime.calendar.isClosed(day);
    if (!runtime.calendar.isPublished(Number(day.slice(0, 4)))) {
      log.warn('no official holiday notice for this year: deciding on Monday to Friday', { day });
      await runtime.traces.append(trackingNo, 'calendar-provisional', { day });
    }
  }
  const result = await runtime.ledger.decide({
    op: request.kind,
    partner,
    id: request.requestId,
    ...(request.replaces === undefined ? {} : { replaces: request.replaces }),
    ...(start === undefined ? {} : { start }),
    ...(end === undefined ? {} : { end }),
    ...(booking === undefined ? {} : { seats: booking.seats }),
    closed,
    notifyId: runtime.adapters[partner].newMessageId(),
    trackingNo,
    decidedAt: new Date(runtime.clock.now()).toISOString(),
  });

  if (result.held) {
    await runtime.traces.append(trackingNo, 'held', { waitingFor: request.replaces });
    await setState(runtime, partner, trackingNo, 'held');
    const delay = runtime.config.intake.heldOriginalTimeoutHours * 3600 * 1000;
    await runtime.inboundQueue.add(
      'held-timeout',
      { partner, trackingNo, requestId: request.requestId, replaces: request.replaces ?? '' },
      // one timeout per processing job: a replay that is held again is watched again
      { ...INBOUND_JOB_OPTIONS, jobId: jobId(processJobId, 'held-timeout'), delay },
    );
    log.info('held until its original arrives', { replaces: request.replaces });
    return;
  }

  const { decision } = result;
  await runtime.traces.append(trackingNo, 'decision', { ...decision, repeated: result.alreadyDecided });
  log.info('ledger decided', { requestId: decision.requestId, outcome: decision.outcome, reason: decision.reason, room: decision.roomId });
  await sendDecision(runtime, partner, decision, trackingNo);
  for (const waiting of result.resume) {
    await runtime.inboundQueue.add('process', { partner, trackingNo: waiting }, { ...INBOUND_JOB_OPTIONS, jobId: jobId(waiting, 'after', decision.requestId) });
    await runtime.traces.append(waiting, 'resumed', { after: decision.requestId });
    await runtime.ledger.resumed(partner, decision.requestId, waiting);
  }
  await setState(runtime, partner, trackingNo, 'processed');
}

/** Queues the partner's answer. The job id is the message id, so a re-run never queues it twice. */
async function sendDecision(runtime: Runtime, partner: PartnerId, decision: LedgerDecision, trackingNo: string, resendFor?: string): Promise<void> {
  const canonical: BookingDecision = {
    requestId: decision.requestId,
    kind: decision.kind,
    outcome: decision.outcome,
    reason: decision.reason,
    roomId: decision.roomId,
    roomAddress: runtime.ledger.room(decision.roomId)?.address ?? '',
    seatIds: decision.seatIds,
    decidedAt: decision.decidedAt,
  };
  const checked = validateBookingDecision(canonical);
  if (!checked.ok) throw new GatewayError('CANONICAL_INVALID', JSON.stringify(checked.violations));
  const adapter = runtime.adapters[partner];
  const message = adapter.encodeDecision(checked.value, decision.notifyId);
  const id = resendFor === undefined ? message.messageId : jobId(message.messageId, 'resend', resendFor);
  await runtime.outboundQueues[partner].add(
    'deliver',
    { partner, operation: message.operation, messageId: message.messageId, body: message.body, trackingNo },
    { ...outboundJobOptions(runtime.config.partners[partner].delivery), jobId: id },
  );
  await runtime.traces.index(trackingNo, { messageId: message.messageId });
  await runtime.traces.append(trackingNo, 'answer-queued', { operation: message.operation, messageId: message.messageId, body: message.body });
}

async function expireHeld(runtime: Runtime, data: InboundJobs['held-timeout']): Promise<void> {
  const state = await runtime.redis.hget(runtime.keys.intake(data.partner).record(data.trackingNo), 'state');
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
