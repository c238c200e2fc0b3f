import type { InboundHttp, InboundMessage, PartnerAdapter } from '../adapters/types.ts';
import type { Runtime } from './runtime.ts';
import type { RoomLedger } from '../ledger/index.ts';
import type { MessageStore } from '../stores/messages.ts';
import { GatewayError } from '../kernel/errors.ts';
import { INBOUND_JOB_OPTIONS } from '../queues/catalog.ts';
import { idFactory } from '../kernel/ids.ts';

const nextTrackingNo = idFactory();

export interface IntakeResult {
  trackingNo: string;
  repeated: boolean;
}

function storeUnavailable(runtime: Runtime, cause: unknown): GatewayError {
  return new GatewayError('STORE_UNAVAILABLE', undefined, { retryAfterMs: runtime.config.intake.retryAfterSeconds * 1000, cause });
}

/**
 * Records a checked message durably and enqueues it; only then may the partner
 * hear success. A record stays `received` until a worker has processed it, so
 * a record whose enqueue failed is enqueued again when the partner retries
 * (same job id: BullMQ keeps one job while it exists, and once it is gone the
 * record is no longer `received`).
 */
export async function acceptMessage(runtime: Runtime, adapter: PartnerAdapter, http: InboundHttp, message: InboundMessage): Promise<IntakeResult> {
  try {
    if (message.refersTo !== undefined && !(await runtime.messages.requestKnown(adapter.id, message.refersTo))) {
      throw new GatewayError('NOT_FOUND', `no request ${message.refersTo}`);
    }
    if ((await notInForce(runtime, adapter.id, message)) !== undefined) {
      throw new GatewayError('SEMANTIC_INVALID', undefined, { violations: [{ path: message.inForcePath ?? '/data/requestId', message: 'NOT_IN_FORCE' }] });
    }
    // the replicas' acknowledgement below holds only if these connections keep their session until then
    const written = runtime.replicas.mark(runtime.redis, runtime.queueConnection);
    const trackingNo = nextTrackingNo(runtime.clock.now());
    // the search index and the trace's first entry go with the record; not the
    // tracking number itself: a search by it asks whether its trace exists (TraceStore.find)
    const withNew = [
      ...runtime.traces.indexCommands(trackingNo, message.searchIds),
      runtime.traces.appendCommand(trackingNo, 'received', { partner: adapter.id, operation: message.operation, ids: message.searchIds }),
    ];
    const recorded = await runtime.messages.record(
      {
        partner: adapter.id,
        trackingNo,
        operation: message.operation,
        receivedAt: http.receivedAt,
        rawBody: http.rawBody.toString('utf8'),
        messageKey: message.messageKey,
        request: message.request,
        replaces: message.replaces,
        searchIds: message.searchIds,
      },
      withNew,
    );
    switch (recorded.verdict) {
      case 'conflict':
        throw new GatewayError('CONFLICT', `request ${message.request?.id ?? ''} is known with other content`);
      case 'replaced-elsewhere':
        throw new GatewayError('CONFLICT', `${message.replaces ?? ''} is already named by ${recorded.trackingNo}`);
      case 'repeat':
        if (recorded.state === 'received') await enqueue(runtime, adapter, recorded.trackingNo);
        // the first answer may have been a 503 for want of replicas: the record is vouched for again
        await runtime.replicas.confirm(written);
        return { trackingNo: recorded.trackingNo, repeated: true };
      case 'new':
        if (recorded.unwritten.length === 0) await enqueue(runtime, adapter, trackingNo);
        // the index and the trace in one write (the script could not: Cluster), the job beside them
        else await Promise.all([runtime.traces.write(recorded.unwritten), enqueue(runtime, adapter, trackingNo)]);
        await runtime.replicas.confirm(written);
        return { trackingNo, repeated: false };
    }
  } catch (error) {
    if (error instanceof GatewayError) throw error;
    throw storeUnavailable(runtime, error);
  }
}

/**
 * The rule for a report on a request (Changsha's session.status, the province's host
 * lifecycle): the request is in force in the ledger, or the message is a repeat, which
 * keeps its first answer even if the request has since left force. The ledger's state
 * when the rule refuses the message (read only: the message lab asks it too), else undefined.
 */
export async function notInForce(deps: { ledger: Pick<RoomLedger, 'describe'>; messages: Pick<MessageStore, 'messageKnown'> }, partner: string, message: Pick<InboundMessage, 'inForce' | 'messageKey'>): Promise<string | undefined> {
  if (message.inForce === undefined) return undefined;
  const state = (await deps.ledger.describe(partner, message.inForce))?.state ?? 'unknown';
  if (state === 'in-force' || (await deps.messages.messageKnown(partner, message.messageKey))) return undefined;
  return state;
}

async function enqueue(runtime: Runtime, adapter: PartnerAdapter, trackingNo: string): Promise<void> {
  await runtime.inboundQueue.add('process', { partner: adapter.id, trackingNo }, { ...INBOUND_JOB_OPTIONS, jobId: trackingNo });
}
