import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { GatewayConfig } from '../config/index.ts';
import { createAdapters } from '../adapters/registry.ts';
import { HostRoutes } from '../usecases/host-routing.ts';
import type { PartnerId } from '../adapters/types.ts';
import { WorkCalendar } from '../ledger/calendar.ts';
import { RoomLedger } from '../ledger/index.ts';
import { AuditLog } from '../stores/audit.ts';
import { AvailabilitySnapshotStore } from '../stores/availability-snapshots.ts';
import { StrandedSweepStore } from '../stores/stranded-sweeps.ts';
import { HostEvaluationStore } from '../stores/host-evaluations.ts';
import type { HostEvaluationRecord } from '../usecases/hosting/record.ts';
import { MessageStore } from '../stores/messages.ts';
import { ReconciliationRunStore } from '../stores/reconciliation-runs.ts';
import { RefusedRequestStore } from '../stores/refused-requests.ts';
import { SeatRequestStore } from '../stores/seat-requests.ts';
import { Telemetry } from '../telemetry/index.ts';
import type { Runtime } from '../usecases/runtime.ts';
import { DeadLetterStore } from '../stores/dead-letters.ts';
import { INBOUND_QUEUE, outboundQueue, PERIODIC_QUEUE } from '../queues/names.ts';
import { systemClock, type Clock } from '../kernel/clock.ts';
import { FieldCipher } from '../kernel/crypto/field-cipher.ts';
import { Keys } from '../kernel/redis/keys.ts';
import { createLogger, type Logger } from '../kernel/logger.ts';
import { createRedis } from '../kernel/redis/client.ts';
import { connectedReplicas, ReplicaAcknowledgement } from '../kernel/redis/replication.ts';
import { PendingCounters } from '../telemetry/pending-counters.ts';
import { TraceStore } from '../stores/traces.ts';

export interface RuntimeOptions {
  clock?: Clock;
  logger?: Logger;
}

export function createRuntime(config: Readonly<GatewayConfig>, options: RuntimeOptions = {}): Runtime {
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? createLogger(config.logLevel, { service: 'zzgw' });
  const keys = new Keys(config.redis.namespace);
  const redis = createRedis(config.redis, 'command');
  const queueConnection = createRedis(config.redis, 'queue');
  const adapters = createAdapters({ config, clock });
  const hostRoutes = new HostRoutes(config.hosting.routes, adapters);
  const queueOptions = { connection: queueConnection, prefix: keys.queuePrefix };
  const inboundQueue = new Queue(INBOUND_QUEUE, queueOptions);
  const periodicQueue = new Queue(PERIODIC_QUEUE, queueOptions);
  const outboundQueues = Object.fromEntries(
    Object.keys(adapters).map((partner) => [partner, new Queue(outboundQueue(partner as PartnerId), queueOptions)]),
  ) as Record<PartnerId, Queue>;
  for (const queue of [inboundQueue, periodicQueue, ...Object.values(outboundQueues)]) {
    queue.on('error', (error) => logger.warn('queue connection error', { queue: queue.name, error: error.message }));
  }
  const now = () => clock.now();
  const counters = new PendingCounters(redis, (error) =>
    logger.debug('operational statistics not written', { error: error instanceof Error ? error.message : String(error) }),
  );
  const audit = new AuditLog(redis, keys, now, {
    backlog: config.audit.appendBacklog,
    onError: (error) => logger.warn('audit summaries not written yet', { error: error instanceof Error ? error.message : String(error) }),
  });
  audit.start();
  // one key for every sealed field: the raw messages, refused requests and the personal data of host evaluations
  const cipher = new FieldCipher(config.dataEncryptionKey);
  const telemetry = new Telemetry({ redis, keys, clock, logger, counters, audit, partners: Object.keys(adapters) as PartnerId[], retentionDays: config.periodic.retentionDays });
  return {
    config,
    clock,
    logger,
    keys,
    redis,
    adapters,
    hostRoutes,
    ledger: new RoomLedger(redis, keys, config.ledger.rooms, config.ledger.bufferMinutes),
    calendar: new WorkCalendar(config.ledger.closedDates),
    seatRequests: new SeatRequestStore(redis, keys),
    messages: new MessageStore(redis, keys, cipher),
    personalData: cipher,
    audit,
    refusedRequests: new RefusedRequestStore(redis, keys, cipher, now, config.refusedRequests),
    availability: new AvailabilitySnapshotStore(redis, keys, now),
    reconciliations: new ReconciliationRunStore(redis, keys),
    strandedSweeps: new StrandedSweepStore(redis, keys, now),
    hostEvaluations: new HostEvaluationStore<HostEvaluationRecord>(redis, keys),
    telemetry,
    periodicQueue,
    traces: new TraceStore(redis, keys, now),
    deadLetters: new DeadLetterStore(redis, keys, now),
    inboundQueue,
    outboundQueues,
    counters,
    replicas: new ReplicaAcknowledgement(config.redis, [redis, queueConnection], { barrierKey: keys.replicationBarrier, retryAfterMs: config.intake.retryAfterSeconds * 1000 }),
    queueConnection,
    async ready() {
      await Promise.all(
        [redis, queueConnection].map((connection) =>
          connection.status === 'ready' ? Promise.resolve() : new Promise<void>((resolve) => connection.once('ready', () => resolve())),
        ),
      );
      await warnOfMissingReplicas(redis, config.redis.waitReplicas, logger);
    },
    async close() {
      await counters.flush();
      await audit.close();
      await Promise.allSettled([inboundQueue.close(), periodicQueue.close(), ...Object.values(outboundQueues).map((queue) => queue.close())]);
      redis.disconnect();
      queueConnection.disconnect();
    },
  };
}

/** With fewer replicas than REDIS_WAIT_REPLICAS, every message would be answered 503: say so at start. */
async function warnOfMissingReplicas(redis: Redis, wanted: number, logger: Logger): Promise<void> {
  if (wanted === 0) return;
  try {
    const connected = await connectedReplicas(redis);
    if (connected < wanted) logger.error('fewer replicas than REDIS_WAIT_REPLICAS: partners get 503 until they connect', { connected, wanted });
  } catch (error) {
    logger.warn('replicas not counted', { error: error instanceof Error ? error.message : String(error) });
  }
}
