import { UnrecoverableError, type Job } from 'bullmq';
import { asGatewayError, GatewayError } from '../kernel/errors.ts';
import { handToOperators } from '../usecases/hand-to-operators.ts';
import type { Runtime } from '../usecases/runtime.ts';
import { INBOUND_QUEUE } from '../queues/names.ts';

/**
 * Runs a job body; when its error is permanent, or this was its last attempt
 * (by count, or because the job has `outlived` its time), the job is first
 * written to the dead letters (so nothing accepted is lost), then failed for
 * good. The error's catalog class decides whether it retries.
 */
export async function withDeadLetters<T>(
  runtime: Runtime,
  job: Job,
  /**
   * priorAttempts: attempts made before this job existed (a worker's direct first delivery);
   * outlived: why the job may not be retried any more, whatever its attempts (a delivery past its retry horizon)
   */
  context: { partner: string; trackingNo: string; priorAttempts?: number; outlived?: () => string | undefined },
  body: () => Promise<T>,
): Promise<T> {
  try {
    return await body();
  } catch (thrown) {
    let error = asGatewayError(thrown);
    const attempts = job.opts.attempts ?? 1;
    const outlived = error.retryable ? context.outlived?.() : undefined;
    if (outlived !== undefined) error = new GatewayError(error.code, `${error.message}; ${outlived}`, { cause: error });
    const lastAttempt = job.attemptsMade + 1 >= attempts || outlived !== undefined;
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
        {
          // a message whose own job gave up is the operators' now: the stranded sweep leaves it alone
          ...(job.queueName === INBOUND_QUEUE && job.name === 'process' ? { traceCommands: [runtime.messages.stateCommand(context.partner, context.trackingNo, 'dead-lettered')] } : {}),
          log: { queue: job.queueName, job: job.name, jobId: job.id },
        },
      );
      throw new UnrecoverableError(`${error.code}: ${error.message}`);
    }
    log.log(error.level, 'job will retry', { code: error.code, reason: error.message, attempt: (context.priorAttempts ?? 0) + job.attemptsMade + 1 });
    throw error;
  }
}
