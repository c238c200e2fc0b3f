import type { Redis } from 'ioredis';
import type { Clock } from '../kernel/clock.ts';
import type { Keys } from '../kernel/redis/keys.ts';
import type { PendingCounters } from './pending-counters.ts';

/**
 * The overview's history: per minute over the last 24 hours, per partner the
 * messages in (answers 2xx), out (deliveries the partner accepted) and refused
 * (answers 4xx and 5xx) and the delivery latency; per queue its depth and the
 * age of its oldest waiting job (sampled once a minute by the scheduler's
 * `history-sample` job).
 *
 * Fixed, bounded cost: one hash per series and hour, its fields the minutes of
 * the hour (`0`..`59`), expiring HISTORY_TTL_SECONDS after its last write. So a
 * series never holds more than 26 hashes of at most 60 fields (latency: 60
 * minutes × LATENCY_BUCKETS_MS.length + 1 buckets), whatever the traffic:
 * the counts are HINCRBY into existing fields, the samples HSET over them.
 *
 * Latency is kept as a histogram per minute (fixed buckets, `<minute>:<bucket>`);
 * p50 and p95 are read from it as the upper bound of the bucket holding that rank,
 * so a percentile is exact to its bucket, never interpolated.
 */

export const HISTORY_MINUTE_MS = 60_000;
export const HISTORY_HOUR_MS = 3_600_000;
/** the history shown: the last 24 hours, the current minute included */
export const HISTORY_MINUTES = 24 * 60;
/** an hour's hash outlives the window read with an hour of room (clock skew between processes) */
export const HISTORY_TTL_SECONDS = 25 * 3600;
/** upper bounds of the delivery-latency buckets, ms; one more bucket counts anything slower */
export const LATENCY_BUCKETS_MS: readonly number[] = [50, 100, 200, 300, 500, 750, 1000, 1500, 2000, 3000, 5000, 10_000, 30_000];

export type PartnerSeries = 'in' | 'out' | 'refused' | 'latency';
export type QueueSeries = 'depth' | 'oldest';

export interface PartnerHistory {
  partner: string;
  in: number[];
  out: number[];
  refused: number[];
  /** delivery latency percentiles per minute, ms (bucket upper bound; the slowest bucket reads as its lower bound); null: no delivery that minute */
  p50: (number | null)[];
  p95: (number | null)[];
}

export interface QueueHistory {
  name: string;
  /** jobs waiting, active, prioritized or delayed; null: no sample that minute */
  depth: (number | null)[];
  /** age of the oldest waiting job in seconds (0: none waited); null: no sample that minute */
  oldestSeconds: (number | null)[];
}

export interface History {
  /** the first minute shown, ISO 8601; each value is one minute after the one before it */
  from: string;
  stepSeconds: 60;
  minutes: number;
  partners: PartnerHistory[];
  queues: QueueHistory[];
}

export interface QueueSample {
  name: string;
  depth: number;
  oldestSeconds: number | null;
}

/** The bucket a latency falls into: the first whose upper bound holds it. */
export function latencyBucket(latencyMs: number): number {
  const index = LATENCY_BUCKETS_MS.findIndex((bound) => latencyMs <= bound);
  return index === -1 ? LATENCY_BUCKETS_MS.length : index;
}

/** The value of the `quantile` (0..1) of a histogram: the upper bound of the bucket holding its rank; null when empty. */
export function percentile(buckets: readonly number[], quantile: number): number | null {
  const total = buckets.reduce((sum, count) => sum + count, 0);
  if (total === 0) return null;
  const rank = Math.max(1, Math.ceil(quantile * total));
  let seen = 0;
  for (let bucket = 0; bucket < buckets.length; bucket += 1) {
    seen += buckets[bucket] ?? 0;
    if (seen >= rank) return LATENCY_BUCKETS_MS[bucket] ?? (LATENCY_BUCKETS_MS.at(-1) as number);
  }
  return LATENCY_BUCKETS_MS.at(-1) as number;
}

/** Reads a pipeline's results, rejecting with the first error. */
function resultsOf(results: [Error | null, unknown][] | null): unknown[] {
  if (!results) throw new Error('pipeline was not run');
  return results.map(([error, value]) => {
    if (error) throw error;
    return value;
  });
}

export interface HistoryDependencies {
  redis: Redis;
  keys: Keys;
  clock: Clock;
  counters: PendingCounters;
}

/** Writes and reads the history series (`<namespace>:{ops}:history:…`). */
export class HistorySeries {
  readonly #d: HistoryDependencies;

  constructor(dependencies: HistoryDependencies) {
    this.#d = dependencies;
  }

  /** `<namespace>:{ops}:history:<p|q>:<partner or queue>:<series>:<hour since the epoch>` */
  key(scope: 'p' | 'q', name: string, series: PartnerSeries | QueueSeries, hour: number): string {
    return `${this.#d.keys.namespace}:{ops}:history:${scope}:${name}:${series}:${hour}`;
  }

  #count(partner: string, series: PartnerSeries, at: number, field?: string): void {
    const minute = Math.floor(at / HISTORY_MINUTE_MS);
    const hour = Math.floor(at / HISTORY_HOUR_MS);
    const minuteOfHour = minute - hour * 60;
    this.#d.counters.increment(this.key('p', partner, series, hour), field === undefined ? String(minuteOfHour) : `${minuteOfHour}:${field}`, { ttlSeconds: HISTORY_TTL_SECONDS });
  }

  /** An answer to a partner: 2xx counts as a message in, 4xx and 5xx as a refusal. */
  answered(partner: string, status: number): void {
    this.#count(partner, status >= 400 ? 'refused' : 'in', this.#d.clock.now());
  }

  /** A delivery attempt that got an answer; a delivered one counts as a message out, and its latency as one in the histogram. */
  delivered(partner: string, outcome: string, latencyMs?: number): void {
    const now = this.#d.clock.now();
    if (outcome === 'delivered') this.#count(partner, 'out', now);
    if (latencyMs !== undefined && outcome !== 'circuit-open') this.#count(partner, 'latency', now, String(latencyBucket(latencyMs)));
  }

  /** One minute's sample of every queue (the last sample of a minute wins). */
  async sampleQueues(samples: readonly QueueSample[]): Promise<void> {
    const now = this.#d.clock.now();
    const minute = Math.floor(now / HISTORY_MINUTE_MS);
    const hour = Math.floor(now / HISTORY_HOUR_MS);
    const field = String(minute - hour * 60);
    const pipeline = this.#d.redis.pipeline();
    for (const sample of samples) {
      const depthKey = this.key('q', sample.name, 'depth', hour);
      const oldestKey = this.key('q', sample.name, 'oldest', hour);
      pipeline.hset(depthKey, field, String(sample.depth)).expire(depthKey, HISTORY_TTL_SECONDS);
      pipeline.hset(oldestKey, field, String(sample.oldestSeconds ?? 0)).expire(oldestKey, HISTORY_TTL_SECONDS);
    }
    resultsOf(await pipeline.exec());
  }

  /** The last 24 hours per minute, ending with the current one. One pipeline of 25 HGETALL per series. */
  async read(partners: readonly string[], queues: readonly string[]): Promise<History> {
    await this.#d.counters.flush();
    const now = this.#d.clock.now();
    const lastMinute = Math.floor(now / HISTORY_MINUTE_MS);
    const firstMinute = lastMinute - HISTORY_MINUTES + 1;
    const firstHour = Math.floor(firstMinute / 60);
    const lastHour = Math.floor(lastMinute / 60);
    const hours = Array.from({ length: lastHour - firstHour + 1 }, (_, n) => firstHour + n);
    const series: { scope: 'p' | 'q'; name: string; series: PartnerSeries | QueueSeries }[] = [
      ...partners.flatMap((name) => (['in', 'out', 'refused', 'latency'] as const).map((s) => ({ scope: 'p' as const, name, series: s }))),
      ...queues.flatMap((name) => (['depth', 'oldest'] as const).map((s) => ({ scope: 'q' as const, name, series: s }))),
    ];
    const pipeline = this.#d.redis.pipeline();
    for (const one of series) for (const hour of hours) pipeline.hgetall(this.key(one.scope, one.name, one.series, hour));
    const values = series.length === 0 ? [] : (resultsOf(await pipeline.exec()) as Record<string, string>[]);
    /** minute index in the window -> field -> value, per series */
    const read = (n: number) => {
      const byMinute = new Map<number, Record<string, number>>();
      hours.forEach((hour, h) => {
        for (const [field, value] of Object.entries(values[n * hours.length + h] ?? {})) {
          const [minuteOfHour, sub = ''] = field.split(':') as [string, string?];
          const index = hour * 60 + Number(minuteOfHour) - firstMinute;
          if (!(index >= 0 && index < HISTORY_MINUTES)) continue;
          const entry = byMinute.get(index) ?? {};
          entry[sub] = Number(value);
          byMinute.set(index, entry);
        }
      });
      return byMinute;
    };
    const counts = (n: number) => {
      const out = new Array<number>(HISTORY_MINUTES).fill(0);
      for (const [index, entry] of read(n)) out[index] = entry[''] ?? 0;
      return out;
    };
    const samples = (n: number) => {
      const out = new Array<number | null>(HISTORY_MINUTES).fill(null);
      for (const [index, entry] of read(n)) out[index] = entry[''] ?? null;
      return out;
    };
    const partnerHistory = partners.map((partner, p): PartnerHistory => {
      const base = p * 4;
      const p50 = new Array<number | null>(HISTORY_MINUTES).fill(null);
      const p95 = new Array<number | null>(HISTORY_MINUTES).fill(null);
      for (const [index, entry] of read(base + 3)) {
        const buckets = Array.from({ length: LATENCY_BUCKETS_MS.length + 1 }, (_, b) => entry[String(b)] ?? 0);
        p50[index] = percentile(buckets, 0.5);
        p95[index] = percentile(buckets, 0.95);
      }
      return { partner, in: counts(base), out: counts(base + 1), refused: counts(base + 2), p50, p95 };
    });
    const queueHistory = queues.map((name, q): QueueHistory => {
      const base = partners.length * 4 + q * 2;
      return { name, depth: samples(base), oldestSeconds: samples(base + 1) };
    });
    return { from: new Date(firstMinute * HISTORY_MINUTE_MS).toISOString(), stepSeconds: 60, minutes: HISTORY_MINUTES, partners: partnerHistory, queues: queueHistory };
  }
}
