import { randomBytes, scrypt as scryptCallback, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Keys } from '../kernel/redis/keys.ts';

export type OperatorRole = 'viewer' | 'operator' | 'admin';
export const OPERATOR_ROLES: readonly OperatorRole[] = ['viewer', 'operator', 'admin'];

/** What each role may do, from least to most. */
export function roleAllows(role: OperatorRole, needed: OperatorRole): boolean {
  return OPERATOR_ROLES.indexOf(role) >= OPERATOR_ROLES.indexOf(needed);
}

const SCRYPT = { N: 2 ** 15, r: 8, p: 1, keyLength: 64, maxmem: 64 * 1024 * 1024 };
export const MIN_PASSWORD_LENGTH = 12;

function scrypt(password: string, salt: Buffer, keyLength: number, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => scryptCallback(password, salt, keyLength, options, (error, key) => (error ? reject(error) : resolve(key))));
}

/** `scrypt$N$r$p$salt$hash`, base64 parts: the parameters travel with the hash, so they can be raised later. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(password, salt, SCRYPT.keyLength, { N: SCRYPT.N, r: SCRYPT.r, p: SCRYPT.p, maxmem: SCRYPT.maxmem });
  return ['scrypt', SCRYPT.N, SCRYPT.r, SCRYPT.p, salt.toString('base64'), key.toString('base64')].join('$');
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !n || !r || !p || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64');
  const key = await scrypt(password, Buffer.from(salt, 'base64'), expected.length, { N: Number(n), r: Number(r), p: Number(p), maxmem: SCRYPT.maxmem });
  return timingSafeEqual(key, expected);
}

export interface Account {
  username: string;
  role: OperatorRole;
  createdAt: string;
}

export type LoginResult =
  | { ok: true; account: Account }
  | { ok: false; reason: 'unknown-or-wrong' | 'locked'; lockedUntil?: number };

/** A hash compared against when the user does not exist, so timing does not tell who exists. */
let decoyHash: Promise<string> | undefined;

/**
 * Local operator accounts in Redis: scrypt hashes, roles, and a lockout after
 * too many wrong passwords in a row.
 */
export class AccountStore {
  readonly #redis: Redis;
  readonly #keys: Keys;
  readonly #lockout: { attempts: number; minutes: number };

  constructor(redis: Redis, keys: Keys, lockout: { attempts: number; minutes: number }) {
    this.#redis = redis;
    this.#keys = keys;
    this.#lockout = lockout;
  }

  #key(username: string): string {
    return this.#keys.opsAccount(username);
  }

  /** Creates or replaces an account. No account exists until someone creates one: there is no default password. */
  async put(username: string, password: string, role: OperatorRole, now: number): Promise<void> {
    if (!/^[A-Za-z0-9._-]{2,64}$/.test(username)) throw new Error('username: 2-64 of letters, digits, . _ -');
    if ([...password].length < MIN_PASSWORD_LENGTH) throw new Error(`password: at least ${MIN_PASSWORD_LENGTH} characters`);
    await this.#redis.hset(this.#key(username), 'passwordHash', await hashPassword(password), 'role', role, 'createdAt', new Date(now).toISOString(), 'failures', '0', 'lockedUntil', '0');
  }

  async get(username: string): Promise<Account | undefined> {
    const [role, createdAt] = await this.#redis.hmget(this.#key(username), 'role', 'createdAt');
    if (!role || !OPERATOR_ROLES.includes(role as OperatorRole)) return undefined;
    return { username, role: role as OperatorRole, createdAt: createdAt ?? '' };
  }

  async login(username: string, password: string, now: number): Promise<LoginResult> {
    const key = this.#key(username);
    const [passwordHash, role, createdAt, lockedUntil] = await this.#redis.hmget(key, 'passwordHash', 'role', 'createdAt', 'lockedUntil');
    if (!passwordHash || !role) {
      decoyHash ??= hashPassword(randomBytes(16).toString('hex'));
      await verifyPassword(password, await decoyHash);
      return { ok: false, reason: 'unknown-or-wrong' };
    }
    const lockedMs = Number(lockedUntil ?? 0);
    if (lockedMs > now) return { ok: false, reason: 'locked', lockedUntil: lockedMs };
    if (await verifyPassword(password, passwordHash)) {
      await this.#redis.hset(key, 'failures', '0', 'lockedUntil', '0');
      return { ok: true, account: { username, role: role as OperatorRole, createdAt: createdAt ?? '' } };
    }
    const failures = await this.#redis.hincrby(key, 'failures', 1);
    if (failures >= this.#lockout.attempts) {
      const until = now + this.#lockout.minutes * 60 * 1000;
      await this.#redis.hset(key, 'lockedUntil', String(until), 'failures', '0');
      return { ok: false, reason: 'locked', lockedUntil: until };
    }
    return { ok: false, reason: 'unknown-or-wrong' };
  }
}
