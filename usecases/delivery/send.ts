import type { OutboundMessage, PartnerId } from '../../adapters/types.ts';
import type { RedisCommand } from '../../kernel/redis/client.ts';
import type { Runtime } from '../../server/runtime.ts';
import { outboundJobOptions } from '../../queues/catalog.ts';

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

/** How an answer leaves: queued (sendToPartner), or first tried at once by a worker (DirectDeliveries). */
export type SendToPartner = (message: OutboundMessage, trackingNo: string, jobId?: string, pending?: PendingWrites) => Promise<void>;

/** sendToPartner bound to a runtime: every attempt through the outbound queue. */
export function queuedSend(runtime: Runtime): SendToPartner {
  return (message, trackingNo, jobId, pending) => sendToPartner(runtime, message, trackingNo, jobId, pending);
}

/**
 * Queues a message for a partner. The job id is the message id (or the id
 * given for a deliberate resend), so a job that runs twice queues it once.
 */
export async function sendToPartner(runtime: Runtime, message: OutboundMessage, trackingNo: string, jobId = message.messageId, pending?: PendingWrites): Promise<void> {
  const partner: PartnerId = message.partner;
  await runtime.outboundQueues[partner].add(
    'deliver',
    { partner, operation: message.operation, messageId: message.messageId, body: message.body, trackingNo },
    { ...outboundJobOptions(runtime.config.partners[partner].delivery), jobId },
  );
  await writeOrKeep(
    runtime,
    [
      ...runtime.traces.indexCommands(trackingNo, { messageId: message.messageId }),
      runtime.traces.appendCommand(trackingNo, 'answer-queued', { partner, operation: message.operation, messageId: message.messageId, body: message.body }),
    ],
    pending,
  );
}
