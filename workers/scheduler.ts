import cron, { type ScheduledTask } from 'node-cron';
import type { Runtime } from '../usecases/runtime.ts';
import { formatCompactBeijing } from '../kernel/beijing-time.ts';
import { PERIODIC_JOB_OPTIONS } from '../queues/catalog.ts';
import { jobId } from '../queues/names.ts';
import { sampleQueueHistory } from '../usecases/history-sample.ts';

/**
 * After downtime: a reconciliation older than the catch-up age runs now. The
 * job id names the hour, so schedulers starting together enqueue it once.
 */
export async function catchUp(runtime: Runtime): Promise<void> {
  try {
    const last = await runtime.reconciliations.last();
    const ageMs = last === undefined ? Infinity : runtime.clock.now() - last;
    if (ageMs <= runtime.config.periodic.catchUpAfterHours * 3600 * 1000) return;
    const hour = formatCompactBeijing(runtime.clock.now()).slice(0, 10);
    await runtime.periodicQueue.add('reconciliation', { reason: 'catch-up at start' }, { ...PERIODIC_JOB_OPTIONS, jobId: jobId('reconciliation', 'catch-up', hour) });
    runtime.logger.info('reconciliation is overdue: catching up', { lastRun: last === undefined ? 'never' : new Date(last).toISOString() });
  } catch (error) {
    runtime.logger.warn('catch-up not enqueued', { error: (error as Error).message });
  }
}

export interface Scheduler {
  stop(): Promise<void>;
}

/**
 * node-cron ticks in Beijing time. A tick only enqueues a job whose id is the
 * tick itself, so any number of scheduler processes run each tick once.
 */
export function startScheduler(runtime: Runtime): Scheduler {
  const tasks: ScheduledTask[] = [];
  const every = (expression: string, name: string, enqueue: (tick: string) => Promise<unknown>) => {
    tasks.push(
      cron.schedule(
        expression,
        (context) => {
          // the tick's scheduled time, the same in every scheduler process
          enqueue(formatCompactBeijing(context.date.getTime())).catch((error: unknown) => runtime.logger.warn('scheduler tick not enqueued', { name, error: (error as Error).message }));
        },
        { timezone: runtime.config.ledger.timeZone, name },
      ),
    );
  };
  const availability = runtime.config.partners.changsha.availability;
  for (const adapter of Object.values(runtime.adapters)) {
    if (!adapter.availability) continue;
    const partner = adapter.id;
    every(availability.pollCron, `availability-poll-${partner}`, (tick) =>
      runtime.periodicQueue.add('availability-poll', { partner }, { ...PERIODIC_JOB_OPTIONS, jobId: jobId('availability-poll', partner, tick) }),
    );
  }
  every(availability.publishCron, 'availability-publish-daily', (tick) =>
    runtime.periodicQueue.add('availability-publish', { reason: 'daily' }, { ...PERIODIC_JOB_OPTIONS, jobId: jobId('availability-publish', tick) }),
  );
  const periodic = runtime.config.periodic;
  every(periodic.reconciliationCron, 'reconciliation', (tick) =>
    runtime.periodicQueue.add('reconciliation', { reason: 'daily' }, { ...PERIODIC_JOB_OPTIONS, jobId: jobId('reconciliation', tick) }),
  );
  every(periodic.holdSweepCron, 'hold-sweep', (tick) => runtime.periodicQueue.add('hold-sweep', {}, { ...PERIODIC_JOB_OPTIONS, jobId: jobId('hold-sweep', tick) }));
  every(periodic.hostSweepCron, 'host-sweep', (tick) => runtime.periodicQueue.add('host-sweep', {}, { ...PERIODIC_JOB_OPTIONS, jobId: jobId('host-sweep', tick) }));
  every(periodic.strandedSweepCron, 'stranded-sweep', (tick) =>
    runtime.periodicQueue.add('stranded-sweep', {}, { ...PERIODIC_JOB_OPTIONS, jobId: jobId('stranded-sweep', tick) }),
  );
  // the overview's queue history, one sample a minute (telemetry/history.ts): written by the tick
  // itself, not queued, so it does not crowd the periodic jobs; schedulers ticking together write the same minute's field
  every('* * * * *', 'history-sample', () => sampleQueueHistory(runtime));
  every(periodic.retentionCron, 'retention', (tick) => runtime.periodicQueue.add('retention', {}, { ...PERIODIC_JOB_OPTIONS, jobId: jobId('retention', tick) }));
  // after the connections are up: the command connection fails fast until then, and a
  // catch-up tried at once at process start was lost ("catch-up not enqueued")
  void runtime.ready().then(() => catchUp(runtime));
  return {
    async stop() {
      for (const task of tasks) await task.stop();
    },
  };
}
