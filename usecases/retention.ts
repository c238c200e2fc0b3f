import type { Runtime } from './runtime.ts';
import { DAY_MS } from '../kernel/beijing-time.ts';

export interface RetentionOutcome {
  cutoff: string;
  messages: number;
  deadLetters: number;
  bookings: number;
  auditEntries: number;
}

/**
 * Purges what is older than the retention period (never under six months, the
 * schema holds that): records with their idempotency keys, traces and search
 * index entries, dead letters, and past bookings. Batches of UNLINK, so Redis
 * is never blocked for long.
 */
export async function purgeExpired(runtime: Runtime): Promise<RetentionOutcome> {
  const { config } = runtime;
  const cutoffMs = runtime.clock.now() - config.periodic.retentionDays * DAY_MS;
  const batch = config.periodic.retentionBatchSize;
  let messages = 0;
  for (const partner of Object.keys(runtime.adapters)) {
    for (;;) {
      const purged = await runtime.messages.purgeBatch(partner, cutoffMs, batch, (records) => runtime.traces.remove(records));
      if (purged === 0) break;
      messages += purged;
    }
  }
  const deadLetters = await runtime.deadLetters.purgeBefore(cutoffMs, batch);
  const bookings = await runtime.ledger.purgeBefore(cutoffMs);
  const auditEntries = await runtime.audit.purgeBefore(cutoffMs, batch);
  const outcome = { cutoff: new Date(cutoffMs).toISOString(), messages, deadLetters, bookings, auditEntries };
  runtime.logger.info('retention purge done', { ...outcome });
  return outcome;
}
