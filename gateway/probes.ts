import express, { type Express, type NextFunction, type Request, type Response, type Router } from 'express';
import type { Queue } from 'bullmq';
import { Gauge, type Registry } from 'prom-client';
import { DAY_MS, beijingDate } from '../kernel/beijing-time.ts';
import { hexEquals } from '../kernel/crypto/digest.ts';
import { connectedReplicas } from '../kernel/redis/replication.ts';
import type { PartnerId } from '../adapters/types.ts';
import { waitingAnswers, waitingSince } from '../queues/waiting.ts';
import type { Runtime } from '../usecases/runtime.ts';
import { problem } from './problem.ts';

/** today and the next 7 days */
const LEDGER_DAYS = 8;
/** an outbound queue's jobs read per state to find the oldest waiting answer (as the overview reads them) */
const WAITING_ANSWERS_SCAN = 1000;
/** job states that make up a queue's depth, as BullMQ's getJobCounts names them */
const QUEUE_STATES = ['waiting', 'active', 'delayed', 'prioritized', 'waiting-children', 'failed'] as const;

function allQueues(runtime: Runtime): Queue[] {
  return [runtime.inboundQueue, runtime.periodicQueue, ...Object.values(runtime.outboundQueues)];
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

/**
 * The gauges read from Redis at scrape time, registered once per registry
 * beside the process's own series, by api processes only (probeRoutes):
 * queue and ledger figures are the whole gateway's, not the process's, so a
 * worker exporting them too would only repeat them once per worker, and cost
 * Redis the same reads again at every scrape of every worker.
 */
const withScrapeGauges = new WeakSet<Registry>();

function registerScrapeGauges(runtime: Runtime): void {
  const { registry } = runtime.telemetry.metrics;
  if (withScrapeGauges.has(registry)) return;
  withScrapeGauges.add(registry);
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

  const queueJobs = new Gauge({ name: 'zzgw_queue_jobs', help: 'Jobs in a queue by state (all processes)', labelNames: ['queue', 'state'], registers, collect: collect('queues') });
  const oldestWaiting = new Gauge({
    name: 'zzgw_queue_oldest_waiting_seconds',
    help: 'How long the oldest waiting job of a queue has waited; 0 when none waits',
    labelNames: ['queue'],
    registers,
    collect: collect('queues'),
  });
  const answersWaiting = new Gauge({
    name: 'zzgw_answers_waiting',
    help: 'Answers to a partner queued and not delivered yet (waiting, active, delayed: retrying or waiting for the circuit), all processes',
    labelNames: ['partner'],
    registers,
    collect: collect('queues'),
  });
  const answersOldest = new Gauge({
    name: 'zzgw_answers_oldest_waiting_seconds',
    help: "How long ago the oldest answer still waiting for a partner was first tried or queued (its retry horizon runs from then); 0 when none waits",
    labelNames: ['partner'],
    registers,
    collect: collect('queues'),
  });
  new Gauge({
    name: 'zzgw_stranded_requeued_total',
    help: 'Accepted messages found without their inbound job (removed from the queue board, say) and queued again by the stranded sweep, since the first sweep',
    registers,
    async collect() {
      // a failed read keeps the last figure: zzgw_metrics_collector_up says when Redis could not be read
      const summary = await runtime.strandedSweeps.summary().catch(() => undefined);
      if (summary) this.set(summary.requeuedTotal);
    },
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
      const partners = Object.keys(runtime.outboundQueues) as PartnerId[];
      const [counts, oldest, answers] = await Promise.all([
        Promise.all(queues.map((queue) => queue.getJobCounts(...QUEUE_STATES))),
        // the wait list is FIFO: ascending, its first job is the oldest
        Promise.all(queues.map((queue) => queue.getJobs(['wait'], 0, 0, true))),
        Promise.all(partners.map((partner) => waitingAnswers(runtime.outboundQueues[partner], WAITING_ANSWERS_SCAN))),
      ]);
      // first attempts are stamped by the gateway's clock
      const clockNow = runtime.clock.now();
      answersWaiting.reset();
      answersOldest.reset();
      partners.forEach((partner, n) => {
        const waiting = answers[n];
        answersWaiting.set({ partner }, waiting?.count ?? 0);
        answersOldest.set({ partner }, waiting === undefined || waiting.oldestSince === null ? 0 : Math.max(0, (clockNow - waiting.oldestSince) / 1000));
      });
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
      const bookings = await runtime.ledger.bookings(window);
      const held = await runtime.ledger.heldOwners(bookings.map((booking) => booking.owner));
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

/** GET /metrics: this process's registry, behind LOCAL_API_KEY (X-Api-Key, or Authorization: Bearer). */
function metricsHandler(runtime: Runtime): (req: Request, res: Response) => Promise<void> {
  const apiKey = runtime.config.localApiKey;
  return async (req, res) => {
    const bearer = /^Bearer\s+(.+)$/i.exec(req.header('authorization') ?? '')?.[1] ?? '';
    const given = req.header('x-api-key') ?? bearer;
    if (apiKey === null || !hexEquals(apiKey, given)) {
      problem(res, 401, 'Missing or wrong X-Api-Key');
      return;
    }
    const { registry } = runtime.telemetry.metrics;
    const body = await registry.metrics();
    res.type(registry.contentType).send(body);
  };
}

/**
 * The listener of a process without the api role (METRICS_PORT): only GET
 * /metrics, with the same key as the api's, and GET /healthz. Workers count
 * deliveries, job durations, answer paths and breaker states in their own
 * registry; without it those series would never reach Prometheus. It serves
 * the process's own series only: the gateway-wide gauges read from Redis are
 * the api processes' to export (registerScrapeGauges), so they are not counted
 * once more per worker.
 */
export function processMetricsApp(runtime: Runtime): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.get('/healthz', (_req: Request, res: Response) => {
    res.json({ status: 'ok' });
  });
  app.get('/metrics', metricsHandler(runtime));
  app.use((_req: Request, res: Response) => {
    problem(res, 404, 'Not found');
  });
  // as in the api's app: no stack trace leaves the process
  app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    runtime.logger.error('unhandled error', { error });
    problem(res, 500, 'Internal error');
  });
  return app;
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
  registerScrapeGauges(runtime);
  router.get('/metrics', metricsHandler(runtime));

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
