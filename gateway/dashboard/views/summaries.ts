import type { DeadLetter } from '../../../stores/dead-letters.ts';
import type { ReconciliationRun } from '../../../stores/reconciliation-runs.ts';
import { redact } from '../../../kernel/pii.ts';
import type { Runtime } from '../../../usecases/runtime.ts';
import { partnerNames, worst, type Reason } from './shared.ts';

/** A dead letter, a message and a reconciliation run as listed, by more than one page. */

export function deadLetterStatus(letter: DeadLetter): 'pending' | 'replayed' | 'discarded' {
  return letter.discarded ? 'discarded' : letter.replayedAt ? 'replayed' : 'pending';
}

/** A dead letter as listed: everything but the job payload. */
export function letterSummary(letter: DeadLetter) {
  return {
    id: letter.id,
    at: letter.at,
    queue: letter.queue,
    jobName: letter.jobName,
    jobId: letter.jobId,
    partner: letter.partner,
    trackingNo: letter.trackingNo,
    reason: redact(letter.reason) as string,
    attempts: letter.attempts,
    status: deadLetterStatus(letter),
    replayedAt: letter.replayedAt ?? null,
    replayJobId: letter.replayJobId ?? null,
    discarded: letter.discarded ? (redact(letter.discarded) as DeadLetter['discarded']) : null,
  };
}

/** a message's record, or what its trace says of a message without one */
export interface RecordSummary {
  trackingNo: string;
  partner: string | null;
  operation: string | null;
  state: string | null;
  receivedAt: string | null;
  requestId: string | null;
  ids: Record<string, string>;
}

/** A message or trace found by id: its record when it has one, else what its first trace entry says. */
export async function messageSummary(runtime: Runtime, trackingNo: string): Promise<RecordSummary | undefined> {
  const record = await runtime.messages.summary(Object.keys(runtime.adapters), trackingNo);
  if (record) return record;
  const entry = await runtime.traces.first(trackingNo);
  if (entry === undefined) return undefined;
  return {
    trackingNo,
    partner: typeof entry['partner'] === 'string' ? entry['partner'] : null,
    operation: typeof entry['operation'] === 'string' ? entry['operation'] : entry.stage,
    state: null,
    receivedAt: entry.at,
    requestId: null,
    ids: {},
  };
}

export function runSummary(run: ReconciliationRun) {
  const reasons: Reason[] = [];
  const scope = `reconciliation:${run.partner}`;
  if (run.errors.length > 0) {
    reasons.push({ scope, code: 'RECONCILIATION_ERRORS', health: 'amber', zh: `与${partnerNames(run.partner).zh}对账有 ${run.errors.length} 个错误`, en: `reconciliation with ${partnerNames(run.partner).en} had ${run.errors.length} error(s)` });
  }
  const differences = run.missed.length + run.different.length + run.extra.length;
  if (differences > 0) {
    reasons.push({
      scope,
      code: 'RECONCILIATION_DIFFERENCES',
      health: 'amber',
      zh: `与${partnerNames(run.partner).zh}对账：补收 ${run.missed.length}，不一致 ${run.different.length}，仅本地 ${run.extra.length}`,
      en: `reconciliation with ${partnerNames(run.partner).en}: ${run.missed.length} missed, ${run.different.length} different, ${run.extra.length} only here`,
    });
  }
  return {
    runId: run.runId,
    reason: run.reason,
    partner: run.partner,
    startedAt: run.startedAt,
    finishedAt: run.finishedAt,
    days: run.days.length,
    missed: run.missed.length,
    different: run.different.length,
    extra: run.extra.length,
    pending: run.pending.length,
    errors: run.errors.length,
    errorSamples: run.errors.slice(0, 3),
    health: worst(reasons),
    reasons,
  };
}
