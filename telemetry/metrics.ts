import express, { type Request, type Response, type Router } from 'express';
import type { Job, Queue } from 'bullmq';
import type { CircuitBreakerPolicy } from 'cockatiel';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { PartnerId } from '../adapters/types.ts';
import { hexEquals } from '../kernel/crypto/digest.ts';
import { DAY_MS, beijingDate } from '../kernel/beijing-time.ts';
import type { Runtime } from '../server/runtime.ts';
import { connectedReplicas } from '../kernel/redis/replication.ts';
import { breakerStateName, type BreakerStateName, type DeliveryOutcome } from './statistics.ts';

/**
 * Prometheus metrics of one gateway process. Counters and histograms are this
 * process's own (Prometheus sums them over processes); queue and ledger gauges
 * are read from Redis at scrape time, so every process reports the same
 * gateway-wide figures for them.
 */

/** today and the next 7 days */
const LEDGER_DAYS = 8;
const BREAKER_VALUE: Record<BreakerStateName, number> = { closed: 0, 'half-open': 1, open: 2 };
/** job states that make up a queue's depth, as BullMQ's getJobCounts names them */
const QUEUE_STATES = ['waiting', 'active', 'delayed', 'prioritized', 'waiting-children', 'failed'] as const;

export interface GatewayMetrics {
  readonly registry: Registry;
  readonly requests: Counter<'partner' | 'status' | 'code'>;
  readonly deliveries: Counter<'partner' | 'outcome'>;
  readonly answerPaths: Counter<'partner' | 'path'>;
  readonly jobDuration: Histogram<'queue' | 'name' | 'outcome'>;
  readonly breakerState: Gauge<'partner'>;
}

// One registry per runtime, not prom-client's global one: tests run several
// gateways in one process, and each must count only its own.
const registries = new WeakMap<Runtime, GatewayMetrics>();

function allQueues(runtime: Runtime): Queue[] {
  return [runtime.inboundQueue, runtime.periodicQueue, ...Object.values(runtime.outboundQueues)];
}

/**
 * When a job now waiting became ready: a retried job has waited since its last
 * attempt's backoff ran out (approximately: the attempt's start plus the
 * backoff), a delayed one since its delay ran out, any other since it was added.
 */
function waitingSince(job: Job): number {
  const delay = job.delay ?? 0;
  if (job.attemptsMade > 0 && job.processedOn) return job.processedOn + delay;
  return job.timestamp + delay;
}

/**
 * A read of Redis made once per scrape. prom-client collects all metrics of a
 * registry at once, so the gauges filled by one read share the read in flight.
 * A read that fails leaves its gauges empty and says so in
 * `zzgw_metrics_collector_up`, rather than failing the whole scrape (this
 * process's own counters are still worth having).
 */
function perScrape(runtime: Runtime, up: Gauge<'collector'>, collector: string, read: () => Promise<void>): () => Promise<void> {
  let inFlight: Promise<void> | undefined;
  return () => {
    inFlight ??= read().then(
      () => {
        up.set({ collector }, 1);
      },
      (error: unknown) => {
        up.set({ collector }, 0);
        runtime.logger.debug('metrics collector failed', { collector, error: error instanceof Error ? error.message : String(error) });
      },
    ).finally(() => {
      inFlight = undefined;
    });
    return inFlight;
  };
}

function createMetrics(runtime: Runtime): GatewayMetrics {
  const registry = new Registry();
  const registers = [registry];
  // the scrape-time reads; defined below, called only when a scrape collects
  const collectors: Partial<Record<'queues' | 'ledger', () => Promise<void>>> = {};
  const collect = (name: 'queues' | 'ledger') => () => collectors[name]?.() ?? Promise.resolve();

  const up = new Gauge({
    name: 'zzgw_metrics_collector_up',
    help: '1 when the collector could read Redis at this scrape, else 0',
    labelNames: ['collector'],
    registers,
    async collect() {
      await Promise.all([collect('queues')(), collect('ledger')()]);
    },
  });

  const requests = new Counter({
    name: 'zzgw_partner_requests_total',
    help: 'Answers to partner requests, by partner, HTTP status and code (error catalog code, ACCEPTED or REPEATED)',
    labelNames: ['partner', 'status', 'code'],
    registers,
  });
  const deliveries = new Counter({
    name: 'zzgw_deliveries_total',
    help: 'Delivery attempts to partners by outcome: delivered, retry, refused, circuit-open (not attempted)',
    labelNames: ['partner', 'outcome'],
    registers,
  });
  const answerPaths = new Counter({
    name: 'zzgw_answer_paths_total',
    help: "Answers a deciding worker sent, by their first attempt's path: direct (from the job itself) or queued (direct delivery off, the partner paused after a failed or slow attempt, its circuit open, or too many in flight)",
    labelNames: ['partner', 'path'],
    registers,
  });
  const jobDuration = new Histogram({
    name: 'zzgw_job_duration_seconds',
    help: 'Time a worker spent on a job attempt, by queue, job name and outcome (completed, failed)',
    labelNames: ['queue', 'name', 'outcome'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers,
  });
  const breakerState = new Gauge({
    name: 'zzgw_breaker_state',
    help: 'Circuit breaker towards the partner in this process: 0 closed, 1 half-open, 2 open',
    labelNames: ['partner'],
    registers,
  });

  const queueJobs = new Gauge({ name: 'zzgw_queue_jobs', help: 'Jobs in a queue by state (all processes)', labelNames: ['queue', 'state'], registers, collect: collect('queues') });
  const oldestWaiting = new Gauge({
    name: 'zzgw_queue_oldest_waiting_seconds',
    help: 'How long the oldest waiting job of a queue has waited; 0 when none waits',
    labelNames: ['queue'],
    registers,
    collect: collect('queues'),
  });
  const ledgerBookings = new Gauge({
    name: 'zzgw_ledger_bookings',
    help: 'Bookings and holds by room and Beijing day, today and the next 7 days (a hall counts requests, not seats)',
    labelNames: ['room', 'day', 'kind'],
    registers,
    collect: collect('ledger'),
  });

  Object.assign(collectors, {
    queues: perScrape(runtime, up, 'queues', async () => {
      const queues = allQueues(runtime);
      const [counts, oldest] = await Promise.all([
        Promise.all(queues.map((queue) => queue.getJobCounts(...QUEUE_STATES))),
        // the wait list is FIFO: ascending, its first job is the oldest
        Promise.all(queues.map((queue) => queue.getJobs(['wait'], 0, 0, true))),
      ]);
      // BullMQ stamps jobs with the wall clock, so their age is taken by it too
      const now = Date.now();
      queueJobs.reset();
      oldestWaiting.reset();
      queues.forEach((queue, n) => {
        for (const state of QUEUE_STATES) queueJobs.set({ queue: queue.name, state }, counts[n]?.[state] ?? 0);
        const job = oldest[n]?.[0];
        oldestWaiting.set({ queue: queue.name }, job ? Math.max(0, (now - waitingSince(job)) / 1000) : 0);
      });
    }),
    ledger: perScrape(runtime, up, 'ledger', async () => {
      const rooms = runtime.config.ledger.rooms;
      // a hall's resources are its seats, `<hall>-NN`
      const roomOf = (resource: string) => rooms.find((room) => resource === room.id || (room.kind !== 'room' && resource.startsWith(`${room.id}-`)))?.id;
      const now = runtime.clock.now();
      // the days counted below, with a day's margin either side for Beijing time
      const window = { from: now - DAY_MS, to: now + (LEDGER_DAYS + 1) * DAY_MS };
      const [bookings, holds] = await Promise.all([runtime.ledger.bookings(window), runtime.redis.zrange(runtime.keys.ledger.holds, '0', '-1')]);
      const held = new Set(holds);
      const days = Array.from({ length: LEDGER_DAYS }, (_, n) => beijingDate(now + n * DAY_MS));
      // a hall booking occupies one resource per seat: its owner is counted once
      const owners = new Map<string, Set<string>>();
      for (const booking of bookings) {
        const room = roomOf(booking.resource);
        const day = beijingDate(booking.start);
        if (room === undefined || !days.includes(day)) continue;
        const key = `${room}|${day}|${held.has(booking.owner) ? 'hold' : 'booking'}`;
        const set = owners.get(key) ?? new Set<string>();
        set.add(booking.owner);
        owners.set(key, set);
      }
      ledgerBookings.reset();
      for (const room of rooms) {
        for (const day of days) {
          for (const kind of ['booking', 'hold']) ledgerBookings.set({ room: room.id, day, kind }, owners.get(`${room.id}|${day}|${kind}`)?.size ?? 0);
        }
      }
    }),
  });

  return { registry, requests, deliveries, answerPaths, jobDuration, breakerState };
}

/** This runtime's metrics, made on first use. */
export function metricsOf(runtime: Runtime): GatewayMetrics {
  let metrics = registries.get(runtime);
  if (!metrics) {
    metrics = createMetrics(runtime);
    registries.set(runtime, metrics);
  }
  return metrics;
}

/** Counts an answer to a partner. */
export function countRequest(runtime: Runtime, answer: { partner: PartnerId; status: number; code: string }): void {
  metricsOf(runtime).requests.inc({ partner: answer.partner, status: String(answer.status), code: answer.code });
}

/** Counts a delivery attempt's outcome. */
export function countDelivery(runtime: Runtime, partner: PartnerId, outcome: DeliveryOutcome): void {
  metricsOf(runtime).deliveries.inc({ partner, outcome });
}

/** Counts an answer by the path of its first attempt (queues/deliveries.ts). */
export function countAnswerPath(runtime: Runtime, partner: PartnerId, path: 'direct' | 'queued'): void {
  metricsOf(runtime).answerPaths.inc({ partner, path });
}

/** Observes how long a job attempt took, from BullMQ's own stamps. */
export function observeJob(runtime: Runtime, job: Job, outcome: 'completed' | 'failed'): void {
  if (!job.processedOn) return;
  // a failed attempt that will be retried may not carry finishedOn
  const finishedOn = job.finishedOn ?? Date.now();
  metricsOf(runtime).jobDuration.observe({ queue: job.queueName, name: job.name, outcome }, Math.max(0, finishedOn - job.processedOn) / 1000);
}

/** Keeps `zzgw_breaker_state` in step with this process's breakers; returns a function that stops it. */
export function watchBreakers(runtime: Runtime, breakers: Partial<Record<PartnerId, CircuitBreakerPolicy>>): () => void {
  const gauge = metricsOf(runtime).breakerState;
  const disposers = (Object.entries(breakers) as [PartnerId, CircuitBreakerPolicy][]).map(([partner, breaker]) => {
    gauge.set({ partner }, BREAKER_VALUE[breakerStateName(breaker.state)]);
    return breaker.onStateChange((state) => gauge.set({ partner }, BREAKER_VALUE[breakerStateName(state)]));
  });
  return () => {
    for (const disposer of disposers) disposer.dispose();
  };
}

export interface Readiness {
  ready: boolean;
  checks: {
    redis: 'ok' | 'unreachable';
    inboundWorkers: number | 'unknown';
    /** with REDIS_WAIT_REPLICAS only */
    replicas?: { connected: number | 'unknown'; required: number };
  };
}

/**
 * Ready when Redis answers and at least one worker (in any process) serves the
 * inbound queue: without one, accepted messages would only pile up. With
 * REDIS_WAIT_REPLICAS, the master must also have that many replicas: without
 * them every message is answered 503.
 */
export async function readiness(runtime: Runtime): Promise<Readiness> {
  const required = runtime.config.redis.waitReplicas;
  const [ping, workers, replicas] = await Promise.allSettled([
    runtime.redis.ping(),
    runtime.inboundQueue.getWorkersCount(),
    required > 0 ? connectedReplicas(runtime.redis) : Promise.resolve(0),
  ]);
  const redis = ping.status === 'fulfilled' ? 'ok' : 'unreachable';
  const inboundWorkers = workers.status === 'fulfilled' ? workers.value : 'unknown';
  const connected = replicas.status === 'fulfilled' ? replicas.value : 'unknown';
  const checks: Readiness['checks'] = { redis, inboundWorkers, ...(required > 0 ? { replicas: { connected, required } } : {}) };
  return { ready: redis === 'ok' && typeof inboundWorkers === 'number' && inboundWorkers > 0 && !replicasShort(checks), checks };
}

function replicasShort({ replicas }: Readiness['checks']): boolean {
  return replicas !== undefined && !(typeof replicas.connected === 'number' && replicas.connected >= replicas.required);
}

/**
 * GET /metrics and GET /readyz.
 *
 * /metrics wants the X-Api-Key of the center's systems (or the same key as
 * `Authorization: Bearer`, which every Prometheus can send). Not "loopback
 * only": behind a reverse proxy on the same host every request comes from
 * loopback, so that rule would open the endpoint to whatever the proxy lets
 * in; and a Prometheus on another host could not scrape at all. Queue depths,
 * partner names and error rates are reconnaissance for an attacker.
 */
export function probeRoutes(runtime: Runtime): Router {
  const router = express.Router();
  const apiKey = runtime.config.localApiKey;

  router.get('/metrics', async (req: Request, res: Response) => {
    const bearer = /^Bearer\s+(.+)$/i.exec(req.header('authorization') ?? '')?.[1] ?? '';
    const given = req.header('x-api-key') ?? bearer;
    if (apiKey === null || !hexEquals(apiKey, given)) {
      res.status(401).type('application/problem+json').json({ title: 'Missing or wrong X-Api-Key', status: 401 });
      return;
    }
    const { registry } = metricsOf(runtime);
    const body = await registry.metrics();
    res.type(registry.contentType).send(body);
  });

  router.get('/readyz', async (_req: Request, res: Response) => {
    const { ready, checks } = await readiness(runtime);
    if (ready) {
      res.json({ status: 'ready', checks });
      return;
    }
    const failed = [
      ...(checks.redis === 'ok' ? [] : ['redis unreachable']),
      ...(checks.redis === 'ok' && checks.inboundWorkers === 'unknown' ? ['inbound workers unknown'] : []),
      ...(checks.inboundWorkers === 0 ? ['no inbound worker'] : []),
      ...(checks.redis === 'ok' && replicasShort(checks) ? [`${checks.replicas?.connected} of ${checks.replicas?.required} Redis replicas`] : []),
    ];
    res.status(503).json({ status: failed.join(', ') || 'not ready', checks });
  });

  return router;
}
