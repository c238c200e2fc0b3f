import { once } from 'node:events';
import type { Server } from 'node:http';
import { config as processConfig, ConfigError } from '../config/index.ts';
import type { WorkerSet } from '../workers/index.ts';
import type { Scheduler } from '../workers/scheduler.ts';
import { processMetricsApp } from '../gateway/probes.ts';
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

  // Without the api role a process has no /metrics on PORT, yet its workers count
  // deliveries, job durations and breaker states: it listens on METRICS_PORT
  // before taking any job, so a port already taken stops it before it works unseen.
  let metricsServer: Server | undefined;
  let metricsPort: number | undefined;
  if (!roles.has('api')) {
    const listener = processMetricsApp(runtime).listen(config.metricsPort, config.host);
    const refused = (error: NodeJS.ErrnoException) => {
      console.error(`zzgw: cannot listen for /metrics on ${config.host}:${config.metricsPort} (METRICS_PORT): ${error.code ?? error.message}; give each process without the api role on this host its own METRICS_PORT (0 picks a free one)`);
      process.exit(78);
    };
    listener.once('error', refused);
    await once(listener, 'listening');
    listener.off('error', refused);
    metricsServer = listener;
    const address = listener.address();
    metricsPort = typeof address === 'object' && address ? address.port : config.metricsPort;
    runtime.logger.info('metrics listening', { url: `http://${config.host}:${metricsPort}/metrics`, roles: [...roles] });
  }

  // A process loads the modules of its own roles only: the api's Express app, dashboard,
  // bull-board and API descriptions are a worker's largest share of unused heap, and
  // node-cron and the job handlers the api's (bench/README.md, issue 16, fifth round).
  const [gatewayApp, workerSet, periodic] = await Promise.all([
    roles.has('api') ? import('../gateway/app.ts') : undefined,
    roles.has('worker') ? import('../workers/index.ts') : undefined,
    roles.has('scheduler') ? import('../workers/scheduler.ts') : undefined,
  ]);

  if (periodic) scheduler = periodic.startScheduler(runtime);

  if (workerSet) {
    workers = workerSet.startWorkers(runtime);
    await Promise.all(workers.workers.map((worker) => worker.waitUntilReady()));
    if (!roles.has('api')) process.send?.({ type: 'ready', metricsPort });
  }
  // A cluster client answers 503 until it knows the slot map; a Redis that is down
  // is no reason not to listen (partners then get 503 and retry), hence the bound.
  await Promise.race([runtime.ready(), new Promise((resolve) => setTimeout(resolve, 5000).unref())]);
  // a scheduler alone has no worker to wait for: it is up once its connections are
  if (!roles.has('api') && !roles.has('worker')) process.send?.({ type: 'ready', metricsPort });

  if (gatewayApp) {
    const app = gatewayApp.createApp(runtime);
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
    // scraped until the jobs in flight are done, so their last counts can still be read
    await new Promise<void>((resolve) => (metricsServer ? metricsServer.close(() => resolve()) : resolve()));
    await runtime.close();
    runtime.logger.info('stopped', { signal });
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

await main();
