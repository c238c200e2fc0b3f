import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { InboundHttp, InboundMessage, PartnerAdapter } from '../adapters/types.ts';
import type { Runtime } from '../server/runtime.ts';
import { GatewayError } from '../kernel/errors.ts';
import { INBOUND_JOB_OPTIONS } from '../queues/catalog.ts';
import { idFactory } from '../kernel/ids.ts';

const recordScript = readFileSync(join(import.meta.dirname, '..', 'stores', 'record.lua'), 'utf8');
const nextTrackingNo = idFactory();

type Verdict = 'new' | 'repeat' | 'conflict' | 'replaced-elsewhere';

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
export async function recordInbound(runtime: Runtime, adapter: PartnerAdapter, http: InboundHttp, message: InboundMessage): Promise<IntakeResult> {
  const { redis, keys } = runtime;
  const intakeKeys = keys.intake(adapter.id);
  // the key count varies (numkeys is the first argument): see record.lua
  if (!('recordInbound' in redis)) redis.defineCommand('recordInbound', { lua: recordScript });

  try {
    if (message.refersTo !== undefined && !(await redis.exists(intakeKeys.requestId(message.refersTo)))) {
      throw new GatewayError('NOT_FOUND', `no request ${message.refersTo}`);
    }
    // the replicas' acknowledgement below holds only if these connections keep their session until then
    const written = runtime.replicas.mark(redis, runtime.queueConnection);
    const trackingNo = nextTrackingNo(runtime.clock.now());
    const fields = [
      'partner', adapter.id,
      'operation', message.operation,
      'receivedAt', String(http.receivedAt),
      'state', 'received',
      'body', runtime.cipher.encrypt(http.rawBody.toString('utf8')),
      // what retention must undo when the record goes
      'messageKey', message.messageKey,
      'requestId', message.request?.id ?? '',
      'replaces', message.replaces ?? '',
      'searchIds', JSON.stringify(message.searchIds),
    ];
    // the search index and the trace's first entry: written by the record script itself where
    // it may touch their keys (not on Redis Cluster, where they are in other slots)
    const traceWrites = [
      ...runtime.traces.indexCommands(trackingNo, { ...message.searchIds, trackingNo }),
      runtime.traces.appendCommand(trackingNo, 'received', { partner: adapter.id, operation: message.operation, ids: message.searchIds }),
    ];
    // the script takes each as (command, key, value)
    const inScript = redis.isCluster || traceWrites.some((command) => command.length !== 3) ? [] : traceWrites;
    const scripted = redis as unknown as { recordInbound(...args: (string | number)[]): Promise<[Verdict, string, string]> };
    const [verdict, knownTrackingNo, state] = await scripted.recordInbound(
      5 + inScript.length,
      intakeKeys.messageId(message.messageKey),
      intakeKeys.requestId(message.request?.id ?? '-'),
      intakeKeys.replacedBy(message.replaces ?? '-'),
      intakeKeys.record(trackingNo),
      intakeKeys.byTime,
      ...inScript.map(([, key]) => String(key)),
      trackingNo,
      message.request?.id ?? '',
      message.request?.contentDigest ?? '',
      message.replaces ?? '',
      String(http.receivedAt),
      inScript.length,
      ...inScript.flatMap(([command, , value]) => [command.toUpperCase(), String(value)]),
      ...fields,
    );
    switch (verdict) {
      case 'conflict':
        throw new GatewayError('CONFLICT', `request ${message.request?.id ?? ''} is known with other content`);
      case 'replaced-elsewhere':
        throw new GatewayError('CONFLICT', `${message.replaces ?? ''} is already named by ${knownTrackingNo}`);
      case 'repeat':
        if (state === 'received') await enqueue(runtime, adapter, knownTrackingNo);
        // the first answer may have been a 503 for want of replicas: the record is vouched for again
        await runtime.replicas.confirm(written);
        return { trackingNo: knownTrackingNo, repeated: true };
      case 'new':
        if (inScript.length > 0) await enqueue(runtime, adapter, trackingNo);
        // the index and the trace in one write, the job beside them
        else await Promise.all([runtime.traces.write(traceWrites), enqueue(runtime, adapter, trackingNo)]);
        await runtime.replicas.confirm(written);
        return { trackingNo, repeated: false };
    }
  } catch (error) {
    if (error instanceof GatewayError) throw error;
    throw storeUnavailable(runtime, error);
  }
}

async function enqueue(runtime: Runtime, adapter: PartnerAdapter, trackingNo: string): Promise<void> {
  await runtime.inboundQueue.add('process', { partner: adapter.id, trackingNo }, { ...INBOUND_JOB_OPTIONS, jobId: trackingNo });
}
