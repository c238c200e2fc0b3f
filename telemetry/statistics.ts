import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { CircuitState, type CircuitBreakerPolicy } from 'cockatiel';
import type { Redis } from 'ioredis';
import type { PartnerId } from '../adapters/types.ts';
import { DAY_MS, beijingDate } from '../kernel/beijing-time.ts';
import type { Clock } from '../kernel/clock.ts';
import type { Logger } from '../kernel/logger.ts';
import type { Keys } from '../kernel/redis/keys.ts';
import type { AuditLog } from '../stores/audit.ts';
import { HistorySeries } from './history.ts';
import type { PendingCounters } from './pending-counters.ts';

/**
 * Operational statistics kept in Redis, so that every api and worker process
 * adds to the same figures and the dashboard sees the whole gateway.
 *
 * Writes are fire-and-forget: counters wait in the process for at most a second
 * (PendingCounters), security events are written at once; a failure is logged
 * at debug and swallowed. A partner's answer must never become an error, nor
 * wait, because a statistic could not be written.
 */

const MINUTE_MS = 60_000;
/** minute buckets outlive the longest window read (1 h) with room for clock skew between processes */
const MINUTE_BUCKET_TTL_SECONDS = 2 * 3600;
/** the security list keeps this many events, newest first */
export const SECURITY_EVENTS_KEPT = 5000;
/** a worker process that stopped reporting is forgotten after this long */
const BREAKER_REPORT_TTL_MS = 60_000;
/** how often a worker process confirms its breaker states (well within the TTL) */
const BREAKER_REFRESH_MS = 20_000;

export type StatusClass = '2xx' | '4xx' | '5xx';
export type DeliveryOutcome = 'delivered' | 'retry' | 'refused' | 'circuit-open';
export const DELIVERY_OUTCOMES: readonly DeliveryOutcome[] = ['delivered', 'retry', 'refused', 'circuit-open'];

/**
 * - `signature`: 401, signature, sender or time rejected;
 * - `replay`: a message id seen before, answered with the first answer;
 * - `rate-limit`: 429;
 * - `rejected`: any other 4xx (malformed, schema, not found, conflict, too large, business rules).
 */
export type SecurityKind = 'signature' | 'replay' | 'rate-limit' | 'rejected';
export const SECURITY_KINDS: readonly SecurityKind[] = ['signature', 'replay', 'rate-limit', 'rejected'];

export type BreakerStateName = 'closed' | 'half-open' | 'open';

/** One answer the gateway gave a partner: what it said, never what it was sent. */
export interface InboundAnswer {
  partner: PartnerId;
  /** HTTP status of the answer */
  status: number;
  /** the error catalog code, or ACCEPTED / REPEATED for a success */
  code: string;
  /** the message id was known: the partner got the first answer again */
  repeated: boolean;
  /** X-Request-Id of the answer */
  requestId: string;
  remoteAddress: string | undefined;
  /** the partner's signature held before the answer was decided */
  authenticated: boolean;
  /** id of the refused request as kept for the message lab (stores/refused-requests.ts), if it was */
  refused?: string;
}

export interface DeliveryRecord {
  partner: PartnerId;
  outcome: DeliveryOutcome;
  /** how long the partner took to answer the attempt, ms (none for an open circuit) */
  latencyMs?: number;
}

/**
 * A stored security event. It holds no body and no field of the message, so no
 * personal data: only who (partner, address), when, and how it was answered.
 */
export interface SecurityEvent {
  at: string;
  partner: string;
  kind: SecurityKind;
  status: number;
  code: string;
  requestId: string;
  remoteAddress: string;
  /** the refused request, sealed in its partner's ring for the lab; it may have rolled out since */
  refused?: string;
}

export interface WindowStats {
  minutes: number;
  answers: Record<StatusClass, number> & { total: number };
  /** (4xx + 5xx) / all answers; null when there were none */
  errorRate: number | null;
  deliveries: Record<DeliveryOutcome, number>;
}

export interface PartnerStats {
  partner: PartnerId;
  /** last message accepted from the partner (new or repeated), ISO 8601; null if none within retention */
  lastIn: string | null;
  /** last message the partner accepted from us, ISO 8601 */
  lastOut: string | null;
  last15m: WindowStats;
  last1h: WindowStats;
}

export interface SecurityDayCount {
  day: string;
  partner: string;
  kind: SecurityKind;
  count: number;
}

export interface BreakerProcessState {
  processId: string;
  state: BreakerStateName;
  /** when this process's breaker entered the state, ISO 8601 */
  since: string;
  /** when this process last confirmed it, ISO 8601 */
  reportedAt: string;
}

export interface PartnerBreakerStates {
  partner: PartnerId;
  /** one entry per live worker process */
  processes: BreakerProcessState[];
  open: number;
  halfOpen: number;
  closed: number;
}

export function statusClass(status: number): StatusClass {
  if (status >= 500) return '5xx';
  if (status >= 400) return '4xx';
  return '2xx';
}

/** Which security event, if any, an answer is. */
export function securityKind(answer: Pick<InboundAnswer, 'status' | 'repeated'>): SecurityKind | undefined {
  if (answer.status === 401) return 'signature';
  if (answer.status === 429) return 'rate-limit';
  if (answer.status >= 400 && answer.status < 500) return 'rejected';
  if (answer.repeated) return 'replay';
  return undefined;
}

/**
 * A rejection decided before the signature held (unsigned or badly signed,
 * unknown interface, malformed, rate-limited by source): anyone can cause it
 * under a partner's name, so it says nothing about the partner. It is counted
 * into a summary entry per partner, kind and minute, not chained on its own,
 * so that strangers cannot grow the audit chain.
 */
export function provesNothing(answer: Pick<InboundAnswer, 'status' | 'authenticated'>): boolean {
  return !answer.authenticated && answer.status >= 400 && answer.status < 500;
}

export interface StatisticsDependencies {
  redis: Redis;
  keys: Keys;
  clock: Clock;
  logger: Logger;
  /** this process's counts on their way to Redis */
  counters: PendingCounters;
  /** security events are chained there too, beyond the capped list */
  audit: AuditLog;
  partners: readonly PartnerId[];
  retentionDays: number;
}

export interface SecurityEventQuery {
  partner?: string;
  kind?: SecurityKind;
  /** at most this many, newest first */
  limit: number;
}

export interface BreakerReporting {
  readonly processId: string;
  /** stops reporting and withdraws this process's entry (a stopped process has no breaker) */
  stop(): Promise<void>;
}

function emptyWindow(minutes: number): WindowStats {
  return {
    minutes,
    answers: { total: 0, '2xx': 0, '4xx': 0, '5xx': 0 },
    errorRate: null,
    deliveries: { delivered: 0, retry: 0, refused: 0, 'circuit-open': 0 },
  };
}

function addBucket(window: WindowStats, bucket: Record<string, string>): void {
  for (const [field, value] of Object.entries(bucket)) {
    const count = Number(value);
    if (!Number.isFinite(count)) continue;
    const [direction, name] = field.split(':') as [string, string];
    if (direction === 'in' && (name === '2xx' || name === '4xx' || name === '5xx')) {
      window.answers[name] += count;
      window.answers.total += count;
    } else if (direction === 'out' && (DELIVERY_OUTCOMES as readonly string[]).includes(name)) {
      window.deliveries[name as DeliveryOutcome] += count;
    }
  }
}

function finish(window: WindowStats): WindowStats {
  const { total } = window.answers;
  window.errorRate = total === 0 ? null : (window.answers['4xx'] + window.answers['5xx']) / total;
  return window;
}

function isoOrNull(value: string | undefined): string | null {
  const ms = Number(value);
  return value && Number.isFinite(ms) ? new Date(ms).toISOString() : null;
}

/** Rejects with the first error of a pipeline's results (ioredis reports them per command). */
function resultsOf(results: [Error | null, unknown][] | null): unknown[] {
  if (!results) throw new Error('pipeline was not run');
  return results.map(([error, value]) => {
    if (error) throw error;
    return value;
  });
}

export function breakerStateName(state: CircuitState): BreakerStateName {
  switch (state) {
    case CircuitState.Closed:
      return 'closed';
    case CircuitState.HalfOpen:
      return 'half-open';
    // Isolated is held open by hand: for the dashboard it is open
    case CircuitState.Open:
    case CircuitState.Isolated:
      return 'open';
  }
}

/**
 * The statistics of every api and worker process in Redis: answers and
 * deliveries per partner and minute, the last message in and out, security
 * events, and each worker process's breaker states. The one owner of the
 * `{ops}` keys.
 */
export class Statistics {
  readonly #d: StatisticsDependencies;
  /** the overview's per-minute series over 24 hours (history.ts) */
  readonly history: HistorySeries;

  constructor(dependencies: StatisticsDependencies) {
    this.#d = dependencies;
    this.history = new HistorySeries(dependencies);
  }

  #failedQuietly(what: string) {
    return (error: unknown) => {
      this.#d.logger.debug('operational statistics not written', { what, error: error instanceof Error ? error.message : String(error) });
    };
  }

  /**
   * Counts an answer to a partner, remembers the last accepted message, and
   * appends a security event when it is one (one pipeline, at once). Not awaited
   * by the caller; the returned promise never rejects.
   */
  answered(answer: InboundAnswer): Promise<void> {
    try {
      const keys = this.#d.keys.stats;
      const now = this.#d.clock.now();
      const cls = statusClass(answer.status);
      this.#d.counters.increment(keys.minute(answer.partner, Math.floor(now / MINUTE_MS)), `in:${cls}`, { ttlSeconds: MINUTE_BUCKET_TTL_SECONDS });
      if (cls === '2xx') this.#d.counters.latest(keys.partner(answer.partner), 'lastIn', now);
      this.history.answered(answer.partner, answer.status);
      const kind = securityKind(answer);
      if (!kind) return Promise.resolve();
      const event: SecurityEvent = {
        at: new Date(now).toISOString(),
        partner: answer.partner,
        kind,
        status: answer.status,
        code: answer.code,
        requestId: answer.requestId,
        remoteAddress: answer.remoteAddress ?? '',
        ...(answer.refused ? { refused: answer.refused } : {}),
      };
      const dayKey = keys.securityDay(beijingDate(now));
      const written = this.#d.redis
        .pipeline()
        .lpush(keys.securityEvents, JSON.stringify(event))
        .ltrim(keys.securityEvents, 0, SECURITY_EVENTS_KEPT - 1)
        // addresses are personal data: the list goes once no event came for the retention period
        .expire(keys.securityEvents, this.#d.retentionDays * 24 * 3600)
        .hincrby(dayKey, `${answer.partner}:${kind}`, 1)
        .expire(dayKey, this.#d.retentionDays * 24 * 3600)
        .exec()
        .then(() => undefined, this.#failedQuietly('inbound'));
      // security events also go to the SM3-chained audit log, which outlives the capped list
      const entry = {
        actor: `partner:${answer.partner}`,
        action: `security.${kind}`,
        from: answer.remoteAddress ?? '',
        result: kind === 'replay' ? ('ok' as const) : ('denied' as const),
      };
      if (provesNothing(answer)) {
        this.#d.audit.count({ ...entry, code: answer.code });
        return written;
      }
      const audited = this.#d.audit
        .recordOrCount({ ...entry, detail: { status: answer.status, code: answer.code, requestId: answer.requestId } }, answer.code)
        .then(() => undefined, this.#failedQuietly('audit'));
      return Promise.all([written, audited]).then(() => undefined);
    } catch (error) {
      this.#failedQuietly('inbound')(error);
      return Promise.resolve();
    }
  }

  /** Counts a delivery attempt's outcome and remembers the last delivery (PendingCounters). */
  delivered(delivery: DeliveryRecord): void {
    const keys = this.#d.keys.stats;
    const now = this.#d.clock.now();
    this.#d.counters.increment(keys.minute(delivery.partner, Math.floor(now / MINUTE_MS)), `out:${delivery.outcome}`, { ttlSeconds: MINUTE_BUCKET_TTL_SECONDS });
    if (delivery.outcome === 'delivered') this.#d.counters.latest(keys.partner(delivery.partner), 'lastOut', now);
    this.history.delivered(delivery.partner, delivery.outcome, delivery.latencyMs);
  }

  /**
   * Per partner: last message in and out, answers by status class and error
   * rate, and delivery outcomes, over the last 15 minutes and the last hour
   * (the current minute included). One pipeline.
   */
  async partnerStats(): Promise<PartnerStats[]> {
    // this process's own counts are exact; other processes' at most a second behind
    await this.#d.counters.flush();
    const keys = this.#d.keys.stats;
    const partners = this.#d.partners;
    const currentMinute = Math.floor(this.#d.clock.now() / MINUTE_MS);
    const pipeline = this.#d.redis.pipeline();
    for (const partner of partners) {
      pipeline.hgetall(keys.partner(partner));
      for (let age = 0; age < 60; age += 1) pipeline.hgetall(keys.minute(partner, currentMinute - age));
    }
    const values = resultsOf(await pipeline.exec()) as Record<string, string>[];
    return partners.map((partner, n) => {
      const [last = {}, ...minutes] = values.slice(n * 61, (n + 1) * 61);
      const last15m = emptyWindow(15);
      const last1h = emptyWindow(60);
      minutes.forEach((bucket, age) => {
        if (age < 15) addBucket(last15m, bucket);
        addBucket(last1h, bucket);
      });
      return { partner, lastIn: isoOrNull(last['lastIn']), lastOut: isoOrNull(last['lastOut']), last15m: finish(last15m), last1h: finish(last1h) };
    });
  }

  /** Security events, newest first, optionally of one partner or kind. */
  async securityEvents(query: SecurityEventQuery): Promise<SecurityEvent[]> {
    const key = this.#d.keys.stats.securityEvents;
    const limit = Math.max(0, Math.min(query.limit, SECURITY_EVENTS_KEPT));
    const found: SecurityEvent[] = [];
    // read in pages: an unfiltered query rarely needs more than the first one
    const page = 500;
    for (let start = 0; found.length < limit && start < SECURITY_EVENTS_KEPT; start += page) {
      const entries = await this.#d.redis.lrange(key, start, start + page - 1);
      for (const entry of entries) {
        let event: SecurityEvent;
        try {
          event = JSON.parse(entry) as SecurityEvent;
        } catch {
          continue;
        }
        if (query.partner !== undefined && event.partner !== query.partner) continue;
        if (query.kind !== undefined && event.kind !== query.kind) continue;
        found.push(event);
        if (found.length >= limit) break;
      }
      if (entries.length < page) break;
    }
    return found;
  }

  /** Security events counted per Beijing day, partner and kind, for the last `days` days (today included). */
  async securityDailyCounts({ days }: { days: number }): Promise<SecurityDayCount[]> {
    const now = this.#d.clock.now();
    const dates = Array.from({ length: Math.max(1, days) }, (_, n) => beijingDate(now - n * DAY_MS));
    const pipeline = this.#d.redis.pipeline();
    for (const day of dates) pipeline.hgetall(this.#d.keys.stats.securityDay(day));
    const values = resultsOf(await pipeline.exec()) as Record<string, string>[];
    const counts: SecurityDayCount[] = [];
    dates.forEach((day, n) => {
      for (const [field, value] of Object.entries(values[n] ?? {})) {
        const colon = field.lastIndexOf(':');
        const kind = field.slice(colon + 1) as SecurityKind;
        if (!SECURITY_KINDS.includes(kind)) continue;
        counts.push({ day, partner: field.slice(0, colon), kind, count: Number(value) });
      }
    });
    return counts;
  }

  /** Per partner, the breaker state in every live worker process ("open in 1 of 2"). */
  async breakerStates(): Promise<PartnerBreakerStates[]> {
    const keys = this.#d.keys.stats;
    const now = this.#d.clock.now();
    const live = await this.#d.redis.zrangebyscore(keys.breakerProcesses, String(now - BREAKER_REPORT_TTL_MS), '+inf', 'WITHSCORES');
    const processes: { id: string; reportedAt: number }[] = [];
    for (let n = 0; n + 1 < live.length; n += 2) processes.push({ id: live[n] as string, reportedAt: Number(live[n + 1]) });
    const pipeline = this.#d.redis.pipeline();
    for (const { id } of processes) pipeline.hgetall(keys.breakerProcess(id));
    const reports = processes.length === 0 ? [] : (resultsOf(await pipeline.exec()) as Record<string, string>[]);
    return (this.#d.partners).map((partner) => {
      const states: BreakerProcessState[] = [];
      processes.forEach(({ id, reportedAt }, n) => {
        const raw = reports[n]?.[partner];
        if (raw === undefined) return;
        const { state, since } = JSON.parse(raw) as { state: BreakerStateName; since: number };
        states.push({ processId: id, state, since: new Date(since).toISOString(), reportedAt: new Date(reportedAt).toISOString() });
      });
      const count = (state: BreakerStateName) => states.filter((entry) => entry.state === state).length;
      return { partner, processes: states, open: count('open'), halfOpen: count('half-open'), closed: count('closed') };
    });
  }

  /**
   * Reports this worker process's breakers to Redis: at once on every state
   * change, and every BREAKER_REFRESH_MS so that the entry of a live process
   * does not expire while that of a dead one does.
   */
  startBreakerReporting(breakers: Partial<Record<PartnerId, CircuitBreakerPolicy>>): BreakerReporting {
    const keys = this.#d.keys.stats;
    // host and pid say which process it is; the suffix tells apart two worker sets of one process (tests)
    const processId = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
    const processKey = keys.breakerProcess(processId);
    const states = new Map<PartnerId, { state: BreakerStateName; since: number }>();
    const disposers: { dispose(): void }[] = [];
    let stopped = false;

    const report = (): Promise<void> => {
      if (stopped) return Promise.resolve();
      try {
        const now = this.#d.clock.now();
        const pipeline = this.#d.redis.pipeline();
        for (const [partner, state] of states) pipeline.hset(processKey, partner, JSON.stringify(state));
        pipeline.pexpire(processKey, BREAKER_REPORT_TTL_MS);
        pipeline.zadd(keys.breakerProcesses, now, processId);
        // the index goes with the last process that reported, like the processes' own keys
        pipeline.pexpire(keys.breakerProcesses, BREAKER_REPORT_TTL_MS);
        // processes that stopped reporting leave the index here, so it never grows
        pipeline.zremrangebyscore(keys.breakerProcesses, '-inf', `(${now - BREAKER_REPORT_TTL_MS}`);
        return pipeline.exec().then(() => undefined, this.#failedQuietly('breaker'));
      } catch (error) {
        this.#failedQuietly('breaker')(error);
        return Promise.resolve();
      }
    };

    for (const [partner, breaker] of Object.entries(breakers) as [PartnerId, CircuitBreakerPolicy][]) {
      states.set(partner, { state: breakerStateName(breaker.state), since: this.#d.clock.now() });
      disposers.push(
        breaker.onStateChange((state) => {
          states.set(partner, { state: breakerStateName(state), since: this.#d.clock.now() });
          void report();
        }),
      );
    }
    void report();
    const timer = setInterval(() => void report(), BREAKER_REFRESH_MS);
    timer.unref();

    const { redis } = this.#d;
    const failed = this.#failedQuietly('breaker');
    return {
      processId,
      async stop() {
        stopped = true;
        clearInterval(timer);
        for (const disposer of disposers) disposer.dispose();
        try {
          await redis.pipeline().del(processKey).zrem(keys.breakerProcesses, processId).exec();
        } catch (error) {
          failed(error);
        }
      },
    };
  }
}
