import type { Runtime } from './runtime.ts';
import type { PartnerId } from '../adapters/types.ts';
import { INBOUND_QUEUE, jobId } from '../queues/names.ts';
import { INBOUND_JOB_OPTIONS, outboundJobOptions } from '../queues/catalog.ts';

/** Puts a dead letter's original job back on its queue, under a fresh job id. */
export async function replayDeadLetter(runtime: Runtime, id: string): Promise<{ id: string; jobId: string } | undefined> {
  const letter = await runtime.deadLetters.get(id);
  if (!letter) return undefined;
  const replayJobId = jobId(letter.jobId, 'replay', id);
  if (letter.queue === INBOUND_QUEUE) {
    await runtime.inboundQueue.add(letter.jobName, letter.data, { ...INBOUND_JOB_OPTIONS, jobId: replayJobId });
  } else {
    const partner = letter.partner as PartnerId;
    const queue = runtime.outboundQueues[partner];
    // an operator's replay gets a whole retry horizon of its own
    const data = typeof letter.data === 'object' && letter.data !== null ? { ...letter.data, firstAttemptAt: runtime.clock.now() } : letter.data;
    await queue.add(letter.jobName, data, { ...outboundJobOptions(runtime.config.partners[partner].delivery), jobId: replayJobId });
  }
  await runtime.deadLetters.markReplayed(id, replayJobId);
  await runtime.traces.append(letter.trackingNo, 'replayed', { deadLetter: id, jobId: replayJobId });
  return { id, jobId: replayJobId };
}
