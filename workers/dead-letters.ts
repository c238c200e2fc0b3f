import { UnrecoverableError, type Job } from 'bullmq';
import { asGatewayError } from '../kernel/errors.ts';
import { handToOperators } from '../usecases/hand-to-operators.ts';
import type { Runtime } from '../usecases/runtime.ts';

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
