import { randomBytes, scrypt as scryptCallback, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import type { Redis } from 'ioredis';
import { GatewayError } from '../kernel/errors.ts';
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
  /** a disabled account cannot log in, and its open sessions end at their next request */
  disabled: boolean;
}

/** What an open session is checked against on every request. */
export interface AccountStanding {
  role: OperatorRole;
  disabled: boolean;
  /** raised when the password is replaced or the account disabled: a session of an older epoch is over */
  epoch: number;
}

export interface LockoutPolicy {
  /** wrong passwords in a row that lock the account */
  attempts: number;
  minutes: number;
}

/**
 * `unknown-or-wrong`, `locked-unchecked` and `disabled` are answered alike (the
 * caller learns nothing about the account); only `locked`, which needed the right
 * password, is told to the user. The reason itself is for the audit log.
 */
export type LoginResult =
  | { ok: true; account: Account; epoch: number }
  | { ok: false; reason: 'unknown-or-wrong'; /** set when the account is locked now, this attempt included */ lockedUntil?: number }
  | { ok: false; reason: 'locked' | 'locked-unchecked'; lockedUntil: number }
  | { ok: false; reason: 'disabled' };

/** A hash compared against when no real one may be, so timing does not tell who exists or who is locked. */
let decoyHash: Promise<string> | undefined;
async function spendLikeAVerification(password: string): Promise<void> {
  decoyHash ??= hashPassword(randomBytes(16).toString('hex'));
  await verifyPassword(password, await decoyHash);
}

/**
 * Admits one login attempt before its password is checked, and counts it in the
 * same step: parallel guesses cannot all read "not locked" before any of them is
 * counted. The attempt that reaches the limit locks the account at once; if its
 * password turns out right, the login clears the lock again.
 * While locked, a few passwords are still checked (as many as the limit, per lock)
 * so that the right one can be told the account is locked; beyond that none is,
 * which bounds what a lock lets an attacker learn to twice the limit per lock period.
 * KEYS: 1 the account. ARGV: 1 now (ms), 2 attempts, 3 lock length (ms).
 * Returns {verdict, hash, lockedUntil, epoch}: verdict unknown, disabled, check, locked or refused.
 * The epoch is read here, before the check: a password replaced while the old one
 * was being checked must still end the session that old password opens.
 */
const ADMIT = `
local f = redis.call('HMGET', KEYS[1], 'passwordHash', 'role', 'disabled', 'lockedUntil', 'epoch')
if not f[1] or not f[2] then return {'unknown', '', '0', '0'} end
if f[3] == '1' then return {'disabled', '', '0', '0'} end
local now = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local lockedUntil = tonumber(f[4] or '0') or 0
if lockedUntil > now then
  if redis.call('HINCRBY', KEYS[1], 'lockProbes', 1) > limit then return {'refused', '', f[4], '0'} end
  return {'locked', f[1], f[4], '0'}
end
if lockedUntil > 0 then redis.call('HSET', KEYS[1], 'failures', '0', 'lockedUntil', '0', 'lockProbes', '0') end
local failures = redis.call('HINCRBY', KEYS[1], 'failures', 1)
local locks = '0'
if failures >= limit then
  locks = string.format('%.0f', now + tonumber(ARGV[3]))
  redis.call('HSET', KEYS[1], 'lockedUntil', locks, 'lockProbes', '0')
end
return {'check', f[1], locks, f[5] or '0'}`;

/**
 * Changes an existing account only (a typo in a user name must not create one).
 * KEYS: 1 the account. ARGV: 1 "1" to end its open sessions, then field/value pairs.
 * Returns the role before the change, or nil when there is no such account.
 */
const UPDATE = `
if redis.call('HEXISTS', KEYS[1], 'passwordHash') == 0 then return false end
local previous = redis.call('HGET', KEYS[1], 'role')
if #ARGV > 1 then redis.call('HSET', KEYS[1], unpack(ARGV, 2)) end
if ARGV[1] == '1' then redis.call('HINCRBY', KEYS[1], 'epoch', 1) end
return previous`;

interface AccountScripts {
  accountAdmit(key: string, now: string, attempts: string, lockMs: string): Promise<[string, string, string, string]>;
  accountUpdate(key: string, endSessions: '0' | '1', ...fields: string[]): Promise<string | null>;
}

/**
 * Local operator accounts in Redis: scrypt hashes, roles, a lockout after too
 * many wrong passwords in a row, and an epoch that open sessions are checked against.
 */
export class AccountStore {
  readonly #redis: Redis;
  readonly #keys: Keys;
  readonly #lockout: LockoutPolicy | undefined;

  /** `lockout` is needed by `login` only: the account commands manage accounts without the gateway's settings. */
  constructor(redis: Redis, keys: Keys, lockout?: LockoutPolicy) {
    this.#redis = redis;
    this.#keys = keys;
    this.#lockout = lockout;
    if (!('accountAdmit' in redis)) redis.defineCommand('accountAdmit', { numberOfKeys: 1, lua: ADMIT });
    if (!('accountUpdate' in redis)) redis.defineCommand('accountUpdate', { numberOfKeys: 1, lua: UPDATE });
  }

  #key(username: string): string {
    return this.#keys.opsAccount(username);
  }

  get #scripts(): AccountScripts {
    return this.#redis as unknown as AccountScripts;
  }

  /**
   * Creates or replaces an account, enabled, unlocked; sessions of the account it
   * replaces end. No account exists until someone creates one: there is no default password.
   */
  async put(username: string, password: string, role: OperatorRole, now: number): Promise<void> {
    if (!/^[A-Za-z0-9._-]{2,64}$/.test(username)) throw new GatewayError('SEMANTIC_INVALID', 'username: 2-64 of letters, digits, . _ -');
    checkPassword(password);
    const key = this.#key(username);
    const passwordHash = await hashPassword(password);
    await this.#redis
      .multi()
      .hset(key, 'passwordHash', passwordHash, 'role', role, 'createdAt', new Date(now).toISOString(), 'failures', '0', 'lockedUntil', '0', 'lockProbes', '0')
      .hdel(key, 'disabled')
      .hincrby(key, 'epoch', 1)
      .exec();
  }

  async get(username: string): Promise<Account | undefined> {
    const [role, createdAt, disabled] = await this.#redis.hmget(this.#key(username), 'role', 'createdAt', 'disabled');
    if (!isRole(role)) return undefined;
    return { username, role, createdAt: createdAt ?? '', disabled: disabled === '1' };
  }

  /** The account as an open session must see it now; undefined when it no longer exists. */
  async standing(username: string): Promise<AccountStanding | undefined> {
    const [role, disabled, epoch] = await this.#redis.hmget(this.#key(username), 'role', 'disabled', 'epoch');
    if (!isRole(role)) return undefined;
    return { role, disabled: disabled === '1', epoch: Number(epoch ?? 0) };
  }

  /** Open sessions take the new role at their next request. Returns the role it had. */
  async setRole(username: string, role: OperatorRole): Promise<OperatorRole> {
    return this.#update(username, '0', 'role', role);
  }

  /** Refuses its logins and ends its open sessions at their next request. Returns its role. */
  async disable(username: string): Promise<OperatorRole> {
    return this.#update(username, '1', 'disabled', '1');
  }

  /** A new password; clears a lock, and ends the open sessions (the old password may be known to someone). Returns its role. */
  async resetPassword(username: string, password: string): Promise<OperatorRole> {
    checkPassword(password);
    return this.#update(username, '1', 'passwordHash', await hashPassword(password), 'failures', '0', 'lockedUntil', '0', 'lockProbes', '0');
  }

  async #update(username: string, endSessions: '0' | '1', ...fields: string[]): Promise<OperatorRole> {
    const previous = await this.#scripts.accountUpdate(this.#key(username), endSessions, ...fields);
    if (previous === null) throw new GatewayError('NOT_FOUND', `no account named ${username}`);
    return isRole(previous) ? previous : 'viewer';
  }

  async login(username: string, password: string, now: number): Promise<LoginResult> {
    if (!this.#lockout) throw new GatewayError('INTERNAL', 'AccountStore: login needs a lockout policy');
    const key = this.#key(username);
    const [verdict, passwordHash, until, epoch] = await this.#scripts.accountAdmit(key, String(now), String(this.#lockout.attempts), String(this.#lockout.minutes * 60 * 1000));
    const lockedUntil = Number(until);
    switch (verdict) {
      case 'check': {
        if (!(await verifyPassword(password, passwordHash))) return lockedUntil > 0 ? { ok: false, reason: 'unknown-or-wrong', lockedUntil } : { ok: false, reason: 'unknown-or-wrong' };
        const role = await this.#scripts.accountUpdate(key, '0', 'failures', '0', 'lockedUntil', '0', 'lockProbes', '0');
        // the account may have been removed while its password was checked
        if (!isRole(role)) return { ok: false, reason: 'unknown-or-wrong' };
        const createdAt = await this.#redis.hget(key, 'createdAt');
        return { ok: true, account: { username, role, createdAt: createdAt ?? '', disabled: false }, epoch: Number(epoch) };
      }
      case 'locked':
        return (await verifyPassword(password, passwordHash)) ? { ok: false, reason: 'locked', lockedUntil } : { ok: false, reason: 'unknown-or-wrong', lockedUntil };
      case 'refused':
        await spendLikeAVerification(password);
        return { ok: false, reason: 'locked-unchecked', lockedUntil };
      case 'disabled':
        await spendLikeAVerification(password);
        return { ok: false, reason: 'disabled' };
      default:
        await spendLikeAVerification(password);
        return { ok: false, reason: 'unknown-or-wrong' };
    }
  }
}

function isRole(role: string | null | undefined): role is OperatorRole {
  return role !== null && role !== undefined && OPERATOR_ROLES.includes(role as OperatorRole);
}

function checkPassword(password: string): void {
  if ([...password].length < MIN_PASSWORD_LENGTH) throw new GatewayError('SEMANTIC_INVALID', `password: at least ${MIN_PASSWORD_LENGTH} characters`);
}
