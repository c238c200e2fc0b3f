import type { PartnerId } from '../adapters/types.ts';
import { INBOUND_JOB_OPTIONS } from '../queues/catalog.ts';
import type { Runtime } from './runtime.ts';

/** At most this many records are queued again per partner and sweep: the next sweep takes the rest. */
const SWEEP_LIMIT = 1000;

/**
 * "Every accepted message ends delivered or in the dead letters" must hold
 * whatever was done to the queues: an inbound job removed from the queue
 * board (or lost with its Redis keys) would leave its record `received` for
 * ever, and the partner, answered 200, never sends it again. A record still
 * `received` well after intake whose job is gone is queued again, under the
 * job id the intake gives it, so that a job that does exist is never doubled.
 */
export async function requeueStranded(runtime: Runtime): Promise<{ checked: number; requeued: number }> {
  const { strandedAfterMinutes, strandedLookbackHours } = runtime.config.periodic;
  const now = runtime.clock.now();
  let checked = 0;
  let requeued = 0;
  for (const partner of Object.keys(runtime.adapters) as PartnerId[]) {
    const candidates = await runtime.messages.stillReceived(partner, now - strandedLookbackHours * 3_600_000, now - strandedAfterMinutes * 60_000, SWEEP_LIMIT);
    checked += candidates.length;
    for (const trackingNo of candidates) {
      // waiting, delayed (a retry), active, failed (dead-lettered) or completed: not lost
      if ((await runtime.inboundQueue.getJobState(trackingNo)) !== 'unknown') continue;
      // its job may have finished (and been removed) between the two reads
      if ((await runtime.messages.state(partner, trackingNo)) !== 'received') continue;
      await runtime.inboundQueue.add('process', { partner, trackingNo }, { ...INBOUND_JOB_OPTIONS, jobId: trackingNo });
      await runtime.traces.append(trackingNo, 'requeued-stranded', { strandedAfterMinutes });
      runtime.logger.warn('accepted message had lost its job: queued again', { correlationId: trackingNo, partner });
      requeued += 1;
    }
  }
  await runtime.strandedSweeps.record(requeued);
  if (requeued > 0) runtime.logger.warn('stranded sweep queued messages again', { checked, requeued });
  return { checked, requeued };
}
