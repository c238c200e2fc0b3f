import type { Queue } from 'bullmq';
import { waitingSince } from '../queues/waiting.ts';
import type { QueueSample } from '../telemetry/history.ts';
import type { Runtime } from './runtime.ts';

/** The queues the overview charts, in its order: inbound, each partner's outbound, periodic. */
export function historyQueues(runtime: Runtime): Queue[] {
  return [runtime.inboundQueue, ...Object.values(runtime.outboundQueues), runtime.periodicQueue];
}

/**
 * The scheduler's `history-sample` job, once a minute: each queue's depth
 * (waiting, active, prioritized, delayed) and the age of its oldest waiting job,
 * written to the overview's history (telemetry/history.ts).
 */
export async function sampleQueueHistory(runtime: Runtime): Promise<{ queues: number }> {
  // BullMQ stamps jobs with the wall clock of the process that ran them
  const now = Date.now();
  const samples = await Promise.all(
    historyQueues(runtime).map(async (queue): Promise<QueueSample> => {
      const [counts, oldest] = await Promise.all([queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized'), queue.getJobs(['wait'], 0, 0, true)]);
      const depth = Object.values(counts).reduce((sum, count) => sum + count, 0);
      return { name: queue.name, depth, oldestSeconds: oldest[0] ? Math.max(0, Math.round((now - waitingSince(oldest[0])) / 1000)) : 0 };
    }),
  );
  await runtime.telemetry.statistics.history.sampleQueues(samples);
  return { queues: samples.length };
}
