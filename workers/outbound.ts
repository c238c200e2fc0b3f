import type { Job } from 'bullmq';
import { ConsecutiveBreaker, circuitBreaker, handleWhen, type CircuitBreakerPolicy } from 'cockatiel';
import type { PartnerId } from '../adapters/types.ts';
import type { Runtime } from '../server/runtime.ts';
import { GatewayError } from '../kernel/errors.ts';
import type { OutboundJobs } from '../queues/catalog.ts';
import { attemptDelivery, deliveryFailure } from '../usecases/delivery/direct.ts';
import { withDeadLetters } from './failure.ts';

/** One breaker per partner and process: a partner that keeps failing is left alone for a while. */
export function createBreaker(runtime: Runtime, partner: PartnerId): CircuitBreakerPolicy {
  const delivery = runtime.config.partners[partner].delivery;
  const breaker = circuitBreaker(
    handleWhen((error) => error instanceof GatewayError && error.code === 'DELIVERY_RETRYABLE'),
    { halfOpenAfter: delivery.breakerHalfOpenAfterMs, breaker: new ConsecutiveBreaker(delivery.breakerFailures) },
  );
  breaker.onBreak(() => runtime.logger.warn('circuit opened', { partner }));
  breaker.onReset(() => runtime.logger.info('circuit closed', { partner }));
  return breaker;
}

export async function processOutboundJob(
  runtime: Runtime,
  breakers: Record<PartnerId, CircuitBreakerPolicy>,
  job: Job<OutboundJobs['deliver']>,
): Promise<void> {
  const { partner, trackingNo, messageId, operation } = job.data;
  // a worker may have made the first attempt directly (queues/deliveries.ts)
  const priorAttempts = job.data.attemptsBefore ?? 0;
  await withDeadLetters(runtime, job, { partner, trackingNo, priorAttempts }, async () => {
    const attempt = priorAttempts + job.attemptsMade + 1;
    const outcome = await attemptDelivery(runtime, breakers[partner], job.data);
    await runtime.traces.append(trackingNo, 'delivery-attempt', { attempt, messageId, ...outcome });
    if (outcome.kind !== 'delivered') throw deliveryFailure(runtime, partner, outcome);
    runtime.logger.info('delivered', { correlationId: trackingNo, partner, operation, messageId, attempt });
  });
}
