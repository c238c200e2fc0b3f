/**
 * Redis's cost of one ledger decision (`decide.lua` alone), for `npm run
 * bench:ledger` (the current ledger beside a baseline's) and for the whole
 * bench's target (the current ledger on the bench's own Redis).
 *
 * Each run decides the same seeded workload (applies, changes and cancels over
 * `days` working days, as the province sends them, one in flight) through a
 * RoomLedger on its own namespace and reads Redis's own time for EVALSHA from
 * `INFO commandstats` (reset before each run) and its CPU from `INFO cpu`.
 */
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { loadConfig, type RoomConfig } from '../../config/index.ts';
import { Keys } from '../../kernel/redis/keys.ts';
import { RoomLedger, type LedgerRequest, type LedgerResult } from '../../ledger/index.ts';
import { testEnv } from '../../test/helpers/gateway.ts';
import { SeededRandom } from '../../test/simulators/prng.ts';
import { revisionTree } from './revision-tree.ts';
import { median } from './stats.ts';

/** usecPerCall: Redis's own time a decision (wall clock, so other processes on the cores inflate it); cpuUsecPerCall: Redis's CPU time a decision (every command of the run), what one core can give */
export interface LedgerCost {
  usecPerCall: number;
  cpuUsecPerCall: number;
  calls: number;
  approved: number;
  /** decisions a second of the run's wall clock (with this client on the same cores) */
  perSecond: number;
}

/** The one call the workload makes: a ledger's decide, whichever version of it. */
interface Decider {
  decide(request: LedgerRequest): Promise<LedgerResult>;
}

export interface LedgerModules {
  RoomLedger: new (redis: Redis, keys: Keys, rooms: readonly RoomConfig[], bufferMinutes: number) => Decider;
  Keys: new (namespace: string) => Keys;
}

export const currentLedger: LedgerModules = { RoomLedger, Keys };

/** The baseline's ledger, as it was at `rev`: its own TypeScript and Lua, beside the node_modules of this checkout. */
export async function baselineLedger(rev: string): Promise<LedgerModules> {
  const dir = revisionTree(rev, { paths: ['ledger', 'kernel', 'config', 'schemas'] });
  const ledger = (await import(join(dir, 'ledger', 'index.ts'))) as { RoomLedger: LedgerModules['RoomLedger'] };
  const keys = (await import(join(dir, 'kernel', 'redis', 'keys.ts'))) as { Keys: LedgerModules['Keys'] };
  return { RoomLedger: ledger.RoomLedger, Keys: keys.Keys };
}

const DAY = 24 * 3600 * 1000;
const T0 = Date.UTC(2027, 2, 1, 0, 0, 0);

/** Redis's CPU seconds so far (user and system, every thread). */
async function redisCpu(redis: Redis): Promise<number> {
  const cpu = await redis.info('cpu');
  const field = (name: string) => Number(new RegExp(`${name}:([\\d.]+)`).exec(cpu)?.[1] ?? 0);
  return field('used_cpu_user') + field('used_cpu_sys');
}

/**
 * The workload: `decisions` applies, changes and cancels over `days` working days, in
 * `streams` concurrent streams (1: one decision in flight, as one worker sends them;
 * more: several in flight, as Redis sees a drain by several workers). Stream k owns the
 * days k, k + streams, …, draws from its own seeded generator and changes or cancels
 * only its own bookings: no two streams contend for a room, so the decisions are the
 * same whatever the interleaving, and one stream is exactly the one-in-flight workload.
 */
export interface LedgerWorkload {
  decisions: number;
  days: number;
  streams?: number;
  /** instead of the default rooms (config/default.json), e.g. a large hall */
  rooms?: RoomConfig[];
  /** ioredis sends the calls of one event loop turn in one write (enableAutoPipelining) */
  autoPipelining?: boolean;
}

/** One run of the workload through `modules`' ledger on a namespace of its own; resets Redis's statistics. */
export async function decideWorkload(redis: Redis, redisUrl: string, namespace: string, modules: LedgerModules, workload: LedgerWorkload): Promise<LedgerCost> {
  const config = loadConfig({ env: testEnv(namespace, 'http://127.0.0.1:9', redisUrl) });
  const streams = Math.max(1, Math.min(workload.streams ?? 1, workload.days));
  const connection = redis.duplicate({ enableAutoPipelining: workload.autoPipelining === true });
  const ledger = new modules.RoomLedger(connection, new modules.Keys(namespace), workload.rooms ?? config.ledger.rooms, config.ledger.bufferMinutes);
  let approved = 0;
  const stream = async (k: number) => {
    // the same workload for every variant and repetition
    const seeded = new SeededRandom(20261203 + k);
    const random = () => seeded.next();
    const ownDays = Math.ceil((workload.days - k) / streams);
    const inForce: string[] = [];
    for (let n = k; n < workload.decisions; n += streams) {
      const day = k + streams * Math.floor(random() * ownDays);
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
  };
  await redis.config('RESETSTAT');
  const cpuBefore = await redisCpu(redis);
  const began = performance.now();
  try {
    await Promise.all(Array.from({ length: streams }, (_, k) => stream(k)));
  } finally {
    connection.disconnect();
  }
  const seconds = (performance.now() - began) / 1000;
  const cpuUsed = (await redisCpu(redis)) - cpuBefore;
  const stats = (await redis.info('commandstats')).split('\n').find((line) => line.startsWith('cmdstat_evalsha:'));
  const calls = Number(/calls=(\d+)/.exec(stats ?? '')?.[1] ?? 0);
  const usec = Number(/usec=(\d+)/.exec(stats ?? '')?.[1] ?? 0);
  return { usecPerCall: calls > 0 ? usec / calls : 0, cpuUsecPerCall: calls > 0 ? (cpuUsed * 1e6) / calls : 0, calls, approved, perSecond: seconds > 0 ? calls / seconds : 0 };
}

export interface LedgerCostSummary {
  /** median over the repetitions */
  usec: number;
  /** other processes on the cores only ever add to a run's time: the fastest repetition is the script's own cost */
  fastestUsec: number;
  cpuUsec: number;
  /** median decisions a second of the wall clock */
  perSecond: number;
  runs: LedgerCost[];
}

export function summarizeCosts(runs: LedgerCost[]): LedgerCostSummary {
  return {
    usec: median(runs.map((run) => run.usecPerCall)),
    fastestUsec: Math.min(...runs.map((run) => run.usecPerCall)),
    cpuUsec: median(runs.map((run) => run.cpuUsecPerCall)),
    perSecond: median(runs.map((run) => run.perSecond)),
    runs,
  };
}
