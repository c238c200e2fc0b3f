import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { GatewayConfig } from '../config/index.ts';
import type { AdapterRegistry } from '../adapters/registry.ts';
import type { PartnerId } from '../adapters/types.ts';
import type { Clock } from '../kernel/clock.ts';
import type { FieldCipher } from '../kernel/crypto/field-cipher.ts';
import type { Logger } from '../kernel/logger.ts';
import type { Keys } from '../kernel/redis/keys.ts';
import type { ReplicaAcknowledgement } from '../kernel/redis/replication.ts';
import type { WorkCalendar } from '../ledger/calendar.ts';
import type { RoomLedger } from '../ledger/index.ts';
import type { AuditLog } from '../stores/audit.ts';
import type { AvailabilitySnapshotStore } from '../stores/availability-snapshots.ts';
import type { StrandedSweepStore } from '../stores/stranded-sweeps.ts';
import type { DeadLetterStore } from '../stores/dead-letters.ts';
import type { MessageStore } from '../stores/messages.ts';
import type { ReconciliationRunStore } from '../stores/reconciliation-runs.ts';
import type { RefusedRequestStore } from '../stores/refused-requests.ts';
import type { SeatRequestStore } from '../stores/seat-requests.ts';
import type { TraceStore } from '../stores/traces.ts';
import type { Telemetry } from '../telemetry/index.ts';
import type { PendingCounters } from '../telemetry/pending-counters.ts';
import type { HostRoutes } from './host-routing.ts';
import type { HostEvaluationStore } from '../stores/host-evaluations.ts';
import type { HostEvaluationRecord } from './hosting/record.ts';

/** Everything a gateway process shares: built once at start, closed once at stop. */
export interface Runtime {
  config: Readonly<GatewayConfig>;
  clock: Clock;
  logger: Logger;
  keys: Keys;
  /** fast-failing connection for requests that answer a partner */
  redis: Redis;
  adapters: AdapterRegistry;
  /** which partner reaches each guest center when Zhuzhou hosts */
  hostRoutes: HostRoutes;
  ledger: RoomLedger;
  calendar: WorkCalendar;
  seatRequests: SeatRequestStore;
  /** the partners' messages as received (records, idempotency keys) */
  messages: MessageStore;
  /** seals personal data kept at rest outside the raw messages (a host evaluation's agent contact and phone) */
  personalData: FieldCipher;
  audit: AuditLog;
  /** the last refused requests of each partner, sealed, for the message lab */
  refusedRequests: RefusedRequestStore;
  /** each partner's latest availability */
  availability: AvailabilitySnapshotStore;
  reconciliations: ReconciliationRunStore;
  /** what the sweeps for messages that lost their job found */
  strandedSweeps: StrandedSweepStore;
  /** Zhuzhou as host: one document an evaluation (usecases/hosting) */
  hostEvaluations: HostEvaluationStore<HostEvaluationRecord>;
  /** one call per event: Prometheus series and the statistics in Redis */
  telemetry: Telemetry;
  periodicQueue: Queue;
  traces: TraceStore;
  deadLetters: DeadLetterStore;
  inboundQueue: Queue;
  outboundQueues: Record<PartnerId, Queue>;
  /** this process's statistics counters on their way to Redis (close() writes them) */
  counters: PendingCounters;
  /** the connection the queues above add jobs through */
  queueConnection: Redis;
  /** waits for the replicas (REDIS_WAIT_REPLICAS) before a write is made known outside */
  replicas: ReplicaAcknowledgement;
  /** resolves once the command and queue connections are up (they fail fast, not queue, while down) */
  ready(): Promise<void>;
  close(): Promise<void>;
}
