import type { Job } from 'bullmq';
import type { PartnerId } from '../adapters/types.ts';
import type { Runtime } from '../server/runtime.ts';
import type { PeriodicJobs } from '../queues/catalog.ts';
import { pollAvailability, publishAvailability } from '../usecases/availability.ts';
import { queuedSend } from '../usecases/delivery/send.ts';
import { expireHold } from '../usecases/decisions.ts';
import { reconcile } from '../usecases/reconciliation.ts';
import { purgeExpired } from '../usecases/retention.ts';

/** The scheduler's jobs: each tick is one job, whichever scheduler enqueued it. */
export async function processPeriodicJob(runtime: Runtime, job: Job): Promise<unknown> {
  const name = job.name as keyof PeriodicJobs;
  switch (name) {
    case 'availability-poll':
      return pollAvailability(runtime, (job.data as PeriodicJobs['availability-poll']).partner);
    case 'availability-publish':
      return publishAvailability(runtime, job.id ?? String(job.timestamp));
    case 'hold-sweep':
      return sweepHolds(runtime);
    case 'reconciliation':
      return reconcile(runtime, job.id ?? String(job.timestamp), (job.data as PeriodicJobs['reconciliation']).reason);
    case 'retention':
      return purgeExpired(runtime);
  }
  throw new Error(`periodic job ${job.name} has no handler`);
}

async function sweepHolds(runtime: Runtime): Promise<{ swept: number }> {
  const lapsed = await runtime.ledger.lapsedHolds(runtime.clock.now());
  for (const hold of lapsed) {
    runtime.logger.warn('hold lapsed without its expiry job: releasing it now', { correlationId: hold.trackingNo, requestId: hold.requestId });
    await expireHold(runtime, queuedSend(runtime), { partner: hold.partner as PartnerId, trackingNo: hold.trackingNo, requestId: hold.requestId, offerId: hold.offerId });
  }
  return { swept: lapsed.length };
}
