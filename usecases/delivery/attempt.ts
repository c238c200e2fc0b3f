import { BrokenCircuitError, ConsecutiveBreaker, circuitBreaker, handleWhen, type CircuitBreakerPolicy } from 'cockatiel';
import type { DeliveryOptions, DeliveryResult, PartnerId } from '../../adapters/types.ts';
import { GatewayError } from '../../kernel/errors.ts';
import type { OutboundJobs } from '../../queues/catalog.ts';
import type { Runtime } from '../runtime.ts';

export type DeliverJob = OutboundJobs['deliver'];
export type AttemptOutcome = DeliveryResult | { kind: 'circuit-open' };

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

/**
 * One attempt at a partner through its circuit breaker, counted. A retryable
 * answer counts as a failure for the breaker; a refusal does not (the partner
 * is up, the message is wrong).
 */
export async function attemptDelivery(runtime: Runtime, breaker: CircuitBreakerPolicy, data: DeliverJob, options?: DeliveryOptions): Promise<AttemptOutcome> {
  let result: DeliveryResult | undefined;
  try {
    await breaker.execute(async () => {
      result = await runtime.adapters[data.partner].deliver({ partner: data.partner, operation: data.operation, messageId: data.messageId, body: data.body }, options);
      if (result.kind === 'retry') throw new GatewayError('DELIVERY_RETRYABLE', result.reason);
    });
  } catch (error) {
    if (error instanceof BrokenCircuitError) {
      runtime.telemetry.delivered(data.partner, 'circuit-open');
      return { kind: 'circuit-open' };
    }
    if (result === undefined) throw error;
  }
  if (result === undefined) throw new GatewayError('INTERNAL', 'delivery attempt without an outcome');
  runtime.telemetry.delivered(data.partner, result.kind);
  return result;
}

/** What an attempt that did not deliver means for its job: the catalog error that decides the retry. */
export function deliveryFailure(runtime: Runtime, partner: PartnerId, outcome: Exclude<AttemptOutcome, { kind: 'delivered' }>): GatewayError {
  switch (outcome.kind) {
    case 'retry':
      return new GatewayError('DELIVERY_RETRYABLE', outcome.reason, outcome.retryAfterMs === undefined ? {} : { retryAfterMs: outcome.retryAfterMs });
    case 'refused':
      return new GatewayError('DELIVERY_REFUSED', outcome.reason);
    case 'circuit-open':
      return new GatewayError('CIRCUIT_OPEN', undefined, { retryAfterMs: runtime.config.partners[partner].delivery.breakerHalfOpenAfterMs });
  }
}

/**
 * One attempt of a queued delivery (the outbound worker's job), traced; an
 * attempt that did not deliver throws the catalog error that decides the retry.
 */
export async function deliverQueued(runtime: Runtime, breaker: CircuitBreakerPolicy, data: DeliverJob, attempt: number): Promise<void> {
  const { partner, trackingNo, messageId, operation } = data;
  const outcome = await attemptDelivery(runtime, breaker, data);
  await runtime.traces.append(trackingNo, 'delivery-attempt', { attempt, messageId, ...outcome });
  if (outcome.kind !== 'delivered') throw deliveryFailure(runtime, partner, outcome);
  runtime.logger.info('delivered', { correlationId: trackingNo, partner, operation, messageId, attempt });
}
