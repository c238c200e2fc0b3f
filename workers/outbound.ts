import type { Job } from 'bullmq';
import type { CircuitBreakerPolicy } from 'cockatiel';
import type { PartnerId } from '../adapters/types.ts';
import type { OutboundJobs } from '../queues/catalog.ts';
import { deliverQueued } from '../usecases/delivery/attempt.ts';
import type { Runtime } from '../usecases/runtime.ts';
import { withDeadLetters } from './dead-letters.ts';

export async function processOutboundJob(runtime: Runtime, breakers: Record<PartnerId, CircuitBreakerPolicy>, job: Job<OutboundJobs['deliver']>): Promise<void> {
  const { partner, trackingNo } = job.data;
  // a worker may have made the first attempt directly (usecases/delivery/direct.ts)
  const priorAttempts = job.data.attemptsBefore ?? 0;
  await withDeadLetters(runtime, job, { partner, trackingNo, priorAttempts }, () => deliverQueued(runtime, breakers[partner], job.data, priorAttempts + job.attemptsMade + 1));
}
