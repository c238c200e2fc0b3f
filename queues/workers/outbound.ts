import type { Job } from 'bullmq';
import { BrokenCircuitError, ConsecutiveBreaker, circuitBreaker, handleWhen, type CircuitBreakerPolicy } from 'cockatiel';
import type { PartnerId } from '../../adapters/types.ts';
import type { Runtime } from '../../gateway/core/runtime.ts';
import { GatewayError } from '../../gateway/errors.ts';
import { countDelivery } from '../../gateway/ops/metrics.ts';
import { recordDelivery, type DeliveryOutcome } from '../../gateway/ops/stats.ts';
import type { OutboundJobs } from '../catalog.ts';
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

/** Counts an attempt's outcome for /metrics and the dashboard; never fails the job. */
function countOutcome(runtime: Runtime, partner: PartnerId, outcome: DeliveryOutcome): void {
  countDelivery(runtime, partner, outcome);
  recordDelivery(runtime, { partner, outcome });
}

export async function processOutboundJob(
  runtime: Runtime,
  breakers: Record<PartnerId, CircuitBreakerPolicy>,
  job: Job<OutboundJobs['deliver']>,
): Promise<void> {
  const { partner, trackingNo } = job.data;
  await withDeadLetters(runtime, job, { partner, trackingNo }, async () => {
    const adapter = runtime.adapters[partner];
    const attempt = job.attemptsMade + 1;
    try {
      await breakers[partner].execute(async () => {
        const result = await adapter.deliver({ partner, operation: job.data.operation, messageId: job.data.messageId, body: job.data.body });
        countOutcome(runtime, partner, result.kind);
        await runtime.traces.append(trackingNo, 'delivery-attempt', { attempt, messageId: job.data.messageId, ...result });
        switch (result.kind) {
          case 'delivered':
            runtime.logger.info('delivered', { correlationId: trackingNo, partner, operation: job.data.operation, messageId: job.data.messageId, attempt });
            return;
          case 'retry':
            throw new GatewayError('DELIVERY_RETRYABLE', result.reason, result.retryAfterMs === undefined ? {} : { retryAfterMs: result.retryAfterMs });
          case 'refused':
            throw new GatewayError('DELIVERY_REFUSED', result.reason);
        }
      });
    } catch (error) {
      if (error instanceof BrokenCircuitError) {
        countOutcome(runtime, partner, 'circuit-open');
        await runtime.traces.append(trackingNo, 'delivery-attempt', { attempt, messageId: job.data.messageId, kind: 'circuit-open' });
        throw new GatewayError('CIRCUIT_OPEN', undefined, { retryAfterMs: runtime.config.partners[partner].delivery.breakerHalfOpenAfterMs });
      }
      throw error;
    }
  });
}
