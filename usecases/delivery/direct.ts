import { performance } from 'node:perf_hooks';
import { CircuitState, type CircuitBreakerPolicy } from 'cockatiel';
import type { OutboundMessage, PartnerId } from '../../adapters/types.ts';
import type { GatewayError } from '../../kernel/errors.ts';
import type { RedisCommand } from '../../kernel/redis/client.ts';
import { outboundJobOptions } from '../../queues/catalog.ts';
import { handToOperators } from '../hand-to-operators.ts';
import { writeOrKeep, type PendingWrites } from '../pending-writes.ts';
import type { Runtime } from '../runtime.ts';
import { attemptDelivery, deliveryFailure, type AttemptOutcome, type DeliverJob } from './attempt.ts';
import { partnerBackoff, retryDeadline, retryHorizonMs } from './backoff.ts';
import { enqueueDelivery } from './queue.ts';

/**
 * A worker's answers to partners, first attempt at once. Queueing every answer
 * cost each message a second job (an add, a fetch and a finish: about 160 µs of
 * Redis and as much again in the worker, bench/README.md), which kept end to
 * end latency from holding at 1,000 messages a second on two cores. The
 * outbound queue stays the path of every retry, of messages to a partner that
 * is failing or slow, and of what does not fit: a direct attempt is bounded by
 * `directTimeoutMs`, at most `directMaxInFlight` run per partner, and after one
 * that failed or took more than half its bound, that partner's answers go
 * through the queue for `breakerHalfOpenAfterMs`. So a slow or hanging partner
 * holds a few of the inbound worker's slots, for at most its timeout once a
 * pause, never all of them. The bound defaults to the partner's own timeout: a
 * shorter one made a partner slower than it (1.2 s against 1 s in a chaos run)
 * receive every such message twice.
 *
 * At least once, as before: a job that delivered directly and then failed (say
 * Redis went away before its trace was written) runs again and delivers again,
 * with the same message id, which both partners treat as a repeat.
 */
export class DirectDeliveries {
  readonly #runtime: Runtime;
  readonly #breakers: Record<PartnerId, CircuitBreakerPolicy>;
  readonly #inFlight = new Map<PartnerId, number>();
  readonly #pausedUntil = new Map<PartnerId, number>();

  constructor(runtime: Runtime, breakers: Record<PartnerId, CircuitBreakerPolicy>) {
    this.#runtime = runtime;
    this.#breakers = breakers;
  }

  /** The bound of a direct attempt to `partner` now, or undefined when its answer should be queued. */
  #directTimeout(partner: PartnerId): number | undefined {
    const delivery = this.#runtime.config.partners[partner].delivery;
    const timeoutMs = Math.min(delivery.directTimeoutMs, delivery.timeoutMs);
    if (timeoutMs <= 0) return undefined;
    if (this.#breakers[partner].state !== CircuitState.Closed) return undefined;
    if ((this.#inFlight.get(partner) ?? 0) >= delivery.directMaxInFlight) return undefined;
    if (this.#runtime.clock.now() < (this.#pausedUntil.get(partner) ?? 0)) return undefined;
    return timeoutMs;
  }

  /** Delivers `message` now if the partner is fit for it, else (or when that fails) queues it; `jobId` and `pending` as for enqueueDelivery. */
  async send(message: OutboundMessage, trackingNo: string, jobId = message.messageId, pending?: PendingWrites): Promise<void> {
    const runtime = this.#runtime;
    const partner = message.partner;
    const timeoutMs = this.#directTimeout(partner);
    if (timeoutMs === undefined) {
      runtime.telemetry.answerPath(partner, 'queued');
      return enqueueDelivery(runtime, message, trackingNo, jobId, pending);
    }

    // the retry horizon of a message runs from this attempt, should it need the queue
    const data: DeliverJob = { partner, operation: message.operation, messageId: message.messageId, body: message.body, trackingNo, firstAttemptAt: runtime.clock.now() };
    this.#inFlight.set(partner, (this.#inFlight.get(partner) ?? 0) + 1);
    const started = performance.now();
    let outcome: AttemptOutcome;
    try {
      outcome = await attemptDelivery(runtime, this.#breakers[partner], data, { timeoutMs });
    } finally {
      this.#inFlight.set(partner, (this.#inFlight.get(partner) ?? 1) - 1);
    }
    const tookMs = performance.now() - started;
    if (outcome.kind !== 'delivered' || tookMs > timeoutMs / 2) this.#pause(partner, outcome.kind === 'delivered' ? `took ${Math.round(tookMs)} ms` : outcome.kind);

    if (outcome.kind === 'circuit-open') {
      // opened by another job since the check: nothing was sent, the queue makes every attempt
      runtime.telemetry.answerPath(partner, 'queued');
      return enqueueDelivery(runtime, message, trackingNo, jobId, pending);
    }
    runtime.telemetry.answerPath(partner, 'direct');

    const { traces } = runtime;
    const sent = [
      ...traces.indexCommands(trackingNo, { messageId: message.messageId }),
      traces.appendCommand(trackingNo, 'answer-sent', { partner, operation: message.operation, messageId: message.messageId, body: message.body }),
      traces.appendCommand(trackingNo, 'delivery-attempt', { attempt: 1, direct: true, messageId: message.messageId, ...outcome }),
    ];
    const logged = { correlationId: trackingNo, partner, operation: message.operation, messageId: message.messageId };
    switch (outcome.kind) {
      case 'delivered':
        await writeOrKeep(runtime, sent, pending);
        runtime.logger.info('delivered', { ...logged, attempt: 1, direct: true });
        return;
      case 'refused':
        await this.#deadLetter(data, jobId, deliveryFailure(runtime, partner, outcome), sent, pending);
        return;
      case 'retry':
        await this.#queueRetries(data, jobId, deliveryFailure(runtime, partner, outcome), sent, pending);
        runtime.logger.info('direct attempt failed: the outbound queue retries', { ...logged, reason: outcome.reason });
        return;
    }
  }

  #pause(partner: PartnerId, why: string): void {
    const { delivery } = this.#runtime.config.partners[partner];
    const wasPaused = this.#runtime.clock.now() < (this.#pausedUntil.get(partner) ?? 0);
    this.#pausedUntil.set(partner, this.#runtime.clock.now() + delivery.breakerHalfOpenAfterMs);
    if (!wasPaused) this.#runtime.logger.info('answers go through the outbound queue for a while', { partner, why, forMs: delivery.breakerHalfOpenAfterMs });
  }

  /** The rest of the attempts, through the outbound queue, after the backoff a queued first attempt would have had, until the retry horizon. */
  async #queueRetries(data: DeliverJob, jobId: string, error: GatewayError, traceCommands: readonly RedisCommand[], pending?: PendingWrites): Promise<void> {
    const runtime = this.#runtime;
    const delivery = runtime.config.partners[data.partner].delivery;
    const job = { data: { ...data, attemptsBefore: 1 } };
    const delay = partnerBackoff(delivery.backoffBaseMs, delivery.backoffMaxMs, Math.random, { doublings: delivery.attempts, horizonMs: retryHorizonMs(delivery), now: () => runtime.clock.now() })(0, undefined, error, job);
    await runtime.outboundQueues[data.partner].add('deliver', job.data, { ...outboundJobOptions(delivery), jobId, delay });
    const retryUntil = new Date(retryDeadline(job, retryHorizonMs(delivery))).toISOString();
    await writeOrKeep(runtime, [...traceCommands, runtime.traces.appendCommand(data.trackingNo, 'answer-queued', { partner: data.partner, operation: data.operation, messageId: data.messageId, retryUntil })], pending);
  }

  /** Refused for good: to the operators, as the outbound job would have been, so that a replay queues it. */
  async #deadLetter(data: DeliverJob, jobId: string, error: GatewayError, traceCommands: readonly RedisCommand[], pending?: PendingWrites): Promise<void> {
    const letter = { queue: this.#runtime.outboundQueues[data.partner].name, jobName: 'deliver', jobId, data, partner: data.partner, trackingNo: data.trackingNo, attempts: 1 };
    await handToOperators(this.#runtime, letter, error, { traceCommands, pending, log: { direct: true } });
  }
}
