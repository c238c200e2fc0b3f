import type { RedisCommand } from '../kernel/redis/client.ts';
import type { Runtime } from './runtime.ts';

/**
 * Trace and index writes a job gathers and sends in one write as it ends: the
 * deciding job's canonical, decision and answer entries and its record's
 * `processed` mark were four round trips (bench/README.md). Only what may be
 * lost with a job that dies, and be written again when it runs again, goes here.
 */
export type PendingWrites = RedisCommand[];

/** Sends `commands` now, or keeps them with the job's pending writes. */
export async function writeOrKeep(runtime: Runtime, commands: readonly RedisCommand[], pending?: PendingWrites): Promise<void> {
  if (pending) pending.push(...commands);
  else await runtime.traces.write(commands);
}
