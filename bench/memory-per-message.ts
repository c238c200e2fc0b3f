/**
 * `npm run bench:memory`: Redis memory a message costs, by key family, the
 * current code beside a baseline in one sitting (issue 16). A minute or two,
 * not the whole bench.
 *
 *   node bench/memory-per-message.ts [--baseline=<git rev> | --baseline-root=<a checkout>]
 *     [--current-root=<a checkout>] [--messages=2000] [--rate=400] [--reps=1]
 *     [--changsha-share=0.5] [--samples[=traces]]
 *
 * Each variant gets a private Redis of its own, started by its own tree's
 * scripts/lib/private-redis.ts (so with the settings that tree runs with), a
 * gateway api and one worker process (`server/main.ts` of that variant's tree:
 * `--baseline` extracts the revision with `git archive` under .data/, beside
 * this checkout's node_modules), the partner simulators answering every call,
 * and the load generator. 50 messages warm it up; then `--messages` province
 * applies and Changsha `slot.requested`, alternating, at `--rate` a second,
 * until every one is answered and its job is finished. Measured against the
 * state after the warm-up:
 *
 * - `used_memory` (what the server holds, allocator overhead included);
 * - `MEMORY USAGE` of every key of the namespace, summed by family;
 * - both again once the completed jobs are gone (`Queue.clean`), which is
 *   what a message costs after its day of job retention.
 *
 * A line a family to stderr (with --samples, also one key of each family as
 * stored: type, encoding, field lengths); the figures (JSON) to stdout.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { readLaunchEnvironment } from '../config/launch.ts';
import { Keys } from '../kernel/redis/keys.ts';
import { INBOUND_QUEUE, PERIODIC_QUEUE, outboundQueue } from '../queues/names.ts';
import { unpackTraceElement } from '../stores/trace-packing.ts';
import { revisionTree } from './lib/revision-tree.ts';
import type { startPrivateRedis as StartPrivateRedis } from '../scripts/lib/private-redis.ts';
import type { RunCommand, RunResult } from './loadgen.ts';
import { benchSecrets, gatewayEnv, loadgenKeys, partnerSecrets } from './lib/gateway-env.ts';
import { Partners } from './lib/partners.ts';
import { startChild, stopChild, type Child } from './lib/processes.ts';
import { info } from './lib/redis-info.ts';
import { now, round, sleep } from './lib/stats.ts';

const ROOT = resolve(import.meta.dirname, '..');
const args = new Map(process.argv.slice(2).map((arg) => arg.replace(/^--/, '').split('=') as [string, string | undefined]));
const messages = Number(args.get('messages') ?? 2000);
const rate = Number(args.get('rate') ?? 400);
const reps = Number(args.get('reps') ?? 1);
const changshaShare = Number(args.get('changsha-share') ?? 0.5);
const WARM_UP = 50;

function say(line: string): void {
  process.stderr.write(`[memory ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
}

/** The family a key belongs to (the namespace already cut off), as docs/scaling.md names them. */
function familyOf(key: string): string {
  const bull = /^\{bull\}:([^:]+):(.+)$/.exec(key);
  if (bull) {
    const rest = bull[2] ?? '';
    if (rest === 'events') return 'jobs: events stream (capped)';
    if (/^(wait|active|completed|failed|delayed|prioritized|paused|meta|id|marker|stalled|stalled-check|limiter|pc|metrics:.*|de:.*|repeat.*)$/.test(rest)) return 'jobs: queue sets';
    return 'jobs: job hashes';
  }
  const intake = /^\{in:[^}]+\}:([a-z-]+)/.exec(key);
  if (intake) return `intake: ${intake[1] === 'msg' ? 'record' : intake[1]}`;
  if (key.startsWith('{ledger}:')) return `ledger: ${/^\{ledger\}:([a-z-]+)/.exec(key)?.[1] ?? '?'}`;
  const index = /^\{ix\}:([^:]+)/.exec(key);
  if (index) return `index: ${index[1]}`;
  if (key.startsWith('trace:')) return 'traces';
  const tag = /^\{([a-z]+)/.exec(key);
  if (tag) return `other: {${tag[1]}}`;
  return `other: ${key.split(':')[0] ?? '?'}`;
}

/** MEMORY USAGE of every key of the namespace, by family, and the key counts. */
async function families(redis: Redis, namespace: string): Promise<Record<string, { bytes: number; keys: number }>> {
  const sums: Record<string, { bytes: number; keys: number }> = {};
  let cursor = '0';
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', `${namespace}:*`, 'COUNT', 1000);
    cursor = next;
    const pipeline = redis.pipeline();
    // SAMPLES 0: every element of a collection, not an estimate from five
    for (const key of found) pipeline.memory('USAGE', key, 'SAMPLES', '0');
    const sizes = (await pipeline.exec()) ?? [];
    found.forEach((key, n) => {
      const family = familyOf(key.slice(namespace.length + 1));
      const sum = (sums[family] ??= { bytes: 0, keys: 0 });
      sum.bytes += Number(sizes[n]?.[1] ?? 0);
      sum.keys += 1;
    });
  } while (cursor !== '0');
  return sums;
}

/** One key of each family, as stored: type, encoding, size, and the length of each field or element. */
async function describeSamples(redis: Redis, namespace: string): Promise<void> {
  const seen = new Set<string>();
  let cursor = '0';
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', `${namespace}:*`, 'COUNT', 1000);
    cursor = next;
    for (const key of found) {
      const family = familyOf(key.slice(namespace.length + 1));
      if (seen.has(family)) continue;
      seen.add(family);
      const type = await redis.type(key);
      const encoding = await redis.object('ENCODING', key);
      const usage = await redis.memory('USAGE', key, 'SAMPLES', '0');
      let shape = '';
      if (type === 'hash') shape = Object.entries(await redis.hgetall(key)).map(([field, value]) => `${field}=${value.length}`).join(' ');
      else if (type === 'list') shape = `elements of ${(await redis.lrangeBuffer(key, 0, -1)).map((element) => element.length).join(', ')} bytes`;
      else if (type === 'string') shape = `${await redis.strlen(key)} bytes`;
      else if (type === 'set') shape = `${await redis.scard(key)} members`;
      else if (type === 'zset') shape = `${await redis.zcard(key)} members`;
      say(`    sample ${family}: ${key.slice(namespace.length + 1)} ${type}/${String(encoding)} ${String(usage)} B: ${shape}`);
      // trace entries are redacted when written: safe to show, and what a compact encoding must keep
      if (family === 'traces' && args.get('samples') === 'traces') {
        for (const element of await redis.lrangeBuffer(key, 0, -1)) for (const entry of unpackTraceElement(element)) say(`      ${JSON.stringify(entry)}`);
      }
    }
  } while (cursor !== '0');
}

async function usedMemory(redis: Redis): Promise<number> {
  return Number((await info(redis, 'memory'))['used_memory'] ?? 0);
}

interface Snapshot {
  usedMemory: number;
  families: Record<string, { bytes: number; keys: number }>;
}

async function snapshot(redis: Redis, namespace: string): Promise<Snapshot> {
  return { usedMemory: await usedMemory(redis), families: await families(redis, namespace) };
}

interface VariantResult {
  variant: string;
  messages: number;
  /** bytes a message of used_memory, completed jobs kept / gone */
  usedPerMessage: number;
  usedPerMessageWithoutJobs: number;
  /** MiB per 10,000 messages, as bench/run.ts's redisPer10kProcessedMb */
  per10kMb: number;
  per10kWithoutJobsMb: number;
  /** MEMORY USAGE bytes a message by family (completed jobs kept), and new keys a message */
  families: Record<string, { bytes: number; keys: number }>;
  familiesWithoutJobs: Record<string, { bytes: number; keys: number }>;
  outcomes: Record<string, number>;
}

function perMessage(before: Snapshot, after: Snapshot, count: number): Record<string, { bytes: number; keys: number }> {
  const out: Record<string, { bytes: number; keys: number }> = {};
  for (const family of new Set([...Object.keys(before.families), ...Object.keys(after.families)])) {
    const was = before.families[family] ?? { bytes: 0, keys: 0 };
    const is = after.families[family] ?? { bytes: 0, keys: 0 };
    out[family] = { bytes: round((is.bytes - was.bytes) / count, 0), keys: round((is.keys - was.keys) / count, 2) };
  }
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => a.localeCompare(b)));
}

async function measure(variant: string, root: string): Promise<VariantResult> {
  const dataDir = mkdtempSync(join(tmpdir(), 'zzgw-memory-redis-'));
  // the Redis settings the variant's tree runs with (scripts/lib/private-redis.ts: production's), not this one's
  const { startPrivateRedis } = (await import(join(root, 'scripts', 'lib', 'private-redis.ts'))) as { startPrivateRedis: typeof StartPrivateRedis };
  const redisServer = await startPrivateRedis(dataDir);
  const redis = new Redis(redisServer.url, { maxRetriesPerRequest: 3 });
  const namespace = `zzmem${randomBytes(4).toString('hex')}`;
  const keys = new Keys(namespace);
  const secrets = benchSecrets();
  const partners = await new Partners(partnerSecrets(secrets)).start();
  const unanswered = new Set<string>();
  partners.onArrival = (id) => unanswered.delete(id);
  const env = gatewayEnv({ namespace, redisUrl: redisServer.url, provinceUrl: partners.province.url, changshaUrl: partners.changsha.url, secrets });
  const script = join(root, 'server', 'main.ts');
  const execArgv = readLaunchEnvironment().nodeOptions;
  const children: Child[] = [];
  // BullMQ leaves a connection it was given open: closed here with the rest
  const queueConnection = redis.duplicate({ maxRetriesPerRequest: null });
  const queues = [INBOUND_QUEUE, PERIODIC_QUEUE, outboundQueue('province'), outboundQueue('changsha')].map((name) => new Queue(name, { connection: queueConnection, prefix: keys.queuePrefix }));
  try {
    await redis.config('SET', 'auto-aof-rewrite-percentage', '0');
    const [api, worker, loadgen] = await Promise.all([
      startChild('gateway api', script, { ...env, GATEWAY_ROLE: 'api' }, { execArgv, readyTypes: ['listening'] }),
      startChild('gateway worker', script, { ...env, GATEWAY_ROLE: 'worker' }, { execArgv, readyTypes: ['ready'] }),
      startChild('load generator', join(ROOT, 'bench', 'loadgen.ts'), { PATH: process.env['PATH'] ?? '', BENCH_KEYS: loadgenKeys(secrets), BENCH_CHANGSHA_SHARE: String(changshaShare) }, { readyTypes: ['ready'] }),
    ]);
    children.push(api, worker, loadgen);
    let runId = 0;
    const load = async (count: number, perSecond: number): Promise<RunResult> => {
      const id = ++runId;
      const outcome = new Promise<{ result?: RunResult; error?: string }>((done) => {
        const listener = (message: { type?: string; runId?: number; result?: RunResult; error?: string }) => {
          if (message.runId !== id) return;
          loadgen.process.off('message', listener);
          done(message);
        };
        loadgen.process.on('message', listener);
      });
      const command: RunCommand = { type: 'run', runId: id, port: api.port ?? 0, mode: 'fixed', rate: perSecond, durationMs: (count / perSecond) * 1000, connections: 32, collect: true };
      loadgen.process.send(command);
      const { result, error } = await outcome;
      if (!result) throw new Error(`load generator failed: ${error ?? 'no result'}`);
      for (const [, requestId] of result.accepted) if (!partners.arrivals.has(requestId)) unanswered.add(requestId);
      return result;
    };
    // answered at a partner, and every job finished (its last trace entries are written as the job ends)
    const settle = async () => {
      let lastProgress = now();
      let left = unanswered.size;
      while (unanswered.size > 0 || (await queues[0]?.getJobCountByTypes('wait', 'active', 'prioritized'))) {
        if (unanswered.size !== left) {
          left = unanswered.size;
          lastProgress = now();
        }
        if (now() - lastProgress > 30_000) throw new Error(`${unanswered.size} messages not answered`);
        await sleep(100);
      }
      // the statistics counters are written at most a second later
      await sleep(1500);
    };

    const warmUp = await load(WARM_UP, 50);
    await settle();
    const before = await snapshot(redis, namespace);
    const run = await load(messages, rate);
    if (run.ok !== messages) say(`  ${variant}: ${run.ok} of ${messages} accepted (${JSON.stringify(run.errors)})`);
    await settle();
    const after = await snapshot(redis, namespace);
    if (args.has('samples')) await describeSamples(redis, namespace);
    let cleaned = 0;
    for (const queue of queues) cleaned += (await queue.clean(0, 0, 'completed')).length;
    await sleep(200);
    const withoutJobs = await snapshot(redis, namespace);
    const count = run.ok;
    const outcomes: Record<string, number> = {};
    for (const [, requestId] of run.accepted) {
      const outcome = partners.arrivals.get(requestId)?.outcome ?? 'unanswered';
      outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
    }
    const result: VariantResult = {
      variant,
      messages: count,
      usedPerMessage: round((after.usedMemory - before.usedMemory) / count, 0),
      usedPerMessageWithoutJobs: round((withoutJobs.usedMemory - before.usedMemory) / count, 0),
      per10kMb: round(((after.usedMemory - before.usedMemory) * 10_000) / count / 1024 / 1024, 1),
      per10kWithoutJobsMb: round(((withoutJobs.usedMemory - before.usedMemory) * 10_000) / count / 1024 / 1024, 1),
      families: perMessage(before, after, count),
      familiesWithoutJobs: perMessage(before, withoutJobs, count),
      outcomes,
    };
    say(`${variant}: ${count} messages (+${warmUp.ok} warm-up), ${cleaned} completed jobs cleaned; outcomes ${JSON.stringify(outcomes)}`);
    say(`  used_memory a message: ${result.usedPerMessage} B with the day's jobs (${result.per10kMb} MiB per 10,000), ${result.usedPerMessageWithoutJobs} B once they are gone (${result.per10kWithoutJobsMb} MiB)`);
    for (const [family, { bytes, keys: newKeys }] of Object.entries(result.families)) {
      const gone = result.familiesWithoutJobs[family]?.bytes ?? 0;
      if (bytes !== 0 || gone !== 0) say(`    ${family.padEnd(32)} ${String(bytes).padStart(6)} B ${String(newKeys).padStart(5)} keys   (jobs gone: ${gone} B)`);
    }
    const sum = (rows: Record<string, { bytes: number }>) => Object.values(rows).reduce((total, row) => total + row.bytes, 0);
    say(`    ${'MEMORY USAGE, all families'.padEnd(32)} ${String(sum(result.families)).padStart(6)} B              (jobs gone: ${sum(result.familiesWithoutJobs)} B)`);
    return result;
  } finally {
    loadgenExit(children[2]);
    for (const child of children) await stopChild(child, 10_000);
    await Promise.all(queues.map((queue) => queue.close()));
    queueConnection.disconnect();
    await partners.stop();
    redis.disconnect();
    await redisServer.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

function loadgenExit(loadgen: Child | undefined): void {
  if (loadgen?.process.connected) loadgen.process.send({ type: 'exit' });
}

const variants: { name: string; root: string }[] = [];
const baselineRev = args.get('baseline');
const baselineRoot = args.get('baseline-root');
if (baselineRev) variants.push({ name: `baseline ${baselineRev}`, root: revisionTree(baselineRev, { suffix: '-tree' }) });
else if (baselineRoot) variants.push({ name: `baseline ${baselineRoot}`, root: resolve(baselineRoot) });
const currentRoot = args.get('current-root');
variants.push({ name: currentRoot ? `current ${currentRoot}` : 'current', root: currentRoot ? resolve(currentRoot) : ROOT });
for (const { root } of variants) if (!existsSync(join(root, 'server', 'main.ts'))) throw new Error(`${root} has no server/main.ts`);

const results: VariantResult[] = [];
for (let rep = 0; rep < reps; rep++) {
  for (const { name, root } of variants) results.push(await measure(reps > 1 ? `${name} (rep ${rep + 1})` : name, root));
}
process.stdout.write(`${JSON.stringify({ messages, rate, reps, changshaShare, results }, null, 2)}\n`);
