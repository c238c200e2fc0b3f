import type { InboundHttp, PartnerAdapter, ScheduledRequest } from '../adapters/types.ts';
import { DAY_MS, beijingDate, parseCompactBeijing } from '../kernel/beijing-time.ts';
import type { Runtime } from './runtime.ts';
import { acceptMessage } from './intake.ts';
import { ulid } from 'ulid';
import { PERIODIC_JOB_OPTIONS } from '../queues/catalog.ts';
import { jobId } from '../queues/names.ts';
import type { ReconciliationRun } from '../stores/reconciliation-runs.ts';

/** Queues a reconciliation now (on demand); returns its run id. */
export async function requestReconciliation(runtime: Runtime, reason: string): Promise<string> {
  const id = jobId('reconciliation', 'on-demand', ulid(runtime.clock.now()));
  await runtime.periodicQueue.add('reconciliation', { reason }, { ...PERIODIC_JOB_OPTIONS, jobId: id });
  return id;
}

/** The next `count` open days, today included (yyyyMMdd). */
function workingDays(runtime: Runtime, count: number): string[] {
  const days: string[] = [];
  const today = Date.parse(`${beijingDate(runtime.clock.now())}T12:00:00+08:00`);
  for (let offset = 0; days.length < count && offset < 366; offset++) {
    const day = beijingDate(today + offset * DAY_MS);
    if (!runtime.calendar.isClosed(day)) days.push(day.replace(/-/g, ''));
  }
  return days;
}

const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

/**
 * Compares each partner's schedule with the ledger over the coming working
 * days. What the partner holds and the gateway never received is processed as
 * if pushed; what differs, or what only the gateway holds, is listed for operators.
 */
export async function reconcile(runtime: Runtime, runId: string, reason: string): Promise<ReconciliationRun[]> {
  const runs: ReconciliationRun[] = [];
  for (const adapter of Object.values(runtime.adapters)) {
    if (!adapter.reconciliation) continue;
    const run = await reconcilePartner(runtime, adapter, runId, reason);
    runs.push(run);
    await runtime.reconciliations.add(run);
    const level = run.missed.length + run.different.length + run.extra.length + run.errors.length > 0 ? 'warn' : 'info';
    runtime.logger.log(level, 'reconciliation done', { partner: run.partner, missed: run.missed.length, different: run.different.length, extra: run.extra.length, errors: run.errors.length });
  }
  await runtime.reconciliations.finished(runtime.clock.now());
  return runs;
}

async function reconcilePartner(runtime: Runtime, adapter: PartnerAdapter, runId: string, reason: string): Promise<ReconciliationRun> {
  const partner = adapter.id;
  const days = workingDays(runtime, runtime.config.periodic.reconciliationWorkingDays);
  const run: ReconciliationRun = { runId, reason, startedAt: new Date(runtime.clock.now()).toISOString(), finishedAt: '', partner, days, missed: [], different: [], extra: [], pending: [], errors: [] };
  // the days are open days from today on: from the start of today to the end of the last one
  const lastDay = days.at(-1);
  const bookings = lastDay === undefined ? [] : await runtime.ledger.bookings({ from: parseCompactBeijing(`${days[0] ?? lastDay}000000`), to: parseCompactBeijing(`${lastDay}000000`) + DAY_MS });

  for (const day of days) {
    let scheduled: ScheduledRequest[];
    try {
      scheduled = (await adapter.reconciliation?.fetchSchedule(day)) ?? [];
    } catch (error) {
      run.errors.push(`${day}: ${(error as Error).message}`);
      continue;
    }
    const held = new Set(scheduled.map((item) => item.requestId));
    for (const item of scheduled) {
      const known = await runtime.messages.requestKnown(partner, item.requestId);
      if (!known) {
        try {
          await recordAsPushed(runtime, adapter, item);
          run.missed.push(item.requestId);
        } catch (error) {
          run.errors.push(`${item.requestId}: ${(error as Error).message}`);
        }
        continue;
      }
      const here = await runtime.ledger.describe(partner, item.requestId);
      if (!here) {
        run.pending.push(item.requestId);
        continue;
      }
      const alike = here.state === 'in-force' && here.start === item.start && here.end === item.end && here.seats === item.seats;
      if (!alike) {
        run.different.push({
          requestId: item.requestId,
          partner: { start: new Date(item.start).toISOString(), end: new Date(item.end).toISOString(), seats: item.seats },
          gateway: { state: here.state, roomId: here.roomId, ...(here.start === undefined ? {} : { start: iso(here.start) }), ...(here.end === undefined ? {} : { end: iso(here.end) }), ...(here.seats === undefined ? {} : { seats: here.seats }) },
        });
      }
    }
    const isoDay = `${day.slice(0, 4)}-${day.slice(4, 6)}-${day.slice(6, 8)}`;
    const ownersThatDay = new Set(
      bookings.filter((booking) => booking.owner.startsWith(`${partner}:`) && beijingDate(booking.start) === isoDay).map((booking) => booking.owner.slice(partner.length + 1)),
    );
    for (const requestId of ownersThatDay) if (!held.has(requestId)) run.extra.push(requestId);
  }
  run.finishedAt = new Date(runtime.clock.now()).toISOString();
  return run;
}

/** Records a request the partner holds as though it had pushed it, then lets the workers process it. */
async function recordAsPushed(runtime: Runtime, adapter: PartnerAdapter, item: ScheduledRequest): Promise<void> {
  const { operation, body, contentDigest, searchIds } = item.asPushed;
  const http: InboundHttp = { operation, rawBody: Buffer.from(JSON.stringify(body)), headers: {}, receivedAt: runtime.clock.now() };
  const { trackingNo } = await acceptMessage(runtime, adapter, http, {
    operation,
    messageKey: `reconciled-${item.requestId}`,
    request: { id: item.requestId, contentDigest },
    ...(item.replaces === undefined ? {} : { replaces: item.replaces }),
    searchIds,
  });
  await runtime.traces.append(trackingNo, 'reconciled', { requestId: item.requestId, note: 'held by the partner, never received: processed as if pushed' });
}
