import type { Redis } from 'ioredis';
import type { FieldCipher } from '../kernel/crypto/field-cipher.ts';
import { idFactory, ulidTime } from '../kernel/ids.ts';
import type { Keys } from '../kernel/redis/keys.ts';

/**
 * Adds one sealed request and trims the ring in the same step: the newest
 * ARGV[3] are kept, none refused before ARGV[4] (epoch ms), and the key lives
 * ARGV[5] ms past its last refusal. One command a refusal, whatever the flood.
 */
const KEEP = `
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZREMRANGEBYRANK', KEYS[1], 0, -1 - tonumber(ARGV[3]))
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return 1
`;

/** A refused partner request as it came off the wire, opened. */
export interface RefusedRequest {
  id: string;
  partner: string;
  operation: string;
  /** when it was refused, ISO 8601 */
  at: string;
  /** Content-Type and the headers the partner's lab checks read, lower case */
  headers: Record<string, string>;
  rawBody: Buffer;
}

/** What is sealed: the body as text when it is UTF-8 (the usual case), else base64, so that its bytes come back exactly. */
interface Sealed {
  operation: string;
  at: number;
  headers: Record<string, string>;
  body: string;
  encoding: 'utf8' | 'base64';
}

export interface RefusedRequestSettings {
  /** requests kept per partner; 0 keeps none */
  perPartner: number;
  days: number;
}

/**
 * The last refused requests of each partner, for the message lab to open one
 * exactly as it was refused: one sorted set per partner, members
 * `<id>.<sealed request>` scored by when it was refused (the id is a ULID of
 * that time, so one is found by its score). Bodies carry contact names and
 * phones, headers signatures: all of it is sealed with the personal-data key.
 *
 * At most perPartner entries a partner, each at most the intake body limit,
 * so a flood of unsigned requests costs one bounded key a partner. An entry
 * past its days is not returned; it leaves Redis with the next refusal of its
 * partner, or with the key, `days` after the last one.
 */
export class RefusedRequestStore {
  readonly #redis: Redis;
  readonly #keys: Keys;
  readonly #cipher: FieldCipher;
  readonly #now: () => number;
  readonly #settings: RefusedRequestSettings;
  /** monotonic: refusals of one millisecond sort, and so roll out, in the order they came */
  readonly #nextId = idFactory();

  constructor(redis: Redis, keys: Keys, cipher: FieldCipher, now: () => number, settings: RefusedRequestSettings) {
    this.#redis = redis;
    this.#keys = keys;
    this.#cipher = cipher;
    this.#now = now;
    this.#settings = settings;
    if (!('refusedKeep' in redis)) redis.defineCommand('refusedKeep', { numberOfKeys: 1, lua: KEEP });
  }

  get #lifetimeMs(): number {
    return Math.round(this.#settings.days * 24 * 3600 * 1000);
  }

  /**
   * Seals and keeps one refused request. The id comes back at once, for the
   * security event to name; `written` settles when Redis has it (nobody need
   * wait: a partner's answer never waits for it). Undefined when none are kept.
   */
  keep(partner: string, request: { operation: string; headers: Record<string, string>; rawBody: Buffer }): { id: string; written: Promise<void> } | undefined {
    if (this.#settings.perPartner === 0) return undefined;
    const now = this.#now();
    const id = this.#nextId(now);
    // the id's own time (a clock set back keeps the last one): what get() looks it up by
    const score = ulidTime(id) ?? now;
    const text = request.rawBody.toString('utf8');
    const utf8 = Buffer.byteLength(text) === request.rawBody.length && Buffer.from(text, 'utf8').equals(request.rawBody);
    const sealed: Sealed = { operation: request.operation, at: now, headers: request.headers, body: utf8 ? text : request.rawBody.toString('base64'), encoding: utf8 ? 'utf8' : 'base64' };
    const member = `${id}.${this.#cipher.encrypt(JSON.stringify(sealed))}`;
    const scripted = this.#redis as unknown as { refusedKeep(key: string, score: number, member: string, kept: number, since: number, ttlMs: number): Promise<unknown> };
    const written = scripted.refusedKeep(this.#keys.refusedRequests(partner), score, member, this.#settings.perPartner, now - this.#lifetimeMs, this.#lifetimeMs).then(() => undefined);
    return { id, written };
  }

  /** One kept request, opened; undefined once it has rolled out of the ring, outlived its days, or cannot be opened. */
  async get(partner: string, id: string): Promise<RefusedRequest | undefined> {
    const at = ulidTime(id);
    if (at === undefined || at < this.#now() - this.#lifetimeMs) return undefined;
    const members = await this.#redis.zrangebyscore(this.#keys.refusedRequests(partner), at, at);
    const member = members.find((candidate) => candidate.startsWith(`${id}.`));
    if (member === undefined) return undefined;
    let sealed: Sealed;
    try {
      sealed = JSON.parse(this.#cipher.decrypt(member.slice(id.length + 1))) as Sealed;
    } catch {
      // sealed under another key (rotated since): as good as gone
      return undefined;
    }
    return {
      id,
      partner,
      operation: sealed.operation,
      at: new Date(sealed.at).toISOString(),
      headers: sealed.headers,
      rawBody: Buffer.from(sealed.body, sealed.encoding),
    };
  }

  /** How many requests of a partner are kept. */
  count(partner: string): Promise<number> {
    return this.#redis.zcard(this.#keys.refusedRequests(partner));
  }
}
