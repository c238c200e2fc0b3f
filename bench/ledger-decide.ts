/**
 * `npm run bench:ledger`: Redis time of one ledger decision (`decide.lua` alone),
 * the current script beside a baseline script in the same run, on one private
 * Redis. The ledger's script time bounds the decisions a second of the whole
 * system, however many workers run (every decision is one script on one slot).
 *
 *   node bench/ledger-decide.ts [--baseline=<git rev>] [--decisions=4000] [--days=20] [--reps=7] [--streams=1,8]
 *     [--rooms='<LEDGER_ROOMS JSON>'] [--auto-pipelining]
 *
 * Each repetition runs the same seeded workload (bench/lib/ledger-cost.ts) once
 * with the baseline's ledger (ledger/, kernel/, config/ and schemas/ of
 * `--baseline`, extracted by `git archive` under .data/) and once with the
 * current one, alternating, for each number of streams: 1 is one decision in
 * flight (Redis waits for each, as for one worker), 8 keeps Redis busy, as a
 * drain by several workers does, and its CPU a decision is the ceiling's.
 * Results go to stdout as JSON and a line per variant to stderr.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import type { RoomConfig } from '../config/index.ts';
import { startPrivateRedis } from '../scripts/lib/private-redis.ts';
import { baselineLedger, currentLedger, decideWorkload, summarizeCosts, type LedgerCost } from './lib/ledger-cost.ts';

const args = new Map(process.argv.slice(2).map((arg) => arg.replace(/^--/, '').split('=') as [string, string | undefined]));
const baselineRev = args.get('baseline') ?? 'HEAD';
const rooms = args.get('rooms');
const workload = { decisions: Number(args.get('decisions') ?? 4000), days: Number(args.get('days') ?? 20), ...(rooms ? { rooms: JSON.parse(rooms) as RoomConfig[] } : {}), autoPipelining: args.has('auto-pipelining') };
const reps = Number(args.get('reps') ?? 7);
const streamCounts = (args.get('streams') ?? '1,8').split(',').map(Number);

const dir = mkdtempSync(join(tmpdir(), 'zzgw-ledger-bench-'));
const server = await startPrivateRedis(dir);
const redis = new Redis(server.url);
try {
  const modules = { baseline: await baselineLedger(baselineRev), current: currentLedger };
  const byStreams = [];
  for (const streams of streamCounts) {
    const results: Record<'baseline' | 'current', LedgerCost[]> = { baseline: [], current: [] };
    for (let rep = 0; rep < reps; rep++) {
      for (const variant of ['baseline', 'current'] as const) {
        const measured = await decideWorkload(redis, server.url, `bench-ledger-${variant}-${streams}-${rep}`, modules[variant], { ...workload, streams });
        results[variant].push(measured);
        process.stderr.write(`${variant}, ${streams} in flight (rep ${rep + 1}): ${measured.usecPerCall.toFixed(1)} µs a decision in Redis, ${measured.cpuUsecPerCall.toFixed(1)} µs of its CPU (every command of the run), ${Math.round(measured.perSecond)} a second, ${measured.calls} decisions, ${measured.approved} approved\n`);
      }
    }
    const baseline = summarizeCosts(results.baseline);
    const current = summarizeCosts(results.current);
    byStreams.push({
      streams,
      baselineUsec: baseline.usec,
      currentUsec: current.usec,
      baselineFastestUsec: baseline.fastestUsec,
      currentFastestUsec: current.fastestUsec,
      baselineCpuUsec: baseline.cpuUsec,
      currentCpuUsec: current.cpuUsec,
      baselinePerSecond: baseline.perSecond,
      currentPerSecond: current.perSecond,
      sameDecisions: results.baseline.every((run, n) => run.approved === results.current[n]?.approved),
      // one Redis core runs one script at a time: the ceiling of decisions a second
      ceilingPerSecond: current.cpuUsec > 0 ? Math.floor(1_000_000 / current.cpuUsec) : 0,
    });
  }
  process.stdout.write(`${JSON.stringify({ baselineRev, ...workload, reps, byStreams }, null, 2)}\n`);
} finally {
  redis.disconnect();
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
}
