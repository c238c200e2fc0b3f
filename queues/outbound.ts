import type { OutboundMessage, PartnerId } from '../adapters/types.ts';
import type { Runtime } from '../gateway/core/runtime.ts';
import { outboundJobOptions } from './catalog.ts';

/** How an answer leaves: queued (sendToPartner), or first tried at once by a worker (DirectDeliveries). */
export type SendToPartner = (message: OutboundMessage, trackingNo: string, jobId?: string) => Promise<void>;

/** sendToPartner bound to a runtime: every attempt through the outbound queue. */
export function queuedSend(runtime: Runtime): SendToPartner {
  return (message, trackingNo, jobId) => sendToPartner(runtime, message, trackingNo, jobId);
}

/**
 * Queues a message for a partner. The job id is the message id (or the id
 * given for a deliberate resend), so a job that runs twice queues it once.
 */
export async function sendToPartner(runtime: Runtime, message: OutboundMessage, trackingNo: string, jobId = message.messageId): Promise<void> {
  const partner: PartnerId = message.partner;
  await runtime.outboundQueues[partner].add(
    'deliver',
    { partner, operation: message.operation, messageId: message.messageId, body: message.body, trackingNo },
    { ...outboundJobOptions(runtime.config.partners[partner].delivery), jobId },
  );
  await runtime.traces.write([
    ...runtime.traces.indexCommands(trackingNo, { messageId: message.messageId }),
    runtime.traces.appendCommand(trackingNo, 'answer-queued', { partner, operation: message.operation, messageId: message.messageId, body: message.body }),
  ]);
}
