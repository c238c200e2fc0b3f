import type { Job } from 'bullmq';
import type { Runtime } from '../usecases/runtime.ts';
import type { PeriodicJobs } from '../queues/catalog.ts';
import { pollAvailability, publishAvailability } from '../usecases/availability.ts';
import { sweepLapsedHolds } from '../usecases/decisions.ts';
import { reconcile } from '../usecases/reconciliation.ts';
import { purgeExpired } from '../usecases/retention.ts';
import { requeueStranded } from '../usecases/stranded.ts';
import { sweepHostEvaluations } from '../usecases/hosting/flow.ts';

/** The scheduler's jobs: each tick is one job, whichever scheduler enqueued it. */
export async function processPeriodicJob(runtime: Runtime, job: Job): Promise<unknown> {
  const name = job.name as keyof PeriodicJobs;
  switch (name) {
    case 'availability-poll':
      return pollAvailability(runtime, (job.data as PeriodicJobs['availability-poll']).partner);
    case 'availability-publish':
      return publishAvailability(runtime, job.id ?? String(job.timestamp));
    case 'hold-sweep':
      return sweepLapsedHolds(runtime);
    case 'host-sweep':
      return sweepHostEvaluations(runtime);
    case 'stranded-sweep':
      return requeueStranded(runtime);
    case 'reconciliation':
      return reconcile(runtime, job.id ?? String(job.timestamp), (job.data as PeriodicJobs['reconciliation']).reason);
    case 'retention':
      return purgeExpired(runtime);
  }
  throw new Error(`periodic job ${job.name} has no handler`);
}
