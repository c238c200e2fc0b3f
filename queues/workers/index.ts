import { Worker, type Job } from 'bullmq';
import type { OutboundJobs } from '../catalog.ts';
import type { CircuitBreakerPolicy } from 'cockatiel';
import type { PartnerId } from '../../adapters/types.ts';
import { createRedis } from '../../gateway/core/redis.ts';
import type { Runtime } from '../../gateway/core/runtime.ts';
import { INBOUND_QUEUE, outboundQueue, PERIODIC_QUEUE } from '../names.ts';
import type { PeriodicJobs } from '../catalog.ts';
import { pollAvailability, publishAvailability } from './availability.ts';
import { partnerBackoff } from './failure.ts';
import { processInboundJob } from './inbound.ts';
import { createBreaker, processOutboundJob } from './outbound.ts';

export interface WorkerSet {
  workers: Worker[];
  close(): Promise<void>;
}

/** Starts the inbound worker and one outbound worker per partner. */
export function startWorkers(runtime: Runtime): WorkerSet {
  const { config, keys } = runtime;
  const connection = createRedis(config.redis, 'worker');
  const common = { connection, prefix: keys.queuePrefix, concurrency: config.workers.concurrency };
  const workers: Worker[] = [];

  workers.push(
    new Worker(INBOUND_QUEUE, (job) => processInboundJob(runtime, job as Parameters<typeof processInboundJob>[1]), common),
  );

  workers.push(
    new Worker(
      PERIODIC_QUEUE,
      async (job: Job) => {
        switch (job.name as keyof PeriodicJobs) {
          case 'availability-poll':
            return pollAvailability(runtime, (job.data as PeriodicJobs['availability-poll']).partner);
          case 'availability-publish':
            return publishAvailability(runtime, job.id ?? String(job.timestamp));
        }
        runtime.logger.error('periodic job without a handler', { job: job.name });
      },
      { ...common, concurrency: 1 },
    ),
  );

  const partners = Object.keys(runtime.adapters) as PartnerId[];
  const breakers = Object.fromEntries(partners.map((partner) => [partner, createBreaker(runtime, partner)])) as Record<PartnerId, CircuitBreakerPolicy>;
  for (const partner of partners) {
    const delivery = config.partners[partner].delivery;
    workers.push(
      new Worker(outboundQueue(partner), (job: Job<OutboundJobs['deliver']>) => processOutboundJob(runtime, breakers, job), {
        ...common,
        settings: { backoffStrategy: partnerBackoff(delivery.backoffBaseMs, delivery.backoffMaxMs) },
      }),
    );
  }
  for (const worker of workers) {
    worker.on('error', (error) => runtime.logger.warn('worker error', { queue: worker.name, error: error.message }));
  }
  return {
    workers,
    async close() {
      await Promise.allSettled(workers.map((worker) => worker.close()));
      connection.disconnect();
    },
  };
}
