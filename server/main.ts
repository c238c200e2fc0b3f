import type { Server } from 'node:http';
import { config as processConfig, ConfigError } from '../config/index.ts';
import { startWorkers, type WorkerSet } from '../workers/index.ts';
import { startScheduler, type Scheduler } from '../workers/scheduler.ts';
import { createApp } from '../gateway/app.ts';
import { createRuntime } from './runtime.ts';

/** Runs the roles of this process (api, worker, scheduler) until SIGTERM or SIGINT. */
async function main(): Promise<void> {
  let config;
  try {
    config = processConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`zzgw: ${error.message}`);
      process.exit(78);
    }
    throw error;
  }
  const runtime = createRuntime(config);
  const roles = new Set(config.role);
  let server: Server | undefined;
  let workers: WorkerSet | undefined;
  let scheduler: Scheduler | undefined;

  if (roles.has('scheduler')) scheduler = startScheduler(runtime);

  if (roles.has('worker')) {
    workers = startWorkers(runtime);
    await Promise.all(workers.workers.map((worker) => worker.waitUntilReady()));
    if (!roles.has('api')) process.send?.({ type: 'ready' });
  }
  // A cluster client answers 503 until it knows the slot map; a Redis that is down
  // is no reason not to listen (partners then get 503 and retry), hence the bound.
  await Promise.race([runtime.ready(), new Promise((resolve) => setTimeout(resolve, 5000).unref())]);
  // a scheduler alone has no worker to wait for: it is up once its connections are
  if (!roles.has('api') && !roles.has('worker')) process.send?.({ type: 'ready' });

  if (roles.has('api')) {
    const app = createApp(runtime);
    server = app.listen(config.port, config.host, () => {
      const address = server?.address();
      const port = typeof address === 'object' && address ? address.port : config.port;
      runtime.logger.info('gateway listening', { url: `http://${config.host}:${port}`, roles: [...roles] });
      process.send?.({ type: 'listening', port });
    });
  }

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) {
      runtime.logger.warn('second signal: stopping at once', { signal });
      process.exit(1);
    }
    stopping = true;
    runtime.logger.info('stopping', { signal });
    // stop accepting first; keep-alive connections are closed once idle
    const closed = new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    server?.closeIdleConnections();
    await scheduler?.stop();
    await workers?.close();
    await closed;
    await runtime.close();
    runtime.logger.info('stopped', { signal });
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

await main();
