import type { OutboundMessage, PartnerId } from '../adapters/types.ts';
import type { Runtime } from '../gateway/core/runtime.ts';
import { outboundJobOptions } from './catalog.ts';

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
