import type { Runtime } from './runtime.ts';
import { DAY_MS } from '../kernel/beijing-time.ts';

export interface RetentionOutcome {
  cutoff: string;
  messages: number;
  deadLetters: number;
  bookings: number;
  /** ledger request records (decisions, lifecycle, host holds) */
  requests: number;
  seatRequests: number;
  /** traces that belong to no record (availability publications) */
  traces: number;
  reconciliationRuns: number;
  /** host evaluations (Zhuzhou as host) whose window started before the cutoff */
  hostEvaluations: number;
  auditEntries: number;
}

/**
 * Purges what is older than the retention period (never under six months, the
 * schema holds that): records with their idempotency keys, traces and search
 * index entries (message-id keys of repeats included), dead letters, past bookings, the ledger's request records and
 * waiting entries, seat requests with their traces, availability publications'
 * traces, and reconciliation runs. Each store purges its own keys, in batches
 * (RETENTION_BATCH_SIZE), idempotently: two processes may run it at once.
 * Kept: the audit chain (its own retention), the latest availability snapshot,
 * the stranded sweep's totals and the last reconciliation time (one value
 * each, overwritten), accounts, and statistics (they expire). Host
 * evaluations go by the start of their window.
 */
export async function purgeExpired(runtime: Runtime): Promise<RetentionOutcome> {
  const { config } = runtime;
  const cutoffMs = runtime.clock.now() - config.periodic.retentionDays * DAY_MS;
  const batch = config.periodic.retentionBatchSize;
  const removeTraces = (traces: { trackingNo: string; searchIds: Record<string, string> }[]) => runtime.traces.remove(traces);
  let messages = 0;
  for (const partner of Object.keys(runtime.adapters)) {
    for (;;) {
      const purged = await runtime.messages.purgeBatch(partner, cutoffMs, batch, removeTraces);
      if (purged === 0) break;
      messages += purged;
    }
    await runtime.messages.purgeOrphanedMessageIds(partner, batch);
  }
  const seatRequests = await runtime.seatRequests.purgeBefore(cutoffMs, batch, removeTraces);
  // availability publications trace under `availability.<job id>` (usecases/availability.ts)
  const traces = await runtime.traces.purgeStandalone('availability.', cutoffMs, batch);
  const deadLetters = await runtime.deadLetters.purgeBefore(cutoffMs, batch);
  const bookings = await runtime.ledger.purgeBefore(cutoffMs);
  const requests = await runtime.ledger.purgeRequestsBefore(cutoffMs, batch);
  const reconciliationRuns = await runtime.reconciliations.purgeBefore(cutoffMs, batch);
  const hostEvaluations = await runtime.hostEvaluations.purgeBefore(cutoffMs, batch);
  const auditEntries = await runtime.audit.purgeBefore(cutoffMs, batch);
  const outcome = { cutoff: new Date(cutoffMs).toISOString(), messages, deadLetters, bookings, requests, seatRequests, traces, reconciliationRuns, hostEvaluations, auditEntries };
  runtime.logger.info('retention purge done', { ...outcome });
  return outcome;
}
