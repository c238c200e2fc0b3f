import type { Redis } from 'ioredis';
import { sm3Hex } from '../kernel/crypto/digest.ts';
import { canonicalJson } from '../kernel/crypto/jcs.ts';
import { GatewayError } from '../kernel/errors.ts';
import type { Keys } from '../kernel/redis/keys.ts';
import { redact } from '../kernel/pii.ts';
import { RedisStore } from './redis-store.ts';

export interface AuditEntry {
  at: string;
  /** the operator's user name, what they typed when a login failed, or `partner:<id>` for a security event */
  actor: string;
  action: string;
  target?: string;
  /** the client address */
  from: string;
  result: 'ok' | 'denied' | 'failed';
  detail?: Record<string, unknown>;
}

/** An entry as stored: numbered, and chained to the one before it by SM3. */
export interface ChainedEntry extends AuditEntry {
  seq: number;
  prevHash: string;
  hash: string;
}

/** The hash before the first entry, and after a purge the hash of the last entry purged. */
export const GENESIS = '0'.repeat(64);

/** SM3 of the previous hash and the canonical (RFC 8785) entry without its own hash. */
export function entryHash(entry: Omit<ChainedEntry, 'hash'>): string {
  return sm3Hex(`${entry.prevHash}\n${canonicalJson(entry)}`);
}

/** A place in the chain: an entry's number and hash (seq 0 with GENESIS: before the first entry). */
export interface ChainPoint {
  seq: number;
  hash: string;
}

/**
 * A place in the chain as an auditor keeps it outside Redis (`audit:verify --anchor`).
 * Its time tells whether retention may since have purged it.
 */
export interface ChainMark extends ChainPoint {
  at?: string;
}

/** A rejection counted into its minute's summary entry instead of chained on its own. */
export interface CountedRejection {
  /** actor, action and result come from small fixed sets (partner, kind): each combination is one summary a minute */
  actor: string;
  action: string;
  result: AuditEntry['result'];
  from: string;
  code: string;
}

export interface AuditLogOptions {
  /** appends waiting in this process at most; beyond, record() refuses and recordOrCount() counts */
  backlog?: number;
  /** a periodic flush or summary failed (it is tried again on the next tick) */
  onError?: (error: unknown) => void;
}

export type VerifyResult =
  | { ok: true; entries: number; head: ChainMark | null }
  | { ok: false; index: number; seq: number | undefined; at: string | undefined; problem: string };

export type MarkCheck = { ok: true; state: 'present' | 'purged' } | { ok: false; problem: string };

const MINUTE_MS = 60_000;
/** counts wait at most this long in a process before they are added up in Redis */
const FLUSH_INTERVAL_MS = 1000;
/** a minute is summarised this long after it closed, when every live process has flushed its counts of it */
const SUMMARY_GRACE_MS = 5 * FLUSH_INTERVAL_MS;
/** closed minutes summarised per pass; a backlog of them is worked off pass after pass */
const SUMMARIES_PER_PASS = 10;
/**
 * Tries of one append against the appends of other processes. A conflict means
 * another process appended (there is one appender per process), so the chain
 * moves on; the bound only stops a process that loses every time.
 */
const APPEND_ATTEMPTS = 12;
const BACKOFF_BASE_MS = 2;
const BACKOFF_MAX_MS = 250;
/** addresses a summary names, with their counts; the others are only counted, so a flood from many addresses cannot grow it */
const SOURCES_NAMED = 16;
/** minutes of counts a process keeps while Redis does not take them; older ones are folded into the next, so memory stays bounded */
const UNFLUSHED_MINUTES_KEPT = 60;
const DEFAULT_BACKLOG = 1000;
/** how long close() waits for the appends already queued */
const CLOSE_BOUND_MS = 5000;

/**
 * Appends entries only if the chain's head is still the one the appender
 * believes; otherwise answers the head it found, so the retry needs no read.
 * A summary also requires its minute's counts to be unchanged since they were
 * read, and removes them with the append: a minute is summarised once.
 * KEYS: 1 log, 2 head, 3 anchor, 4 the minute's counts, 5 minutes waiting
 * ARGV: 1 expected seq, 2 expected hash, 3 new seq, 4 new hash, 5 counts version ('' when not a summary), 6 minute, 7.. entries
 */
const APPEND = `
local seq = redis.call('HGET', KEYS[2], 'seq')
local hash = redis.call('HGET', KEYS[2], 'hash')
if not hash then
  local anchor = redis.call('GET', KEYS[3])
  if anchor then
    local colon = string.find(anchor, ':', 1, true)
    if colon then
      seq = string.sub(anchor, 1, colon - 1)
      hash = string.sub(anchor, colon + 1)
    else
      hash = anchor
    end
  else
    hash = string.rep('0', 64)
  end
end
seq = seq or '0'
if seq ~= ARGV[1] or hash ~= ARGV[2] then return {0, seq, hash} end
if ARGV[5] ~= '' and redis.call('HGET', KEYS[4], 'version') ~= ARGV[5] then return {-1} end
redis.call('RPUSH', KEYS[1], unpack(ARGV, 7))
redis.call('HSET', KEYS[2], 'hash', ARGV[4], 'seq', ARGV[3])
if ARGV[5] ~= '' then
  redis.call('DEL', KEYS[4])
  redis.call('ZREM', KEYS[5], ARGV[6])
end
return {1}`;

/**
 * Adds a process's counts to its minute's counts, and names the minute as
 * waiting for its summary. An address gets a field of its own only while fewer
 * than the cap are named for its group; beyond, it is counted in the group's spill.
 * KEYS: 1 the minute's counts, 2 minutes waiting. ARGV: 1 minute, 2 cap, then (field, n, cap field, spill field) repeated.
 */
const COUNT = `
local cap = tonumber(ARGV[2])
for i = 3, #ARGV, 4 do
  local field, n, capField, spill = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
  if capField == '' or redis.call('HEXISTS', KEYS[1], field) == 1 then
    redis.call('HINCRBY', KEYS[1], field, n)
  elseif tonumber(redis.call('HGET', KEYS[1], capField) or '0') < cap then
    redis.call('HINCRBY', KEYS[1], capField, 1)
    redis.call('HINCRBY', KEYS[1], field, n)
  else
    redis.call('HINCRBY', KEYS[1], spill, n)
  end
end
redis.call('HINCRBY', KEYS[1], 'version', 1)
redis.call('ZADD', KEYS[2], ARGV[1], ARGV[1])
return 1`;

/** Forgets a waiting minute whose counts are gone (another process summarised it), atomically with the check. KEYS: 1 counts, 2 minutes waiting. ARGV: 1 minute. */
const FORGET = `
if redis.call('EXISTS', KEYS[1]) == 0 then redis.call('ZREM', KEYS[2], ARGV[1]) end
return 1`;

/**
 * Retention: trims the first n entries and anchors the chain on the last of
 * them, if that entry is still where it was read (a purge in another process
 * would otherwise trim twice). KEYS: 1 log, 2 anchor. ARGV: 1 n, 2 the n-th entry as read, 3 new anchor.
 */
const TRIM = `
local n = tonumber(ARGV[1])
if redis.call('LINDEX', KEYS[1], n - 1) ~= ARGV[2] then return 0 end
redis.call('SET', KEYS[2], ARGV[3])
redis.call('LTRIM', KEYS[1], n, -1)
return 1`;

interface Scripted {
  auditAppend(...args: string[]): Promise<[number, string?, string?]>;
  auditCount(...args: string[]): Promise<number>;
  auditForget(...args: string[]): Promise<number>;
  auditTrim(...args: string[]): Promise<number>;
}

interface Prepared {
  entries: AuditEntry[];
  /** a summary: its minute, and the version of the counts it was made from */
  summary?: { minute: number; version: string };
}

interface Task {
  prepare: () => Promise<Prepared | undefined>;
  resolve: (chained: ChainedEntry[] | undefined) => void;
  reject: (error: unknown) => void;
}

interface Tally {
  count: number;
  /** rejections that would have had an entry of their own, but the backlog was full */
  overflow: number;
  codes: Map<string, number>;
  sources: Map<string, number>;
  otherSources: number;
}

/**
 * The anchor is `<seq>:<hash>`; anchors written before it carried the sequence
 * number are a bare hash, and are still read.
 */
function parsePoint(raw: string | null): { seq: number | undefined; hash: string } | null {
  if (raw === null) return null;
  const match = /^(\d+):([0-9a-f]{64})$/.exec(raw);
  return match ? { seq: Number(match[1]), hash: match[2] as string } : { seq: undefined, hash: raw };
}

function emptyTally(): Tally {
  return { count: 0, overflow: 0, codes: new Map(), sources: new Map(), otherSources: 0 };
}

function add(map: Map<string, number>, key: string, n: number): void {
  map.set(key, (map.get(key) ?? 0) + n);
}

function mergeTally(into: Tally, from: Tally): void {
  into.count += from.count;
  into.overflow += from.overflow;
  for (const [code, n] of from.codes) add(into.codes, code, n);
  for (const [source, n] of from.sources) {
    if (into.sources.has(source) || into.sources.size < SOURCES_NAMED) add(into.sources, source, n);
    else into.otherSources += n;
  }
  into.otherSources += from.otherSources;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Logins, operator actions and security events: who, what, when, from where,
 * with what result. Append-only and chained by SM3, so `npm run audit:verify`
 * names the first record that was changed or removed.
 *
 * Each process appends through one queue, so its own appends never compete;
 * processes compete only in the check-and-append script, and each conflict
 * means another process's append went in. The queue is bounded. Rejections
 * that prove nothing about the caller are not chained one by one: they are
 * counted, and each minute gets one summary entry per actor, action and result.
 */
export class AuditLog extends RedisStore {
  readonly #backlog: number;
  readonly #onError: (error: unknown) => void;
  readonly #scripted: Scripted;
  readonly #queue: Task[] = [];
  #draining: Promise<void> | undefined;
  /** the head as this process last saw it; a wrong guess costs one round trip, which answers the real head */
  #head: ChainPoint | undefined;
  /** minute -> group (JSON of actor, action, result) -> counts not yet in Redis */
  #tallies = new Map<number, Map<string, Tally>>();
  #timer: NodeJS.Timeout | undefined;
  #ticking = false;
  #flushing: Promise<void> = Promise.resolve();
  /** when the last flush that went through took this process's counts */
  #countsTakenAt: number | undefined;

  constructor(redis: Redis, keys: Keys, now: () => number, options: AuditLogOptions = {}) {
    super(redis, keys, now);
    this.#backlog = options.backlog ?? DEFAULT_BACKLOG;
    this.#onError = options.onError ?? (() => undefined);
    if (!('auditAppend' in redis)) redis.defineCommand('auditAppend', { numberOfKeys: 5, lua: APPEND });
    if (!('auditCount' in redis)) redis.defineCommand('auditCount', { numberOfKeys: 2, lua: COUNT });
    if (!('auditForget' in redis)) redis.defineCommand('auditForget', { numberOfKeys: 2, lua: FORGET });
    if (!('auditTrim' in redis)) redis.defineCommand('auditTrim', { numberOfKeys: 2, lua: TRIM });
    this.#scripted = redis as unknown as Scripted;
  }

  /** Appends waiting in this process (the one being appended not included). */
  get queued(): number {
    return this.#queue.length;
  }

  /**
   * Appends one entry, stamped when its turn comes, so that a process's entries
   * are in time order. Rejects with STORE_UNAVAILABLE when the backlog is full
   * or the chain cannot be appended to.
   */
  async record(entry: Omit<AuditEntry, 'at'>): Promise<ChainedEntry> {
    const detail = entry.detail ? { detail: redact(entry.detail) as Record<string, unknown> } : {};
    const chained = await this.#enqueue(() => Promise.resolve({ entries: [{ ...entry, ...detail, at: new Date(this.now()).toISOString() }] }), true);
    const first = chained?.[0];
    if (!first) throw new GatewayError('INTERNAL', 'audit entry was not appended');
    return first;
  }

  /**
   * An entry of its own while the backlog has room; beyond, counted into the
   * minute's summary as an overflow, so that a burst costs memory for counts,
   * not for entries. Never rejects: a failed append is counted the same way.
   */
  async recordOrCount(entry: Omit<AuditEntry, 'at'>, code: string): Promise<void> {
    const counted: CountedRejection = { actor: entry.actor, action: entry.action, result: entry.result, from: entry.from, code };
    if (this.#queue.length >= this.#backlog) {
      this.count(counted, true);
      return;
    }
    try {
      await this.record(entry);
    } catch {
      this.count(counted, true);
    }
  }

  /**
   * Counts a rejection into its minute's summary (in memory; added up in Redis
   * within a second). One summary entry is chained per minute and group once
   * the minute has closed, by whichever process sees it closed first.
   */
  count(rejection: CountedRejection, overflow = false): void {
    const minute = Math.floor(this.now() / MINUTE_MS);
    let groups = this.#tallies.get(minute);
    if (!groups) {
      groups = new Map();
      this.#tallies.set(minute, groups);
    }
    const group = JSON.stringify([rejection.actor, rejection.action, rejection.result]);
    let tally = groups.get(group);
    if (!tally) {
      tally = emptyTally();
      groups.set(group, tally);
    }
    tally.count += 1;
    if (overflow) tally.overflow += 1;
    add(tally.codes, rejection.code, 1);
    if (tally.sources.has(rejection.from) || tally.sources.size < SOURCES_NAMED) add(tally.sources, rejection.from, 1);
    else tally.otherSources += 1;
    if (this.#tallies.size > UNFLUSHED_MINUTES_KEPT) this.#foldOldMinutes();
  }

  /** Starts the periodic flush of counts and summary of closed minutes (unref'd: it keeps no process alive). */
  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => void this.#tick(), FLUSH_INTERVAL_MS);
    this.#timer.unref();
  }

  /**
   * This process's counts into Redis, every minute closed by now summarised,
   * and every append queued so far done.
   */
  async flush(): Promise<void> {
    await this.#flushCounts();
    let found: number;
    do found = await this.#summariseClosed();
    while (found === SUMMARIES_PER_PASS);
    await this.#idle();
  }

  /**
   * Stops the timer, hands this process's counts to Redis (their minute is
   * summarised by whichever process sees it closed, or at the next start) and
   * waits for the appends in flight.
   */
  async close(boundMs = CLOSE_BOUND_MS): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    try {
      await this.#flushCounts();
    } catch (error) {
      this.#onError(error);
    }
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), boundMs);
    });
    try {
      // with Redis gone, a full backlog would hold the shutdown for its every attempt
      if ((await Promise.race([this.#idle(), bound])) === 'late') {
        for (let task = this.#queue.shift(); task; task = this.#queue.shift()) task.reject(new GatewayError('STORE_UNAVAILABLE', 'audit log closed before the entry was appended'));
      }
    } finally {
      clearTimeout(timer);
    }
  }

  async #tick(): Promise<void> {
    if (this.#ticking) return;
    this.#ticking = true;
    try {
      await this.#flushCounts();
      await this.#summariseClosed();
    } catch (error) {
      this.#onError(error);
    } finally {
      this.#ticking = false;
    }
  }

  async #idle(): Promise<void> {
    while (this.#draining) await this.#draining;
  }

  #enqueue(prepare: () => Promise<Prepared | undefined>, bounded: boolean): Promise<ChainedEntry[] | undefined> {
    if (bounded && this.#queue.length >= this.#backlog) {
      return Promise.reject(new GatewayError('STORE_UNAVAILABLE', `audit log: ${this.#queue.length} appends already waiting`));
    }
    return new Promise((resolve, reject) => {
      this.#queue.push({ prepare, resolve, reject });
      this.#draining ??= this.#drain();
    });
  }

  async #drain(): Promise<void> {
    try {
      for (let task = this.#queue.shift(); task; task = this.#queue.shift()) {
        try {
          task.resolve(await this.#append(task.prepare));
        } catch (error) {
          task.reject(error);
        }
      }
    } finally {
      this.#draining = undefined;
    }
  }

  /** Only ever one at a time per process (#drain). */
  async #append(prepare: () => Promise<Prepared | undefined>): Promise<ChainedEntry[] | undefined> {
    const { log, head: headKey, anchor, summaries } = this.keys.auditChain;
    for (let attempt = 1; ; attempt++) {
      // prepared again on every attempt: the stamp, and a summary's counts, must be current
      const prepared = await prepare();
      if (!prepared || prepared.entries.length === 0) return undefined;
      const head = this.#head ?? { seq: 0, hash: GENESIS };
      const chained: ChainedEntry[] = [];
      let previous = head;
      for (const entry of prepared.entries) {
        const unhashed = { ...entry, seq: previous.seq + 1, prevHash: previous.hash };
        const link: ChainedEntry = { ...unhashed, hash: entryHash(unhashed) };
        chained.push(link);
        previous = link;
      }
      const { summary } = prepared;
      const countsKey = summary ? this.keys.auditChain.summary(summary.minute) : summaries;
      const [outcome, seq, hash] = await this.#scripted.auditAppend(
        log,
        headKey,
        anchor,
        countsKey,
        summaries,
        String(head.seq),
        head.hash,
        String(previous.seq),
        previous.hash,
        summary?.version ?? '',
        summary ? String(summary.minute) : '',
        ...chained.map((link) => JSON.stringify(link)),
      );
      if (outcome === 1) {
        this.#head = { seq: previous.seq, hash: previous.hash };
        return chained;
      }
      if (outcome === 0) this.#head = { seq: Number(seq), hash: String(hash) };
      if (attempt >= APPEND_ATTEMPTS) throw new GatewayError('STORE_UNAVAILABLE', `audit log: not appended after ${attempt} attempts`);
      // the first retry goes at once (the conflict answered the new head); later ones spread out against a busy peer
      if (attempt > 1) await delay(Math.random() * Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** attempt));
    }
  }

  /** While Redis does not take the counts, the oldest minutes are folded into the next one: bounded memory, counts kept. */
  #foldOldMinutes(): void {
    while (this.#tallies.size > UNFLUSHED_MINUTES_KEPT) {
      const [oldest, next] = [...this.#tallies.keys()].sort((a, b) => a - b);
      if (oldest === undefined || next === undefined) return;
      this.#mergeMinute(next, this.#tallies.get(oldest) ?? new Map<string, Tally>());
      this.#tallies.delete(oldest);
    }
  }

  #mergeMinute(minute: number, groups: Map<string, Tally>): void {
    let into = this.#tallies.get(minute);
    if (!into) {
      into = new Map();
      this.#tallies.set(minute, into);
    }
    for (const [group, tally] of groups) {
      const existing = into.get(group);
      if (existing) mergeTally(existing, tally);
      else into.set(group, tally);
    }
  }

  /**
   * One flush at a time: when one is done, every count made before it started
   * is in Redis, which is what a summary of this process's minutes relies on.
   */
  #flushCounts(): Promise<void> {
    const flushed = this.#flushing.then(() => this.#flushCountsNow());
    this.#flushing = flushed.catch(() => undefined);
    return flushed;
  }

  async #flushCountsNow(): Promise<void> {
    const takenAt = this.now();
    if (this.#tallies.size === 0) {
      this.#countsTakenAt = takenAt;
      return;
    }
    const taken = this.#tallies;
    this.#tallies = new Map();
    const { summaries } = this.keys.auditChain;
    const failures: unknown[] = [];
    await Promise.all(
      [...taken].map(async ([minute, groups]) => {
        const args: string[] = [];
        for (const [group, tally] of groups) {
          const [actor, action, result] = JSON.parse(group) as [string, string, string];
          const field = (name: string) => JSON.stringify([actor, action, result, name]);
          const plain = (name: string, n: number) => {
            if (n > 0) args.push(field(name), String(n), '', '');
          };
          plain('count', tally.count);
          plain('overflow', tally.overflow);
          plain('from*', tally.otherSources);
          for (const [code, n] of tally.codes) plain(`code:${code}`, n);
          for (const [source, n] of tally.sources) args.push(field(`from:${source}`), String(n), field('named'), field('from*'));
        }
        try {
          await this.#scripted.auditCount(this.keys.auditChain.summary(minute), summaries, String(minute), String(SOURCES_NAMED), ...args);
        } catch (error) {
          failures.push(error);
          this.#mergeMinute(minute, groups);
          this.#foldOldMinutes();
        }
      }),
    );
    if (failures.length > 0) throw failures[0] instanceof Error ? failures[0] : new GatewayError('STORE_UNAVAILABLE', 'audit counts not written');
    this.#countsTakenAt = takenAt;
  }

  /** Queues the summary of closed minutes waiting for one; answers how many it found. */
  async #summariseClosed(): Promise<number> {
    // closed by the time of this process's last flush: a count made since may still be of an earlier minute
    const closedBefore = Math.floor((Math.min(this.now(), this.#countsTakenAt ?? -Infinity) - SUMMARY_GRACE_MS) / MINUTE_MS);
    if (!Number.isFinite(closedBefore)) return 0;
    const minutes = await this.redis.zrangebyscore(this.keys.auditChain.summaries, '-inf', `(${closedBefore}`, 'LIMIT', 0, SUMMARIES_PER_PASS);
    for (const minute of minutes) await this.#enqueue(() => this.#prepareSummary(Number(minute)), false);
    return minutes.length;
  }

  async #prepareSummary(minute: number): Promise<Prepared | undefined> {
    const { summaries } = this.keys.auditChain;
    const countsKey = this.keys.auditChain.summary(minute);
    const counts = await this.redis.hgetall(countsKey);
    const version = counts['version'];
    if (version === undefined) {
      await this.#scripted.auditForget(countsKey, summaries, String(minute));
      return undefined;
    }
    const groups = new Map<string, { actor: string; action: string; result: AuditEntry['result']; tally: Tally }>();
    for (const [field, value] of Object.entries(counts)) {
      if (field === 'version') continue;
      let parsed: unknown;
      try {
        parsed = JSON.parse(field);
      } catch {
        continue;
      }
      if (!Array.isArray(parsed) || parsed.length !== 4 || !parsed.every((part) => typeof part === 'string')) continue;
      const [actor, action, result, name] = parsed as [string, string, AuditEntry['result'], string];
      const group = JSON.stringify([actor, action, result]);
      let found = groups.get(group);
      if (!found) {
        found = { actor, action, result, tally: emptyTally() };
        groups.set(group, found);
      }
      const n = Number(value);
      const { tally } = found;
      if (name === 'count') tally.count += n;
      else if (name === 'overflow') tally.overflow += n;
      else if (name === 'from*') tally.otherSources += n;
      else if (name.startsWith('code:')) add(tally.codes, name.slice('code:'.length), n);
      else if (name.startsWith('from:')) add(tally.sources, name.slice('from:'.length), n);
    }
    const at = new Date(this.now()).toISOString();
    const entries = [...groups.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, { actor, action, result, tally }]): AuditEntry => {
        const sources = [...tally.sources].sort(([, a], [, b]) => b - a);
        return {
          at,
          actor,
          action: `${action}.summary`,
          from: sources[0]?.[0] ?? '',
          result,
          detail: {
            minute: new Date(minute * MINUTE_MS).toISOString(),
            count: tally.count,
            codes: Object.fromEntries(tally.codes),
            sources: Object.fromEntries(sources),
            ...(tally.otherSources > 0 ? { otherSources: tally.otherSources } : {}),
            ...(tally.overflow > 0 ? { overflow: tally.overflow } : {}),
          },
        };
      });
    return { entries, summary: { minute, version } };
  }

  /** Newest first. */
  async recent(limit = 200): Promise<ChainedEntry[]> {
    const entries = await this.redis.lrange(this.keys.auditChain.log, -limit, -1);
    return entries.map((entry) => JSON.parse(entry) as ChainedEntry).reverse();
  }

  /**
   * Checks the chain from its anchor up to its head, in batches: every entry
   * hashes to what it says and follows the one before it, numbers run on from
   * the anchor's, and the last entry is the head (so the newest entries cannot
   * be removed unseen). Entries appended while it reads are beyond the head it
   * read first, and left for the next run.
   */
  async verify(batch = 1000): Promise<VerifyResult> {
    for (let attempt = 1; ; attempt++) {
      const { result, anchorRaw } = await this.#verifyOnce(batch);
      if (result.ok || attempt >= 3) return result;
      // a purge meanwhile shifts the list under the reader: read again from its new anchor
      if ((await this.redis.get(this.keys.auditChain.anchor)) === anchorRaw) return result;
    }
  }

  async #verifyOnce(batch: number): Promise<{ result: VerifyResult; anchorRaw: string | null }> {
    const { log, head: headKey, anchor: anchorKey } = this.keys.auditChain;
    const [anchorRaw, headHash, headSeq] = (((await this.redis.multi().get(anchorKey).hget(headKey, 'hash').hget(headKey, 'seq').exec()) ?? []) as [unknown, string | null][]).map(
      ([, value]) => value ?? null,
    );
    const anchor = parsePoint(anchorRaw ?? null);
    const head: ChainPoint | null = headHash ? { seq: Number(headSeq ?? 0), hash: headHash } : null;
    const fail = (index: number, seq: number | undefined, at: string | undefined, problem: string) => ({ result: { ok: false as const, index, seq, at, problem }, anchorRaw: anchorRaw ?? null });
    let previous = anchor?.hash ?? GENESIS;
    // with an anchor written before anchors carried a number, the first entry's number is taken as it is
    let expectedSeq = anchor ? (anchor.seq === undefined ? undefined : anchor.seq + 1) : 1;
    let last: ChainedEntry | undefined;
    let index = 0;
    reading: for (;;) {
      const page = await this.redis.lrange(log, index, index + batch - 1);
      for (const raw of page) {
        let entry: ChainedEntry;
        try {
          entry = JSON.parse(raw) as ChainedEntry;
        } catch {
          return fail(index, undefined, undefined, 'not JSON');
        }
        const { hash, ...rest } = entry;
        if (entry.prevHash !== previous) return fail(index, entry.seq, entry.at, 'does not follow the entry before it (one was removed, inserted or changed)');
        if (expectedSeq !== undefined && entry.seq !== expectedSeq) return fail(index, entry.seq, entry.at, `sequence jumps from ${expectedSeq - 1}`);
        if (entryHash(rest) !== hash) return fail(index, entry.seq, entry.at, 'its content does not match its hash (changed)');
        previous = hash;
        expectedSeq = entry.seq + 1;
        last = entry;
        index++;
        if (head && entry.seq >= head.seq) break reading;
      }
      if (page.length < batch) break;
    }
    if (!head) {
      if (last || anchor) return fail(index, undefined, undefined, 'the chain has no head (it was removed)');
      return { result: { ok: true, entries: 0, head: null }, anchorRaw: null };
    }
    if (!last) {
      // everything purged: the head is then the anchor
      if (!anchor || anchor.hash !== head.hash || (anchor.seq !== undefined && anchor.seq !== head.seq)) {
        return fail(0, head.seq, undefined, `the log is empty but its head is entry ${head.seq}: entries were removed`);
      }
      return { result: { ok: true, entries: 0, head: { seq: head.seq, hash: head.hash } }, anchorRaw: anchorRaw ?? null };
    }
    if (last.seq !== head.seq || last.hash !== head.hash) {
      return fail(index, head.seq, undefined, `the log ends at entry ${last.seq} but its head is entry ${head.seq}: the newest entries were removed, or the head changed`);
    }
    return { result: { ok: true, entries: index, head: { seq: last.seq, hash: last.hash, at: last.at } }, anchorRaw: anchorRaw ?? null };
  }

  /**
   * Whether the chain still holds a place an auditor recorded outside Redis:
   * the entry is there unchanged, or retention purged it, which it may only
   * have done if the entry is older than `purgeableBefore`. Run after verify().
   */
  async holds(mark: ChainMark, purgeableBefore: number): Promise<MarkCheck> {
    const { log, head: headKey, anchor: anchorKey } = this.keys.auditChain;
    if (mark.seq === 0) return mark.hash === GENESIS ? { ok: true, state: 'purged' } : { ok: false, problem: 'entry 0 of the anchor file is not the genesis' };
    const [headSeqRaw, anchorRaw, firstRaw] = (((await this.redis.multi().hget(headKey, 'seq').get(anchorKey).lindex(log, 0).exec()) ?? []) as [unknown, string | null][]).map(([, value]) => value ?? null);
    const headSeq = Number(headSeqRaw ?? 0);
    if (mark.seq > headSeq) return { ok: false, problem: `the chain's head is entry ${headSeq}, before entry ${mark.seq} recorded in the anchor file: entries were removed` };
    let firstSeq = headSeq + 1;
    if (firstRaw) {
      try {
        firstSeq = (JSON.parse(firstRaw) as ChainedEntry).seq;
      } catch {
        return { ok: false, problem: 'the first entry is not JSON' };
      }
    }
    if (mark.seq >= firstSeq) {
      const raw = await this.redis.lindex(log, mark.seq - firstSeq);
      let entry: ChainedEntry | undefined;
      try {
        entry = raw ? (JSON.parse(raw) as ChainedEntry) : undefined;
      } catch {
        entry = undefined;
      }
      if (!entry || entry.seq !== mark.seq || entry.hash !== mark.hash) return { ok: false, problem: `entry ${mark.seq} is not the one recorded in the anchor file (changed or replaced)` };
      return { ok: true, state: 'present' };
    }
    const anchor = parsePoint(anchorRaw ?? null);
    if (anchor?.seq === mark.seq && anchor.hash !== mark.hash) return { ok: false, problem: `the chain is anchored on entry ${mark.seq} with another hash than the anchor file's` };
    if (mark.at === undefined) {
      // recorded when it was already the purge anchor: only its hash can be compared
      return anchor?.seq === mark.seq || (anchor?.seq ?? 0) > mark.seq ? { ok: true, state: 'purged' } : { ok: false, problem: `entry ${mark.seq} is gone` };
    }
    if (!(Date.parse(mark.at) < purgeableBefore)) {
      return { ok: false, problem: `entry ${mark.seq} (${mark.at}) was removed, but retention keeps entries after ${new Date(purgeableBefore).toISOString()}` };
    }
    return { ok: true, state: 'purged' };
  }

  /**
   * Retention: removes the leading run of entries older than `cutoff`, and
   * anchors the chain on the last one removed (number and hash) so that what
   * remains still verifies. It stops at the first younger entry: entries of
   * several processes need not be in exact time order, and only a prefix can
   * be removed without breaking the chain.
   */
  async purgeBefore(cutoff: number, batch = 500): Promise<number> {
    const { log, anchor } = this.keys.auditChain;
    let purged = 0;
    for (;;) {
      const page = await this.redis.lrange(log, 0, batch - 1);
      let count = 0;
      let last: { entry: ChainedEntry; raw: string } | undefined;
      for (const raw of page) {
        let entry: ChainedEntry;
        try {
          entry = JSON.parse(raw) as ChainedEntry;
        } catch {
          break;
        }
        if (!(Date.parse(entry.at) < cutoff)) break;
        count++;
        last = { entry, raw };
      }
      if (!last) return purged;
      // 0: another process purged meanwhile; read the new front
      if ((await this.#scripted.auditTrim(log, anchor, String(count), last.raw, `${last.entry.seq}:${last.entry.hash}`)) === 1) {
        purged += count;
        if (count < page.length) return purged;
      }
    }
  }
}
