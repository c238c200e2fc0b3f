import { UnrecoverableError, type Job } from 'bullmq';
import type { RedisCommand } from '../kernel/redis/client.ts';
import type { Runtime } from '../server/runtime.ts';
import { asGatewayError, type GatewayError } from '../kernel/errors.ts';
import type { DeadLetter } from '../stores/dead-letters.ts';
import { writeOrKeep, type PendingWrites } from '../usecases/delivery/send.ts';

/**
 * Writes a job to the dead letters with its error, notes it in the message's
 * trace (at once, or with the job's pending writes) and logs it: the one way a
 * job, or a worker's direct delivery, is handed to operators.
 */
export async function handToOperators(
  runtime: Runtime,
  letter: Omit<DeadLetter, 'id' | 'at' | 'reason'>,
  error: GatewayError,
  options: { traceCommands?: readonly RedisCommand[]; pending?: PendingWrites | undefined; log?: Record<string, unknown> } = {},
): Promise<DeadLetter> {
  const stored = await runtime.deadLetters.add({ ...letter, reason: `${error.code}: ${error.message}` });
  const noted = runtime.traces.appendCommand(letter.trackingNo, 'dead-lettered', { deadLetter: stored.id, reason: stored.reason });
  await writeOrKeep(runtime, [...(options.traceCommands ?? []), noted], options.pending);
  runtime.logger.error('job dead-lettered', { correlationId: letter.trackingNo, ...options.log, code: error.code, reason: error.message, deadLetter: stored.id });
  return stored;
}

/**
 * Runs a job body; when its error is permanent, or this was its last attempt,
 * the job is first written to the dead letters (so nothing accepted is lost),
 * then failed for good. The error's catalog class decides whether it retries.
 */
export async function withDeadLetters<T>(
  runtime: Runtime,
  job: Job,
  /** priorAttempts: attempts made before this job existed (a worker's direct first delivery) */
  context: { partner: string; trackingNo: string; priorAttempts?: number },
  body: () => Promise<T>,
): Promise<T> {
  try {
    return await body();
  } catch (thrown) {
    const error = asGatewayError(thrown);
    const attempts = job.opts.attempts ?? 1;
    const lastAttempt = job.attemptsMade + 1 >= attempts;
    const log = runtime.logger.child({ correlationId: context.trackingNo, queue: job.queueName, job: job.name, jobId: job.id });
    if (!error.retryable || lastAttempt) {
      await handToOperators(
        runtime,
        {
          queue: job.queueName,
          jobName: job.name,
          jobId: job.id ?? '',
          data: job.data as unknown,
          partner: context.partner,
          trackingNo: context.trackingNo,
          attempts: (context.priorAttempts ?? 0) + job.attemptsMade + 1,
        },
        error,
        { log: { queue: job.queueName, job: job.name, jobId: job.id } },
      );
      throw new UnrecoverableError(`${error.code}: ${error.message}`);
    }
    log.log(error.level, 'job will retry', { code: error.code, reason: error.message, attempt: (context.priorAttempts ?? 0) + job.attemptsMade + 1 });
    throw error;
  }
}

/**
 * Exponential backoff with full jitter, never shorter than the partner's
 * Retry-After. A job that carries `attemptsBefore` (its first attempt was made
 * directly) continues that count.
 */
export function partnerBackoff(baseMs: number, maxMs: number, random: () => number = Math.random) {
  return (attemptsMade: number, _type?: string, error?: Error, job?: { data?: unknown }): number => {
    const before = (job?.data as { attemptsBefore?: unknown } | undefined)?.attemptsBefore;
    const attempts = attemptsMade + (typeof before === 'number' ? before : 0);
    const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempts - 1));
    const jittered = Math.round(ceiling / 2 + random() * (ceiling / 2));
    const retryAfter = (error as { retryAfterMs?: unknown } | undefined)?.retryAfterMs;
    return typeof retryAfter === 'number' ? Math.max(retryAfter, jittered) : jittered;
  };
}
