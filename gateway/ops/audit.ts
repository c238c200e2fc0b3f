import type { Redis } from 'ioredis';
import type { Keys } from '../core/keys.ts';
import { redact } from '../core/pii.ts';

export interface AuditEntry {
  at: string;
  /** the operator's user name, or what they typed when a login failed */
  actor: string;
  action: string;
  target?: string;
  /** the client address */
  from: string;
  result: 'ok' | 'denied' | 'failed';
  detail?: Record<string, unknown>;
}

/** Every login and operator action: who, what, when, from where, with what result. Append-only. */
export class AuditLog {
  readonly #redis: Redis;
  readonly #keys: Keys;
  readonly #now: () => number;

  constructor(redis: Redis, keys: Keys, now: () => number) {
    this.#redis = redis;
    this.#keys = keys;
    this.#now = now;
  }

  async record(entry: Omit<AuditEntry, 'at'>): Promise<void> {
    const full: AuditEntry = { at: new Date(this.#now()).toISOString(), ...entry, ...(entry.detail ? { detail: redact(entry.detail) as Record<string, unknown> } : {}) };
    await this.#redis.rpush(this.#keys.audit, JSON.stringify(full));
  }

  /** Newest first. */
  async recent(limit = 200): Promise<AuditEntry[]> {
    const entries = await this.#redis.lrange(this.#keys.audit, -limit, -1);
    return entries.map((entry) => JSON.parse(entry) as AuditEntry).reverse();
  }
}
