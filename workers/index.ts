import { Worker, type Job } from 'bullmq';
import type { CircuitBreakerPolicy } from 'cockatiel';
import type { PartnerId } from '../adapters/types.ts';
import { createRedis } from '../kernel/redis/client.ts';
import type { OutboundJobs } from '../queues/catalog.ts';
import { INBOUND_QUEUE, outboundQueue, PERIODIC_QUEUE } from '../queues/names.ts';
import { createBreaker } from '../usecases/delivery/attempt.ts';
import { partnerBackoff, retryHorizonMs } from '../usecases/delivery/backoff.ts';
import { DirectDeliveries } from '../usecases/delivery/direct.ts';
import type { Runtime } from '../usecases/runtime.ts';
import { processInboundJob } from './inbound.ts';
import { processOutboundJob } from './outbound.ts';
import { processPeriodicJob } from './periodic.ts';

export interface WorkerSet {
  workers: Worker[];
  /** this process's circuit breaker per partner */
  breakers: Record<PartnerId, CircuitBreakerPolicy>;
  /** Lets jobs in flight finish, up to `timeoutMs`; then closes anyway (they will be resumed elsewhere). */
  close(timeoutMs?: number): Promise<void>;
}

/** Starts the inbound worker and one outbound worker per partner. */
export function startWorkers(runtime: Runtime): WorkerSet {
  const { config, keys } = runtime;
  const connection = createRedis(config.redis, 'worker');
  // A worker killed mid-job stops renewing its lock: after lockDuration the job is
  // stalled, and the next stalled check (every stalledInterval) in any live worker
  // takes it over — at most lockDuration + stalledInterval later (15 s by default).
  const common = {
    connection,
    prefix: keys.queuePrefix,
    concurrency: config.workers.concurrency,
    lockDuration: config.workers.lockDurationMs,
    stalledInterval: config.workers.stalledIntervalMs,
    maxStalledCount: 3,
  };
  const workers: Worker[] = [];


  workers.push(
    new Worker(
      PERIODIC_QUEUE,
      (job: Job) => processPeriodicJob(runtime, job),
      { ...common, concurrency: 1 },
    ),
  );

  const partners = Object.keys(runtime.adapters) as PartnerId[];
  const breakers = Object.fromEntries(partners.map((partner) => [partner, createBreaker(runtime, partner)])) as Record<PartnerId, CircuitBreakerPolicy>;
  // answers are first tried at once, through this process's breakers (usecases/delivery/direct.ts)
  const direct = new DirectDeliveries(runtime, breakers);
  workers.unshift(
    new Worker(INBOUND_QUEUE, (job) => processInboundJob(runtime, job as Parameters<typeof processInboundJob>[1], (message, trackingNo, jobId, pending) => direct.send(message, trackingNo, jobId, pending)), common),
  );
  for (const partner of partners) {
    const delivery = config.partners[partner].delivery;
    workers.push(
      new Worker(outboundQueue(partner), (job: Job<OutboundJobs['deliver']>, token?: string) => processOutboundJob(runtime, breakers, job, token), {
        ...common,
        settings: {
          backoffStrategy: partnerBackoff(delivery.backoffBaseMs, delivery.backoffMaxMs, Math.random, {
            doublings: delivery.attempts,
            horizonMs: retryHorizonMs(delivery),
            now: () => runtime.clock.now(),
          }),
        },
      }),
    );
  }
  for (const worker of workers) {
    worker.on('error', (error) => runtime.logger.warn('worker error', { queue: worker.name, error: error.message }));
    worker.on('completed', (job) => runtime.telemetry.jobFinished(job, 'completed'));
    worker.on('failed', (job) => {
      if (job) runtime.telemetry.jobFinished(job, 'failed');
    });
  }
  // breaker states: this process's in /metrics, every process's in Redis for the dashboard
  const breakerWatch = runtime.telemetry.watchBreakers(breakers);
  return {
    workers,
    breakers,
    async close(timeoutMs = config.workers.shutdownTimeoutMs) {
      await breakerWatch.stop();
      const within = async (promise: Promise<unknown>, ms: number): Promise<boolean> => {
        let timer: NodeJS.Timeout | undefined;
        const timedOut = new Promise<boolean>((resolve) => {
          timer = setTimeout(() => resolve(false), ms);
        });
        const finished = await Promise.race([promise.then(() => true), timedOut]);
        clearTimeout(timer);
        return finished;
      };
      if (!(await within(Promise.allSettled(workers.map((worker) => worker.close())), timeoutMs))) {
        runtime.logger.warn('jobs still in flight at the shutdown bound: closing anyway, they will be resumed elsewhere', { timeoutMs });
        // BullMQ hands back the close already under way, which can wait forever on a
        // connection caught between reconnects (ioredis#1247): bound the forced close too
        await within(Promise.allSettled(workers.map((worker) => worker.close(true))), 2000);
      }
      connection.disconnect();
    },
  };
}
