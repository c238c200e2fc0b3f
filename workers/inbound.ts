import type { Job } from 'bullmq';
import type { InboundJobs } from '../queues/catalog.ts';
import { expireHeld, expireHold, processMessage } from '../usecases/decisions.ts';
import { queuedSend, type SendToPartner } from '../usecases/delivery/queue.ts';
import type { Runtime } from '../usecases/runtime.ts';
import { withDeadLetters } from './dead-letters.ts';

type InboundJob = { [Name in keyof InboundJobs]: Job<InboundJobs[Name], void, Name> }[keyof InboundJobs];

/** The inbound queue's jobs; `send` is how answers leave (first tried at once by this worker, or queued). */
export async function processInboundJob(runtime: Runtime, job: InboundJob, send: SendToPartner = queuedSend(runtime)): Promise<void> {
  await withDeadLetters(runtime, job, job.data, async () => {
    switch (job.name) {
      case 'process':
        return processMessage(runtime, send, job.data, job.id ?? job.data.trackingNo);
      case 'held-timeout':
        return expireHeld(runtime, job.data);
      case 'hold-expiry':
        return expireHold(runtime, send, job.data);
    }
  });
}
