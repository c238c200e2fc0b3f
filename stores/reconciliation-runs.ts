import type { Redis } from 'ioredis';
import type { Keys } from '../kernel/redis/keys.ts';

/** how many runs are kept, newest first */
const KEPT_RUNS = 100;

/**
 * Pops runs off the tail (the oldest) while they finished before ARGV[1], at
 * most ARGV[2]. Times are ISO 8601 in UTC (toISOString), so they compare as
 * strings; an unreadable run stops the trim rather than be dropped blindly.
 */
const TRIM_OLD_RUNS = `
local dropped = 0
while dropped < tonumber(ARGV[2]) do
  local oldest = redis.call('LINDEX', KEYS[1], -1)
  if not oldest then break end
  local ok, run = pcall(cjson.decode, oldest)
  local finished = ok and type(run) == 'table' and (run.finishedAt ~= '' and run.finishedAt or run.startedAt) or nil
  if type(finished) ~= 'string' or finished >= ARGV[1] then break end
  redis.call('RPOP', KEYS[1])
  dropped = dropped + 1
end
return dropped
`;

export interface Difference {
  requestId: string;
  partner: { start: string; end: string; seats: number };
  gateway: { state: string; start?: string; end?: string; seats?: number; roomId: string };
}

export interface ReconciliationRun {
  runId: string;
  reason: string;
  startedAt: string;
  finishedAt: string;
  partner: string;
  days: string[];
  /** held by the partner, never received here: now recorded and processed as if pushed */
  missed: string[];
  /** held by both, but not alike (window, seats, or not in force here) */
  different: Difference[];
  /** in force here, unknown to the partner */
  extra: string[];
  /** received here, not decided yet: compared again next run */
  pending: string[];
  errors: string[];
}

/** The reconciliation runs (a capped list) and when the last one finished. */
export class ReconciliationRunStore {
  readonly #redis: Redis;
  readonly #keys: Keys;

  constructor(redis: Redis, keys: Keys) {
    this.#redis = redis;
    this.#keys = keys;
    if (!('reconciliationTrim' in redis)) redis.defineCommand('reconciliationTrim', { numberOfKeys: 1, lua: TRIM_OLD_RUNS });
  }

  async add(run: ReconciliationRun): Promise<void> {
    const { runs } = this.#keys.reconciliation;
    await this.#redis.multi().lpush(runs, JSON.stringify(run)).ltrim(runs, 0, KEPT_RUNS - 1).exec();
  }

  async recent(limit = 20): Promise<ReconciliationRun[]> {
    return (await this.#redis.lrange(this.#keys.reconciliation.runs, 0, limit - 1)).map((json) => JSON.parse(json) as ReconciliationRun);
  }

  /**
   * Drops runs that finished before `cutoffMs` (they name the partners' request
   * ids), at most `batch` a call, oldest first from the list's tail; returns how
   * many. One script, so a run added meanwhile at the head is never lost.
   */
  async purgeBefore(cutoffMs: number, batch: number): Promise<number> {
    const scripted = this.#redis as unknown as { reconciliationTrim(key: string, cutoff: string, batch: number): Promise<number> };
    let purged = 0;
    for (;;) {
      const dropped = await scripted.reconciliationTrim(this.#keys.reconciliation.runs, new Date(cutoffMs).toISOString(), batch);
      purged += dropped;
      if (dropped < batch) return purged;
    }
  }

  /** A reconciliation of every partner finished at `at` (epoch ms). */
  async finished(at: number): Promise<void> {
    await this.#redis.set(this.#keys.reconciliation.last, String(at));
  }

  /** When the last reconciliation finished (epoch ms), if any did. */
  async last(): Promise<number | undefined> {
    const value = await this.#redis.get(this.#keys.reconciliation.last);
    return value === null ? undefined : Number(value);
  }
}
