import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { loadConfig, type GatewayConfig } from '../../config/index.ts';
import { createApp } from '../../gateway/app.ts';
import type { Clock } from '../../kernel/clock.ts';
import { createLogger } from '../../kernel/logger.ts';
import { createRuntime } from '../../server/runtime.ts';
import type { Runtime } from '../../usecases/runtime.ts';
import { startPrivateSentinel, type PrivateSentinel } from '../../scripts/lib/private-sentinel.ts';
import { startWorkers, type WorkerSet } from '../../workers/index.ts';
import { ProvinceSimulator } from '../simulators/province.ts';
import { ProvinceClient } from '../simulators/province-traffic.ts';
import { ChangshaSimulator } from '../simulators/changsha.ts';
import { ChangshaClient } from '../simulators/changsha-client.ts';

export const INBOUND_SECRET = 'province-inbound-test-secret-01';
export const OUTBOUND_SECRET = 'zhuzhou-outbound-test-secret-01';
export const API_KEY = 'local-api-key-for-tests-0001';
/** Changsha's side of the key exchange, as the simulator and the gateway share it */
export const CHANGSHA = {
  clientId: 'zhuzhou-gateway',
  clientSecret: 'changsha-client-secret-test-01',
  inboundKeyId: 'changsha-key-1',
  inboundSecret: 'changsha-inbound-test-secret-01',
  inboundPreviousSecret: 'changsha-inbound-test-secret-00',
  outboundKeyId: 'zhuzhou-key-1',
  outboundSecret: 'zhuzhou-outbound-test-secret-01',
} as const;
/** The Changsha simulator's side of those credentials: what it checks of Zhuzhou and signs its own events with. */
export const CHANGSHA_SIMULATOR = {
  clientId: CHANGSHA.clientId,
  clientSecret: CHANGSHA.clientSecret,
  zhuzhouKeyId: CHANGSHA.outboundKeyId,
  zhuzhouSecret: CHANGSHA.outboundSecret,
  changshaKeyId: CHANGSHA.inboundKeyId,
  changshaSecret: CHANGSHA.inboundSecret,
} as const;
const DATA_KEY = Buffer.alloc(32, 9).toString('base64');

export function testRedisUrl(): string {
  const url = process.env['TEST_REDIS_URL'];
  if (!url) throw new Error('root hooks did not start Redis');
  return url;
}

/**
 * A worker process beside `gateway` (same namespace and simulators) that a test
 * may kill mid-delivery: a call that hangs stays in flight until the process
 * dies, and a dead worker's jobs are taken over within 2 + 1 s (the defaults,
 * 10 + 5 s, would slow the suite down).
 */
export function killableWorkerEnv(gateway: TestGateway): Record<string, string> {
  return {
    ...testEnv(gateway.config.redis.namespace, gateway.simulator.url, undefined, gateway.changshaSimulator.url),
    GATEWAY_ROLE: 'worker',
    PROVINCE_TIMEOUT_MS: '60000',
    CHANGSHA_TIMEOUT_MS: '60000',
    WORKER_LOCK_DURATION_MS: '2000',
    WORKER_STALLED_INTERVAL_MS: '1000',
  };
}

/** Environment of one isolated gateway: its own namespace, so its own keys and queues. */
export function testEnv(namespace: string, provinceUrl: string, redisUrl = testRedisUrl(), changshaUrl = 'http://127.0.0.1:9'): Record<string, string> {
  return {
    CHANGSHA_BASE_URL: changshaUrl,
    CHANGSHA_CLIENT_ID: CHANGSHA.clientId,
    CHANGSHA_CLIENT_SECRET: CHANGSHA.clientSecret,
    CHANGSHA_INBOUND_KEY_ID: CHANGSHA.inboundKeyId,
    CHANGSHA_INBOUND_SECRET: CHANGSHA.inboundSecret,
    CHANGSHA_INBOUND_PREVIOUS_SECRET: CHANGSHA.inboundPreviousSecret,
    CHANGSHA_OUTBOUND_KEY_ID: CHANGSHA.outboundKeyId,
    CHANGSHA_OUTBOUND_SECRET: CHANGSHA.outboundSecret,
    CHANGSHA_BACKOFF_BASE_MS: '20',
    CHANGSHA_BACKOFF_MAX_MS: '200',
    CHANGSHA_TIMEOUT_MS: '1000',
    CHANGSHA_BREAKER_HALF_OPEN_MS: '50',
    CHANGSHA_AVAILABILITY_DEBOUNCE_MS: '50',
    REDIS_URL: redisUrl,
    REDIS_NAMESPACE: namespace,
    PROVINCE_BASE_URL: provinceUrl,
    PROVINCE_INBOUND_SECRET: INBOUND_SECRET,
    PROVINCE_OUTBOUND_SECRET: OUTBOUND_SECRET,
    DATA_ENCRYPTION_KEY: DATA_KEY,
    LOCAL_API_KEY: API_KEY,
    OPS_SESSION_SECRET: 'ops-session-secret-for-tests-0123456789',
    LOG_LEVEL: process.env['TEST_LOG_LEVEL'] ?? 'error',
    PROVINCE_BACKOFF_BASE_MS: '20',
    PROVINCE_BACKOFF_MAX_MS: '200',
    PROVINCE_TIMEOUT_MS: '1000',
    PROVINCE_BREAKER_HALF_OPEN_MS: '50',
    // worker processes of one test share the host: each takes a free metrics port
    METRICS_PORT: '0',
  };
}

export interface TestGateway {
  config: Readonly<GatewayConfig>;
  runtime: Runtime;
  url: string;
  simulator: ProvinceSimulator;
  province: ProvinceClient;
  changshaSimulator: ChangshaSimulator;
  changsha: ChangshaClient;
  workers: WorkerSet | undefined;
  startWorkers(): WorkerSet;
  close(): Promise<void>;
}

export interface TestGatewayOptions {
  clock?: Clock;
  env?: Record<string, string>;
  workers?: boolean;
  redisUrl?: string;
}

/** A gateway in process, on a free loopback port, with a province simulator and workers. */
export async function startTestGateway(options: TestGatewayOptions = {}): Promise<TestGateway> {
  const namespace = `t-${randomBytes(6).toString('hex')}`;
  const clockNow = options.clock ? () => options.clock?.now() ?? Date.now() : Date.now;
  const simulator = await new ProvinceSimulator({ secret: OUTBOUND_SECRET, now: clockNow }).start();
  const changshaSimulator = await new ChangshaSimulator({
    ...CHANGSHA_SIMULATOR,
    now: clockNow,
  }).start();
  const config = loadConfig({ env: { ...testEnv(namespace, simulator.url, options.redisUrl, changshaSimulator.url), ...options.env } });
  const runtime = createRuntime(config, { ...(options.clock ? { clock: options.clock } : {}), logger: createLogger(config.logLevel) });
  await runtime.ready();
  const server: Server = createApp(runtime).listen(0, '127.0.0.1');
  await once(server, 'listening');
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const gateway: TestGateway = {
    config,
    runtime,
    url,
    simulator,
    province: new ProvinceClient({ gatewayUrl: url, secret: INBOUND_SECRET, now: () => runtime.clock.now() }),
    changshaSimulator,
    changsha: new ChangshaClient({ gatewayUrl: url, keyId: CHANGSHA.inboundKeyId, secret: CHANGSHA.inboundSecret, now: () => runtime.clock.now() }),
    workers: undefined,
    startWorkers() {
      gateway.workers ??= startWorkers(runtime);
      return gateway.workers;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await gateway.workers?.close();
      await runtime.close();
      await simulator.stop();
      await changshaSimulator.stop();
      await deleteNamespace(options.redisUrl ?? testRedisUrl(), namespace);
    },
  };
  // the province pushes its host results, outcomes and lifecycle to this gateway
  simulator.attach(gateway.province);
  if (options.workers !== false) gateway.startWorkers();
  return gateway;
}

/** Removes every key of a test's namespace. */
export async function deleteNamespace(redisUrl: string, namespace: string): Promise<void> {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${namespace}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.unlink(...keys);
    } while (cursor !== '0');
  } catch {
    // Redis may be the one a test stopped on purpose
  } finally {
    redis.disconnect();
  }
}

/** A separate gateway process (real OS process) with the given roles, sharing a test's namespace. */
export async function spawnGatewayProcess(env: Record<string, string>): Promise<ChildProcess> {
  return (await startGatewayProcess(env)).child;
}

/**
 * What a gateway process reports over IPC once up: `listening` with its HTTP
 * port (api role), else `ready` with the port of its metrics listener.
 */
export interface StartedMessage {
  type: 'ready' | 'listening';
  port?: number;
  metricsPort?: number;
}

/** As spawnGatewayProcess, with the message the process reported when it was up. */
export async function startGatewayProcess(env: Record<string, string>): Promise<{ child: ChildProcess; started: StartedMessage }> {
  const child = fork(join(import.meta.dirname, '..', '..', 'server', 'main.ts'), [], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const started = await new Promise<StartedMessage>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`gateway process exited with ${code}`)));
    child.on('message', (message: Partial<StartedMessage>) => {
      if (message.type === 'ready' || message.type === 'listening') resolve({ ...message, type: message.type });
    });
  });
  return { child, started };
}

export async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  await exited;
}

/**
 * Waits until a message's trace has a delivered attempt: the partner can hold the
 * answer a moment before the worker has written down that it was delivered.
 */
export async function waitForDelivered(runtime: Runtime, trackingNo: string): Promise<void> {
  const delivered = (entry: { stage: string; kind?: unknown }) => entry.stage === 'delivery-attempt' && entry.kind === 'delivered';
  while (!(await runtime.traces.read(trackingNo)).some(delivered)) await new Promise<void>((resolve) => setImmediate(resolve));
}

/** Waits until a message's trace has reached `stage` (say `dead-lettered`), whichever job wrote it. */
export async function waitForStage(runtime: Runtime, trackingNo: string, stage: string): Promise<void> {
  while (!(await runtime.traces.read(trackingNo)).some((entry) => entry.stage === stage)) await new Promise<void>((resolve) => setImmediate(resolve));
}

/**
 * Closes a gateway, but gives up after `boundMs` (rejecting), so that an after
 * hook still stops the Redis servers it set up when a close hangs on them.
 */
export async function closeWithin(gateway: TestGateway | undefined, boundMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      gateway?.close(),
      new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => reject(new Error(`the gateway did not close within ${boundMs} ms`)), boundMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** How long a gateway on private Redis servers may take to close before its servers are stopped anyway. */
export const CLOSE_BOUND_MS = 20_000;

export interface SentinelGateway {
  setup: PrivateSentinel;
  gateway: TestGateway;
  /** wakes any stopped server, closes the gateway (bounded), stops the servers */
  stop(): Promise<void>;
}

/**
 * A private Sentinel setup (master, replica, one sentinel) and a gateway on it,
 * as production with Sentinel should run: nothing answered unless the replica has it.
 */
export async function startSentinelGateway(waitTimeoutMs: number): Promise<SentinelGateway> {
  const setup = await startPrivateSentinel();
  try {
    const gateway = await startTestGateway({
      env: { REDIS_MODE: 'sentinel', REDIS_NODES: setup.nodes.join(','), REDIS_SENTINEL_NAME: setup.name, REDIS_WAIT_REPLICAS: '1', REDIS_WAIT_TIMEOUT_MS: String(waitTimeoutMs) },
    });
    return {
      setup,
      gateway,
      async stop() {
        for (const server of setup.servers) server.process.kill('SIGCONT');
        try {
          await closeWithin(gateway, CLOSE_BOUND_MS);
        } finally {
          await setup.stop();
        }
      },
    };
  } catch (error) {
    await setup.stop();
    throw error;
  }
}
