/**
 * The faults of the run, each bounded in time: it is injected, lasts
 * `windowMs` (or until the process it hit is back), and is healed.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, statSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { Keys } from '../kernel/redis/keys.ts';
import { INBOUND_QUEUE, outboundQueue } from '../queues/names.ts';
import { AccountStore } from '../stores/accounts.ts';
import { OpsClient } from '../test/helpers/ops-client.ts';
import type { FaultWindow } from './history.ts';
import type { LoadGenerator } from './load.ts';
import type { Partners } from './partners.ts';
import { sleep, type System } from './system.ts';

export interface FaultContext {
  system: System;
  partners: Partners;
  load: LoadGenerator;
  namespace: string;
  log: (line: string) => void;
  /** how long a fault lasts, by its name */
  windowMs: (fault: string) => number;
}

export interface Fault {
  name: string;
  description: string;
  run(context: FaultContext): Promise<FaultWindow>;
}

/** Jobs active right now in the inbound and outbound queues (what a worker holds mid-job). */
async function activeJobs(context: FaultContext): Promise<number> {
  const connection = new Redis(context.system.redisUrl, { maxRetriesPerRequest: 1 });
  const keys = new Keys(context.namespace);
  let total = 0;
  try {
    for (const name of [INBOUND_QUEUE, outboundQueue('province'), outboundQueue('changsha')]) {
      const queue = new Queue(name, { connection, prefix: keys.queuePrefix });
      total += (await queue.getJobCounts('active'))['active'] ?? 0;
      await queue.close();
    }
  } finally {
    connection.disconnect();
  }
  return total;
}

/**
 * Deliveries to the province are made slow (1.5 s) for 2 s before a worker is
 * hit, so that every worker holds deliveries in flight: the hit lands mid-job.
 */
async function midJob(context: FaultContext): Promise<number> {
  context.partners.injectProvince({ behaviours: ['slow'], slowMs: 1500 });
  await sleep(2000);
  return activeJobs(context);
}

function refreshTargets(context: FaultContext): void {
  context.load.setTargets(context.system.apiUrls());
}

const workerKill: Fault = {
  name: 'worker-kill9',
  description: 'kill -9 of a worker process mid-job (deliveries to the province in flight); a new one started when the window ends',
  async run(context) {
    const active = await midJob(context);
    const victim = context.system.get('worker-1');
    const injectedAt = Date.now();
    await context.system.signal('worker-1', 'SIGKILL');
    context.partners.healProvince();
    context.log(`worker-1 (pid ${victim.pid}) killed with SIGKILL, ${active} job(s) active`);
    await sleep(context.windowMs(this.name));
    const replacement = await context.system.start('worker-1', 'worker');
    return { name: this.name, description: this.description, injectedAt, healedAt: Date.now(), notes: [`${active} job(s) active at the kill`, `pid ${victim.pid} killed, pid ${replacement.pid} started`] };
  },
};

const workerStop: Fault = {
  name: 'worker-stop',
  description: 'kill -STOP of a worker process mid-job, kill -CONT when the window ends (its jobs are taken over meanwhile, then it wakes up holding them)',
  async run(context) {
    const active = await midJob(context);
    const victim = context.system.get('worker-2');
    const injectedAt = Date.now();
    await context.system.signal('worker-2', 'SIGSTOP');
    context.partners.healProvince();
    context.log(`worker-2 (pid ${victim.pid}) stopped with SIGSTOP, ${active} job(s) active`);
    await sleep(context.windowMs(this.name));
    await context.system.signal('worker-2', 'SIGCONT');
    const healedAt = Date.now();
    context.log(`worker-2 continued with SIGCONT`);
    return { name: this.name, description: this.description, injectedAt, healedAt, notes: [`${active} job(s) active at the stop`] };
  },
};

/** The AOF file Redis appends to now (Redis 7: the last `incr` file of the manifest). */
function appendFile(redisDir: string): string | undefined {
  const dir = join(redisDir, 'appendonlydir');
  try {
    const manifest = readFileSync(join(dir, 'appendonly.aof.manifest'), 'utf8');
    const files = [...manifest.matchAll(/^file (\S+) seq \d+ type i$/gm)].map((match) => match[1] ?? '');
    const last = files.at(-1);
    return last ? join(dir, last) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * kill -9 of redis-server, then a start on the same AOF and port. A probe
 * writes INCR as fast as it can until the kill: how many acknowledged INCRs
 * the restarted Redis lacks is what the crash cost. With `cutMs`, the AOF is
 * first cut back to its length `cutMs` before the kill: what a host crash
 * (power loss, kernel panic) leaves with appendfsync everysec, whose last
 * fsync may be a second old. (kill -9 of the process alone loses nothing
 * written: Redis write()s the AOF before it replies, and the kernel keeps it.)
 */
function redisCrash(name: string, description: string, cutMs: number): Fault {
  return {
    name,
    description,
    async run(context) {
      const { system } = context;
      const probe = new Redis(system.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => null });
      probe.on('error', () => undefined);
      await probe.connect();
      const probeKey = `${context.namespace}:chaos:probe`;
      await probe.del(probeKey);
      let acknowledged = 0;
      let writing = true;
      const writer = (async () => {
        while (writing) {
          try {
            acknowledged = await probe.incr(probeKey);
          } catch {
            return;
          }
        }
      })();
      // the AOF's length over time, to cut it back to an earlier moment
      const sizes: [number, number][] = [];
      const aof = appendFile(system.redisDir);
      const sampler = setInterval(() => {
        if (aof) sizes.push([Date.now(), statSync(aof).size]);
      }, 20);
      await sleep(Math.max(1000, cutMs + 500));
      const injectedAt = Date.now();
      await system.killRedis();
      clearInterval(sampler);
      writing = false;
      await writer;
      probe.disconnect();
      const notes: string[] = [];
      if (cutMs > 0 && system.options.appendfsync === 'always') {
        notes.push('appendfsync always: every acknowledged write was fsynced before its reply, so a host crash loses none of them; nothing cut');
      } else if (cutMs > 0) {
        if (!aof) throw new Error('no AOF file to cut');
        const before = [...sizes].reverse().find(([at]) => at <= injectedAt - cutMs);
        const size = statSync(aof).size;
        const keep = before?.[1] ?? size;
        truncateSync(aof, keep);
        notes.push(`AOF cut back to its length ${cutMs} ms before the kill: ${size - keep} bytes of acknowledged writes dropped`);
      }
      context.log(`redis-server killed with SIGKILL; the probe had ${acknowledged} acknowledged INCRs${notes.length > 0 ? `; ${notes.join('; ')}` : ''}`);
      await sleep(context.windowMs(name));
      const restartAt = Date.now();
      await system.startRedis();
      const healedAt = Date.now();
      const reader = new Redis(system.redisUrl, { maxRetriesPerRequest: 1 });
      const recovered = Number((await reader.get(probeKey)) ?? 0);
      reader.disconnect();
      context.log(`redis-server started again in ${healedAt - restartAt} ms; probe reads ${recovered} of ${acknowledged}`);
      const alive = [...system.processes.values()].filter((p) => p.child.exitCode === null && p.child.signalCode === null).length;
      return {
        name,
        description,
        injectedAt,
        healedAt,
        notes: [
          `probe: ${acknowledged} INCRs acknowledged before the kill, ${recovered} found after the restart, ${Math.max(0, acknowledged - recovered)} lost (appendfsync ${system.options.appendfsync})`,
          ...notes,
          `restart and AOF load: ${healedAt - restartAt} ms`,
          `${alive} of ${system.processes.size} gateway processes still running after the restart`,
        ],
      };
    },
  };
}

const redisKill = redisCrash('redis-kill9', 'kill -9 of redis-server under load, then redis-server started again on its AOF (same port and data)', 0);

function provinceFault(name: string, description: string, fault: Parameters<Partners['injectProvince']>[0]): Fault {
  return {
    name,
    description,
    async run(context) {
      const callsBefore = context.partners.provinceCalls;
      const injectedAt = Date.now();
      context.partners.injectProvince(fault);
      context.log(`province: ${description}`);
      await sleep(context.windowMs(name));
      context.partners.healProvince();
      const calls = context.partners.provinceCalls - callsBefore;
      return { name, description, injectedAt, healedAt: Date.now(), notes: [`${calls} call(s) reached the province meanwhile`] };
    },
  };
}

const province500 = provinceFault('province-500', 'the province answers HTTP 500 to every call', { behaviours: ['http-500'] });
const provinceTimeout = provinceFault('province-timeout', 'the province times out: every other call hangs, the others are answered after 3 s (past the 2 s timeout, so it has the message but the gateway does not know)', {
  behaviours: ['hang', 'slow'],
  slowMs: 3000,
});
const provinceSlow = provinceFault('province-slow', 'the province answers every call after 1.2 s (within the 2 s timeout)', { behaviours: ['slow'], slowMs: 1200 });

const changshaToken: Fault = {
  name: 'changsha-token',
  description: "Changsha's token endpoint answers 503, and every token it issued before is refused (401)",
  async run(context) {
    const before = context.partners.refusedTokenCalls;
    const injectedAt = Date.now();
    context.partners.injectTokenOutage();
    context.log('changsha: token endpoint down, issued tokens expired');
    await sleep(context.windowMs(this.name));
    context.partners.healTokenOutage();
    return { name: this.name, description: this.description, injectedAt, healedAt: Date.now(), notes: [`${context.partners.refusedTokenCalls - before} token request(s) refused`] };
  },
};

const apiTerm: Fault = {
  name: 'api-sigterm',
  description: 'SIGTERM to an api process under load (it drains and exits), a new one started when the window ends',
  async run(context) {
    const victim = context.system.get('api-1');
    const injectedAt = Date.now();
    const exited = context.system.signal('api-1', 'SIGTERM');
    const result = await exited;
    const drainedMs = Date.now() - injectedAt;
    refreshTargets(context);
    context.log(`api-1 (pid ${victim.pid}) exited ${result?.code ?? result?.signal} ${drainedMs} ms after SIGTERM`);
    await sleep(Math.max(0, context.windowMs(this.name) - drainedMs));
    const replacement = await context.system.start('api-1', 'api');
    refreshTargets(context);
    return {
      name: this.name,
      description: this.description,
      injectedAt,
      healedAt: Date.now(),
      notes: [`exit code ${result?.code ?? result?.signal} after ${drainedMs} ms`, `pid ${victim.pid} stopped, pid ${replacement.pid} started on ${replacement.url ?? '?'}`],
    };
  },
};

/** Not in the default run: it loses acknowledged writes by design (see redisCrash). */
const redisHostCrash = redisCrash(
  'redis-host-crash',
  'kill -9 of redis-server with its AOF cut back by 1 s (a host crash with appendfsync everysec, emulated), then started again on it',
  1000,
);

/**
 * What an admin can do from the queue board: the inbound queue paused, and the
 * waiting jobs (messages the partners were told are recorded) removed through
 * the board's API. Nothing of the gateway is told; the stranded sweep (the
 * scheduler's, every few seconds in this run) must find the records and queue
 * them again.
 */
const boardRemove: Fault = {
  name: 'board-remove',
  description: 'an admin pauses the inbound queue on the queue board, removes its waiting jobs through the board\'s API, and resumes it',
  async run(context) {
    const username = 'chaos-admin';
    const password = randomBytes(12).toString('hex');
    const redis = new Redis(context.system.redisUrl, { maxRetriesPerRequest: 1 });
    try {
      await new AccountStore(redis, new Keys(context.namespace)).put(username, password, 'admin', Date.now());
    } finally {
      redis.disconnect();
    }
    const url = context.system.apiUrls()[0]?.url;
    if (!url) throw new Error('board-remove: no api process');
    const admin = new OpsClient(url);
    const login = await admin.login(username, password);
    if (login.status !== 200) throw new Error(`board-remove: admin login answered ${login.status}`);
    const board = `/ops/queues/api/queues/${INBOUND_QUEUE}`;
    const must = async (method: 'GET' | 'PUT', path: string) => {
      const answer = await admin.request(method, path);
      if (answer.status >= 300) throw new Error(`board-remove: ${method} ${path} answered ${answer.status}`);
      return answer;
    };
    const injectedAt = Date.now();
    await must('PUT', `${board}/pause`);
    await sleep(context.windowMs(this.name));
    const listed = await must('GET', `/ops/queues/api/queues?activeQueue=${INBOUND_QUEUE}&status=waiting&page=1&jobsPerPage=200`);
    const queues = (listed.data as { queues?: { name: string; jobs?: { id?: string }[] }[] }).queues ?? [];
    const ids = (queues.find((queue) => queue.name === INBOUND_QUEUE)?.jobs ?? []).map((job) => job.id).filter((id): id is string => typeof id === 'string');
    let removed = 0;
    for (const id of ids) {
      const answer = await admin.request('PUT', `${board}/${encodeURIComponent(id)}/clean`);
      if (answer.status < 300) removed += 1;
    }
    await must('PUT', `${board}/resume`);
    context.log(`${removed} waiting inbound job(s) removed from the board, queue resumed`);
    return { name: this.name, description: this.description, injectedAt, healedAt: Date.now(), notes: [`${removed} of ${ids.length} waiting inbound job(s) removed through the queue board's API`] };
  },
};

export const FAULTS: readonly Fault[] = [workerKill, workerStop, redisKill, province500, provinceTimeout, provinceSlow, changshaToken, apiTerm, boardRemove, redisHostCrash];
/** the default run: every fault but the emulated host crash */
export const DEFAULT_FAULTS: readonly string[] = FAULTS.map((fault) => fault.name).filter((name) => name !== 'redis-host-crash');
export const SMOKE_FAULTS: readonly string[] = ['worker-kill9', 'redis-kill9', 'province-500'];
/** the faults the issue runs "for a minute" with --minute */
export const MINUTE_FAULTS: readonly string[] = ['province-500', 'province-timeout', 'province-slow'];
