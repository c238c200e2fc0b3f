import { DelayedError, type Job } from 'bullmq';
import type { CircuitBreakerPolicy } from 'cockatiel';
import type { PartnerId } from '../adapters/types.ts';
import type { OutboundJobs } from '../queues/catalog.ts';
import { circuitTrialAt, deliverQueued, deliveryFailure } from '../usecases/delivery/attempt.ts';
import { retryDeadline, retryHorizonMs } from '../usecases/delivery/backoff.ts';
import type { Runtime } from '../usecases/runtime.ts';
import { withDeadLetters } from './dead-letters.ts';
import { asGatewayError } from '../kernel/errors.ts';
import { applicationAnswered, applicationRefused } from '../usecases/hosting/flow.ts';

/** Shortest wait for a circuit: a job woken a moment early must not spin. */
const MIN_CIRCUIT_WAIT_MS = 10;

/**
 * One delivery attempt of a queued answer. Its budget is time, not attempts:
 * it is retried until `*_RETRY_HOURS` after its first attempt, then handed to
 * operators, so a partner down for a night gets its answers in the morning
 * instead of sending them to the dead letters. While this process's circuit to
 * the partner is open nothing is sent, and the job waits for the circuit's
 * next trial without spending an attempt.
 */
export async function processOutboundJob(runtime: Runtime, breakers: Record<PartnerId, CircuitBreakerPolicy>, job: Job<OutboundJobs['deliver']>, token?: string): Promise<void> {
  const { partner, trackingNo } = job.data;
  const delivery = runtime.config.partners[partner].delivery;
  // a worker may have made the first attempt directly (usecases/delivery/direct.ts)
  const priorAttempts = job.data.attemptsBefore ?? 0;
  const deadline = retryDeadline(job, retryHorizonMs(delivery));
  const outlived = () => (runtime.clock.now() >= deadline ? `not delivered within the retry horizon of ${delivery.retryHours} h` : undefined);
  const answerTo = job.data.answerTo;
  const outcome = await withDeadLetters(runtime, job, { partner, trackingNo, priorAttempts, outlived }, async () => {
    try {
      const sent = await deliverQueued(runtime, breakers[partner], job.data, priorAttempts + job.attemptsMade + 1);
      if (sent.kind === 'circuit-open' && outlived() !== undefined) throw deliveryFailure(runtime, partner, { kind: 'circuit-open' });
      // a host application's answer names it: the evaluation learns it before the job is done
      if (sent.kind === 'delivered' && answerTo) await applicationAnswered(runtime, partner, job.data.operation, sent.answer, answerTo);
      return sent.kind;
    } catch (thrown) {
      const error = asGatewayError(thrown);
      // given up for good: the evaluation fails (or goes to operators) rather than wait for an answer that will not come
      if (answerTo && (!error.retryable || outlived() !== undefined)) await applicationRefused(runtime, answerTo, `${error.code}: ${error.message}`);
      throw thrown;
    }
  });
  if (outcome === 'delivered') return;
  // woken at the circuit's trial, or at the horizon if that comes first, to be handed to operators then
  const until = Math.min(circuitTrialAt(breakers[partner], delivery), Date.now() + (deadline - runtime.clock.now()));
  await job.moveToDelayed(Math.max(until, Date.now() + MIN_CIRCUIT_WAIT_MS), token);
  throw new DelayedError();
}
