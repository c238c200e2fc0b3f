import type { PartnerId } from '../adapters/types.ts';
import { GatewayError } from '../kernel/errors.ts';
import type { BookingRequest } from '../schemas/types.generated.ts';
import { scheduleAvailabilityPublish } from './availability.ts';
import type { PendingWrites } from './pending-writes.ts';
import type { Runtime } from './runtime.ts';

/**
 * Zhuzhou as guest: the host's report on the evaluation of a request Zhuzhou
 * holds (Changsha's `session.status`) is recorded with the booking, and `ended`
 * frees its room early. Nothing is answered: the partner heard 202 at intake.
 */
export async function recordLifecycle(runtime: Runtime, partner: PartnerId, event: BookingRequest, pending: PendingWrites): Promise<void> {
  const report = event.lifecycle;
  if (!report) throw new GatewayError('CANONICAL_INVALID', 'a lifecycle report without its status');
  const log = runtime.logger.child({ correlationId: event.trackingNo, partner });
  const result = await runtime.ledger.recordLifecycle({
    partner,
    id: event.requestId,
    status: report.status,
    at: Date.parse(report.at),
    ...(report.reason === undefined ? {} : { reason: report.reason }),
    trackingNo: event.trackingNo,
  });
  const freed = report.status === 'ended' && result.bookedEnd !== undefined && result.end !== undefined;
  const detail = {
    requestId: event.requestId,
    status: report.status,
    at: report.at,
    outcome: result.outcome,
    ...(result.status === undefined ? {} : { current: result.status }),
    ...(freed && result.end !== undefined ? { occupiedUntil: new Date(result.end).toISOString(), freeFrom: new Date(result.end + runtime.config.ledger.bufferMinutes * 60_000).toISOString() } : {}),
  };
  pending.push(runtime.traces.appendCommand(event.trackingNo, 'lifecycle', detail));
  if (result.outcome === 'not-in-force') {
    // in force when intake checked it, released since: the report has nothing left to describe
    log.warn('lifecycle report for a request no longer in force: not recorded', { requestId: event.requestId, status: report.status });
    return;
  }
  // an operator opening the booking on the room board sees its lifecycle in the trace of the message that booked it
  const booked = await runtime.ledger.lookup(partner, event.requestId);
  if (result.outcome === 'recorded' && booked?.trackingNo && booked.trackingNo !== event.trackingNo) {
    pending.push(runtime.traces.appendCommand(booked.trackingNo, 'lifecycle', { ...detail, reportedIn: event.trackingNo }));
  }
  log.info('lifecycle recorded', { requestId: event.requestId, status: report.status, current: result.status, outcome: result.outcome });
  if (freed) await scheduleAvailabilityPublish(runtime, `ended ${event.requestId}`);
}
