/**
 * `npm run bench:ledger`: Redis time of one ledger decision (`decide.lua` alone),
 * the current script beside a baseline script in the same run, on one private
 * Redis. The ledger's script time bounds the decisions a second of the whole
 * system, however many workers run (every decision is one script on one slot).
 *
 *   node bench/ledger-decide.ts [--baseline=<git rev>] [--decisions=4000] [--days=20] [--reps=7]
 *
 * Each repetition runs the same seeded workload (applies, changes and cancels
 * over `days` working days, as the province sends them) through a RoomLedger
 * on its own namespace, once with the baseline's ledger (ledger/, kernel/ and
 * config/ of `--baseline`, extracted by `git archive` under .data/) and once
 * with the current one, alternating, and reads Redis's own time for EVALSHA
 * from `INFO commandstats` (reset before each). Results go to stdout as JSON and a
 * line per variant to stderr.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { loadConfig, type RoomConfig } from '../config/index.ts';
import { Keys } from '../kernel/redis/keys.ts';
import { RoomLedger, type LedgerRequest, type LedgerResult } from '../ledger/index.ts';
import { startPrivateRedis } from '../scripts/lib/private-redis.ts';
import { testEnv } from '../test/helpers/gateway.ts';

const args = new Map(process.argv.slice(2).map((arg) => arg.replace(/^--/, '').split('=') as [string, string | undefined]));
const baselineRev = args.get('baseline') ?? 'HEAD';
const decisions = Number(args.get('decisions') ?? 4000);
const days = Number(args.get('days') ?? 20);
const reps = Number(args.get('reps') ?? 7);

/** A small seeded generator: the same workload for every variant and repetition. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const DAY = 24 * 3600 * 1000;
const T0 = Date.UTC(2027, 2, 1, 0, 0, 0);

/** usecPerCall: Redis's own time a decision (wall clock, so other processes on the cores inflate it); cpuUsecPerCall: Redis's CPU time a decision, what one core can give */
interface Measured {
  usecPerCall: number;
  cpuUsecPerCall: number;
  calls: number;
  approved: number;
}

/** Redis's CPU seconds so far (user and system, every thread). */
async function redisCpu(redis: Redis): Promise<number> {
  const cpu = await redis.info('cpu');
  const field = (name: string) => Number(new RegExp(`${name}:([\\d.]+)`).exec(cpu)?.[1] ?? 0);
  return field('used_cpu_user') + field('used_cpu_sys');
}

/** The one call the workload makes: a ledger's decide, whichever version of it. */
interface Decider {
  decide(request: LedgerRequest): Promise<LedgerResult>;
}

interface LedgerModules {
  RoomLedger: new (redis: Redis, keys: Keys, rooms: readonly RoomConfig[], bufferMinutes: number) => Decider;
  Keys: new (namespace: string) => Keys;
}

/** The baseline's ledger, as it was at `rev`: its own TypeScript and Lua, beside the node_modules of this checkout. */
async function baselineModules(rev: string): Promise<LedgerModules> {
  const dir = join(import.meta.dirname, '..', '.data', 'bench-baseline', rev.replace(/[^A-Za-z0-9_.-]/g, '_'));
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const archive = execFileSync('git', ['archive', rev, 'ledger', 'kernel', 'config', 'schemas'], { maxBuffer: 64 * 1024 * 1024 });
  execFileSync('tar', ['-x', '-C', dir], { input: archive });
  const ledger = (await import(join(dir, 'ledger', 'index.ts'))) as { RoomLedger: LedgerModules['RoomLedger'] };
  const keys = (await import(join(dir, 'kernel', 'redis', 'keys.ts'))) as { Keys: LedgerModules['Keys'] };
  return { RoomLedger: ledger.RoomLedger, Keys: keys.Keys };
}

async function runWorkload(redis: Redis, redisUrl: string, namespace: string, modules: LedgerModules): Promise<Measured> {
  const config = loadConfig({ env: testEnv(namespace, 'http://127.0.0.1:9', redisUrl) });
  const connection = redis.duplicate();
  const ledger = new modules.RoomLedger(connection, new modules.Keys(namespace), config.ledger.rooms, config.ledger.bufferMinutes);
  const random = seeded(20261203);
  const inForce: string[] = [];
  let approved = 0;
  await redis.config('RESETSTAT');
  const cpuBefore = await redisCpu(redis);
  for (let n = 0; n < decisions; n++) {
    const day = Math.floor(random() * days);
    const startHour = 8 + Math.floor(random() * 8);
    const start = T0 + day * DAY + startHour * 3600_000;
    const end = start + (1 + Math.floor(random() * 3)) * 3600_000;
    const seats = 1 + Math.floor(random() * 12);
    const roll = random();
    const id = `SQ${n}`;
    const common = { partner: 'province', id, now: T0 - DAY, notifyId: `N${n}`, trackingNo: `T${n}`, decidedAt: new Date(T0).toISOString() };
    const original = inForce.length > 0 ? inForce[Math.floor(random() * inForce.length)] : undefined;
    const result =
      roll < 0.1 && original
        ? await ledger.decide({ ...common, op: 'cancel', replaces: original })
        : roll < 0.25 && original
          ? await ledger.decide({ ...common, op: 'change', replaces: original, start, end, seats, closed: false })
          : await ledger.decide({ ...common, op: 'apply', start, end, seats, closed: false });
    if (!result.held && result.decision.outcome === 'approved') {
      approved++;
      inForce.push(id);
    }
  }
  const cpuUsed = (await redisCpu(redis)) - cpuBefore;
  const stats = (await redis.info('commandstats')).split('\n').find((line) => line.startsWith('cmdstat_evalsha:'));
  const calls = Number(/calls=(\d+)/.exec(stats ?? '')?.[1] ?? 0);
  const usec = Number(/usec=(\d+)/.exec(stats ?? '')?.[1] ?? 0);
  connection.disconnect();
  return { usecPerCall: calls > 0 ? usec / calls : 0, cpuUsecPerCall: calls > 0 ? (cpuUsed * 1e6) / calls : 0, calls, approved };
}

const dir = mkdtempSync(join(tmpdir(), 'zzgw-ledger-bench-'));
const server = await startPrivateRedis(dir);
const redis = new Redis(server.url);
try {
  const baseline = await baselineModules(baselineRev);
  const current: LedgerModules = { RoomLedger, Keys };
  const results: Record<'baseline' | 'current', Measured[]> = { baseline: [], current: [] };
  for (let rep = 0; rep < reps; rep++) {
    for (const variant of ['baseline', 'current'] as const) {
      const measured = await runWorkload(redis, server.url, `bench-ledger-${variant}-${rep}`, variant === 'baseline' ? baseline : current);
      results[variant].push(measured);
      process.stderr.write(`${variant} (rep ${rep + 1}): ${measured.usecPerCall.toFixed(1)} µs a decision in Redis, ${measured.cpuUsecPerCall.toFixed(1)} µs of its CPU (every command of the run), ${measured.calls} decisions, ${measured.approved} approved\n`);
    }
  }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
  // other processes on the two cores only ever add to a run's time: the fastest repetition is the script's own cost
  const fastest = (values: number[]) => Math.min(...values);
  const summary = {
    baselineRev,
    decisions,
    days,
    reps,
    baselineUsec: median(results.baseline.map((run) => run.usecPerCall)),
    currentUsec: median(results.current.map((run) => run.usecPerCall)),
    baselineFastestUsec: fastest(results.baseline.map((run) => run.usecPerCall)),
    currentFastestUsec: fastest(results.current.map((run) => run.usecPerCall)),
    baselineCpuUsec: median(results.baseline.map((run) => run.cpuUsecPerCall)),
    currentCpuUsec: median(results.current.map((run) => run.cpuUsecPerCall)),
    sameDecisions: results.baseline.every((run, n) => run.approved === results.current[n]?.approved),
    // one Redis core runs one script at a time: the ceiling of decisions a second
    ceilingPerSecond: 0,
  };
  summary.ceilingPerSecond = summary.currentCpuUsec > 0 ? Math.floor(1_000_000 / summary.currentCpuUsec) : 0;
  process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
} finally {
  redis.disconnect();
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
}
