import type { GatewayError } from '../kernel/errors.ts';
import type { RedisCommand } from '../kernel/redis/client.ts';
import type { DeadLetter } from '../stores/dead-letters.ts';
import { writeOrKeep, type PendingWrites } from './pending-writes.ts';
import type { Runtime } from './runtime.ts';

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
