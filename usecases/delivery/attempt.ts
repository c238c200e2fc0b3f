import { BrokenCircuitError, ConsecutiveBreaker, circuitBreaker, handleWhen, type CircuitBreakerPolicy } from 'cockatiel';
import type { DeliveryOptions, DeliveryResult, PartnerId } from '../../adapters/types.ts';
import { GatewayError } from '../../kernel/errors.ts';
import type { OutboundJobs } from '../../queues/catalog.ts';
import type { Runtime } from '../runtime.ts';

export type DeliverJob = OutboundJobs['deliver'];
/** retryAfterAskedMs: what the partner's Retry-After asked for, when longer than the backoff maximum it was cut to */
export type AttemptOutcome = DeliveryResult | { kind: 'circuit-open' } | (Extract<DeliveryResult, { kind: 'retry' }> & { retryAfterAskedMs?: number });

/** When each breaker last opened, by the wall clock cockatiel measures its pause with. */
const openedAt = new WeakMap<CircuitBreakerPolicy, number>();

/** One breaker per partner and process: a partner that keeps failing is left alone for a while. */
export function createBreaker(runtime: Runtime, partner: PartnerId): CircuitBreakerPolicy {
  const delivery = runtime.config.partners[partner].delivery;
  const breaker = circuitBreaker(
    handleWhen((error) => error instanceof GatewayError && error.code === 'DELIVERY_RETRYABLE'),
    { halfOpenAfter: delivery.breakerHalfOpenAfterMs, breaker: new ConsecutiveBreaker(delivery.breakerFailures) },
  );
  breaker.onBreak(() => {
    openedAt.set(breaker, Date.now());
    runtime.logger.warn('circuit opened', { partner });
  });
  breaker.onReset(() => runtime.logger.info('circuit closed', { partner }));
  return breaker;
}

/**
 * When an open breaker lets its next trial call through (wall clock: cockatiel
 * and BullMQ's delays both run on it), for a job to wait until then instead
 * of spending an attempt on a call that would not be made.
 */
export function circuitTrialAt(breaker: CircuitBreakerPolicy, delivery: { breakerHalfOpenAfterMs: number }): number {
  return (openedAt.get(breaker) ?? Date.now()) + delivery.breakerHalfOpenAfterMs;
}

/**
 * One attempt at a partner through its circuit breaker, counted. A retryable
 * answer counts as a failure for the breaker; a refusal does not (the partner
 * is up, the message is wrong).
 */
export async function attemptDelivery(runtime: Runtime, breaker: CircuitBreakerPolicy, data: DeliverJob, options?: DeliveryOptions): Promise<AttemptOutcome> {
  let result: DeliveryResult | undefined;
  let latencyMs: number | undefined;
  try {
    await breaker.execute(async () => {
      const started = runtime.clock.now();
      result = await runtime.adapters[data.partner].deliver({ partner: data.partner, operation: data.operation, messageId: data.messageId, body: data.body }, options);
      latencyMs = runtime.clock.now() - started;
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
  runtime.telemetry.delivered(data.partner, result.kind, latencyMs);
  return clampRetryAfter(runtime, data, result);
}

/**
 * A partner's Retry-After is honoured up to the backoff maximum: a longer one
 * (a year, by mistake or not) would park the message where nobody looks.
 * Each cut is counted, so that a partner asking for it shows.
 */
function clampRetryAfter(runtime: Runtime, data: DeliverJob, result: DeliveryResult): AttemptOutcome {
  const maxMs = runtime.config.partners[data.partner].delivery.backoffMaxMs;
  if (result.kind !== 'retry' || result.retryAfterMs === undefined || result.retryAfterMs <= maxMs) return result;
  runtime.telemetry.retryAfterClamped(data.partner);
  runtime.logger.warn('partner asked to wait longer than the backoff maximum: waiting the maximum', { correlationId: data.trackingNo, partner: data.partner, retryAfterMs: result.retryAfterMs, maxMs });
  return { ...result, retryAfterMs: maxMs, retryAfterAskedMs: result.retryAfterMs };
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
 * attempt that did not deliver throws the catalog error that decides the
 * retry. An open circuit makes no call: that is no attempt, and the job is
 * told so (`circuit-open`) to wait for the circuit without spending one.
 */
export async function deliverQueued(runtime: Runtime, breaker: CircuitBreakerPolicy, data: DeliverJob, attempt: number): Promise<{ kind: 'delivered'; answer: unknown } | { kind: 'circuit-open' }> {
  const { partner, trackingNo, messageId, operation } = data;
  const outcome = await attemptDelivery(runtime, breaker, data);
  if (outcome.kind === 'circuit-open') return outcome;
  await runtime.traces.append(trackingNo, 'delivery-attempt', { attempt, messageId, ...outcome });
  if (outcome.kind !== 'delivered') throw deliveryFailure(runtime, partner, outcome);
  runtime.logger.info('delivered', { correlationId: trackingNo, partner, operation, messageId, attempt });
  return { kind: 'delivered', answer: outcome.answer };
}
