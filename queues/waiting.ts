import type { Job, Queue } from 'bullmq';
import { firstAttemptAt } from './catalog.ts';

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

/** Job states of an answer neither delivered nor handed to operators yet. */
export const UNDELIVERED_STATES = ['waiting', 'active', 'delayed', 'prioritized'] as const;

export interface WaitingAnswers {
  count: number;
  /** when the oldest of them was first tried or queued (the gateway's clock), null when none waits */
  oldestSince: number | null;
  /** more wait than were read: the oldest is the oldest of those read */
  capped: boolean;
}

/**
 * The answers an outbound queue still holds, and since when the oldest has
 * waited. Delayed jobs are ordered by their next try, not their age, so the
 * oldest is found by reading them, up to `scan` per state.
 */
export async function waitingAnswers(queue: Queue, scan: number): Promise<WaitingAnswers> {
  const [counts, jobs] = await Promise.all([queue.getJobCounts(...UNDELIVERED_STATES), queue.getJobs([...UNDELIVERED_STATES], 0, scan - 1)]);
  const count = UNDELIVERED_STATES.reduce((sum, state) => sum + (counts[state] ?? 0), 0);
  let oldestSince: number | null = null;
  // a job removed between the two reads comes back empty
  for (const job of jobs as (Job | undefined)[]) {
    if (job === undefined) continue;
    const since = firstAttemptAt(job);
    if (since !== undefined && (oldestSince === null || since < oldestSince)) oldestSince = since;
  }
  return { count, oldestSince, capped: count > jobs.length };
}
