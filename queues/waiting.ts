import type { Job } from 'bullmq';

/**
 * When a job now waiting became ready: a retried job has waited since its last
 * attempt's backoff ran out (approximately: the attempt's start plus the
 * backoff), a delayed one since its delay ran out, any other since it was added.
 * BullMQ stamps jobs with the wall clock of the process that touched them.
 */
export function waitingSince(job: Job): number {
  const delay = job.delay ?? 0;
  if (job.attemptsMade > 0 && job.processedOn) return job.processedOn + delay;
  return job.timestamp + delay;
}
