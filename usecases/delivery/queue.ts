import type { OutboundMessage, PartnerId } from '../../adapters/types.ts';
import type { Runtime } from '../runtime.ts';
import { outboundJobOptions, type OutboundJobs } from '../../queues/catalog.ts';
import { writeOrKeep, type PendingWrites } from '../pending-writes.ts';

/** How an answer leaves: queued (enqueueDelivery), or first tried at once by a worker (DirectDeliveries). */
export type SendToPartner = (message: OutboundMessage, trackingNo: string, jobId?: string, pending?: PendingWrites) => Promise<void>;

/** Every attempt through the outbound queue. */
export function queuedSend(runtime: Runtime): SendToPartner {
  return (message, trackingNo, jobId, pending) => enqueueDelivery(runtime, message, trackingNo, jobId, pending);
}

/**
 * Queues a message for a partner. The job id is the message id (or the id
 * given for a deliberate resend), so a job that runs twice queues it once.
 * Its retry horizon runs from now.
 */
export async function enqueueDelivery(
  runtime: Runtime,
  message: OutboundMessage,
  trackingNo: string,
  jobId = message.messageId,
  pending?: PendingWrites,
  answerTo?: OutboundJobs['deliver']['answerTo'],
): Promise<void> {
  const partner: PartnerId = message.partner;
  await runtime.outboundQueues[partner].add(
    'deliver',
    { partner, operation: message.operation, messageId: message.messageId, body: message.body, trackingNo, firstAttemptAt: runtime.clock.now(), ...(answerTo ? { answerTo } : {}) },
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
