import type { Redis } from 'ioredis';
import { sm3Hex } from '../kernel/crypto/digest.ts';
import { canonicalJson } from '../kernel/crypto/jcs.ts';
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

/**
 * Appends only if the chain's head is still what the caller read: every
 * process appends to one chain without a lock, retrying when another won.
 * KEYS: 1 the log, 2 its head (hash and seq). ARGV: 1 expected head hash, 2 entry, 3 new hash, 4 new seq.
 */
const APPEND = `
local head = redis.call('HGET', KEYS[2], 'hash') or ARGV[5]
if head ~= ARGV[1] then return 0 end
redis.call('RPUSH', KEYS[1], ARGV[2])
redis.call('HSET', KEYS[2], 'hash', ARGV[3], 'seq', ARGV[4])
return 1`;

/**
 * Logins, operator actions and security events: who, what, when, from where,
 * with what result. Append-only and chained by SM3, so `npm run audit:verify`
 * names the first record that was changed or removed.
 */
export class AuditLog extends RedisStore {
  constructor(redis: Redis, keys: Keys, now: () => number) {
    super(redis, keys, now);
    if (!('auditAppend' in redis)) redis.defineCommand('auditAppend', { numberOfKeys: 2, lua: APPEND });
  }

  async record(entry: Omit<AuditEntry, 'at'>): Promise<ChainedEntry> {
    const base: AuditEntry = { at: new Date(this.now()).toISOString(), ...entry, ...(entry.detail ? { detail: redact(entry.detail) as Record<string, unknown> } : {}) };
    const { log, head, anchor } = this.keys.auditChain;
    const scripted = this.redis as unknown as { auditAppend(...args: string[]): Promise<number> };
    for (;;) {
      const [hash, seq, anchorHash] = (((await this.redis.multi().hget(head, 'hash').hget(head, 'seq').get(anchor).exec()) ?? []) as [unknown, string | null][]).map(([, value]) => value);
      const prevHash = hash ?? anchorHash ?? GENESIS;
      const unhashed = { ...base, seq: Number(seq ?? 0) + 1, prevHash };
      const chained: ChainedEntry = { ...unhashed, hash: entryHash(unhashed) };
      if ((await scripted.auditAppend(log, head, prevHash, JSON.stringify(chained), chained.hash, String(chained.seq), anchorHash ?? GENESIS)) === 1) return chained;
    }
  }

  /** Newest first. */
  async recent(limit = 200): Promise<ChainedEntry[]> {
    const entries = await this.redis.lrange(this.keys.auditChain.log, -limit, -1);
    return entries.map((entry) => JSON.parse(entry) as ChainedEntry).reverse();
  }

  /**
   * Checks the chain from its anchor, in batches. Returns the first entry that
   * does not hash to what it says, or does not follow the one before it.
   */
  async verify(batch = 1000): Promise<{ ok: true; entries: number } | { ok: false; index: number; seq: number | undefined; at: string | undefined; problem: string }> {
    const { log, anchor } = this.keys.auditChain;
    let previous = (await this.redis.get(anchor)) ?? GENESIS;
    let previousSeq: number | undefined;
    let index = 0;
    for (;;) {
      const page = await this.redis.lrange(log, index, index + batch - 1);
      for (const raw of page) {
        let entry: ChainedEntry;
        try {
          entry = JSON.parse(raw) as ChainedEntry;
        } catch {
          return { ok: false, index, seq: undefined, at: undefined, problem: 'not JSON' };
        }
        const { hash, ...rest } = entry;
        if (entry.prevHash !== previous) return { ok: false, index, seq: entry.seq, at: entry.at, problem: 'does not follow the entry before it (one was removed, inserted or changed)' };
        if (previousSeq !== undefined && entry.seq !== previousSeq + 1) return { ok: false, index, seq: entry.seq, at: entry.at, problem: `sequence jumps from ${previousSeq}` };
        if (entryHash(rest) !== hash) return { ok: false, index, seq: entry.seq, at: entry.at, problem: 'its content does not match its hash (changed)' };
        previous = hash;
        previousSeq = entry.seq;
        index++;
      }
      if (page.length < batch) return { ok: true, entries: index };
    }
  }

  /**
   * Retention: removes entries older than `cutoff` from the front, and anchors
   * the chain on the last one removed so that what remains still verifies.
   */
  async purgeBefore(cutoff: number, batch = 500): Promise<number> {
    const { log, anchor } = this.keys.auditChain;
    let purged = 0;
    for (;;) {
      const page = await this.redis.lrange(log, 0, batch - 1);
      const old = page.map((raw) => JSON.parse(raw) as ChainedEntry).filter((entry) => Date.parse(entry.at) < cutoff);
      // entries are in time order: the old ones are a prefix
      const count = old.length;
      const last = old.at(-1);
      if (!last) return purged;
      await this.redis.multi().set(anchor, last.hash).ltrim(log, count, -1).exec();
      purged += count;
      if (count < page.length) return purged;
    }
  }
}
