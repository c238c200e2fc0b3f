import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { validatorFor, type Violation } from '../schemas/registry.ts';
import type { GatewayConfig } from '../schemas/types.generated.ts';
import { ENV_SETTINGS, type EnvSetting } from './env.ts';
import { TRIAL_REDIS_URL_FILE } from './launch.ts';

export type { GatewayConfig };
export type ProvinceConfig = GatewayConfig['partners']['province'];
export type RoomConfig = GatewayConfig['ledger']['rooms'][number];
export type RedisConfig = GatewayConfig['redis'];

const defaultsPath = join(dirname(fileURLToPath(import.meta.url)), 'default.json');
const validateConfig = validatorFor<GatewayConfig>('config.schema.json');
const validateRedisConfig = validatorFor<RedisConfig>('config.schema.json#/properties/redis');

export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Env = Readonly<Record<string, string | undefined>>;
type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function parseEnvValue(setting: EnvSetting, raw: string): Json {
  switch (setting.parse) {
    case 'string':
      return raw;
    case 'integer':
    case 'number': {
      const value = Number(raw);
      if (raw.trim() === '' || Number.isNaN(value)) throw new ConfigError(`${setting.name}: "${raw}" is not a number`);
      return value;
    }
    case 'list':
      return raw.split(',').map((item) => item.trim()).filter((item) => item !== '');
    case 'json':
      try {
        return JSON.parse(raw) as Json;
      } catch {
        throw new ConfigError(`${setting.name}: not valid JSON`);
      }
  }
}

function setPath(target: { [key: string]: Json }, path: readonly string[], value: Json): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) {
      const created: { [key: string]: Json } = {};
      node[key] = created;
      node = created;
    } else {
      node = next;
    }
  }
  node[path[path.length - 1] as string] = value;
}

function isPlainObject(value: unknown): value is { [key: string]: Json } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function mergeDeep(base: { [key: string]: Json }, override: { [key: string]: Json }): { [key: string]: Json } {
  const merged: { [key: string]: Json } = { ...base };
  for (const [key, value] of Object.entries(override)) {
    const current = merged[key];
    merged[key] = isPlainObject(current) && isPlainObject(value) ? mergeDeep(current, value) : value;
  }
  return merged;
}

/** Drops nulls so that "not set" means absent, and the schema names what is missing. */
function withoutNulls(value: Json): Json | undefined {
  if (value === null) return undefined;
  if (Array.isArray(value)) return value.map((item) => withoutNulls(item) ?? null);
  if (isPlainObject(value)) {
    const result: { [key: string]: Json } = {};
    for (const [key, item] of Object.entries(value)) {
      const cleaned = key === 'localApiKey' ? item : withoutNulls(item);
      if (cleaned !== undefined) result[key] = cleaned;
    }
    return result;
  }
  return value;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const item of Object.values(value)) deepFreeze(item);
    Object.freeze(value);
  }
  return value;
}

export interface LoadConfigOptions {
  env?: Env;
  /** applied last; tests use it for values that have no natural env form */
  overrides?: { [key: string]: Json };
}

/**
 * Defaults, then the JSON file named by GATEWAY_CONFIG, then environment
 * variables, then overrides; validated against schemas/config.schema.json and frozen.
 */
export function loadConfig(options: LoadConfigOptions = {}): Readonly<GatewayConfig> {
  let merged = mergedSources(options.env ?? process.env, () => true);
  if (options.overrides) merged = mergeDeep(merged, options.overrides);
  const candidate = withoutNulls(merged);
  const result = validateConfig(candidate);
  if (!result.ok) throw new ConfigError(`invalid configuration:\n${describeViolations(result.violations, '')}`);
  checkRedisTimeouts(result.value.redis);
  checkHostRoutes(result.value);
  return deepFreeze(result.value);
}

/** ` at line L, column C` of a JSON parse error, from the position the parser names; empty when it names none. */
function whereInText(text: string, parserMessage: string): string {
  const position = /position (\d+)/.exec(parserMessage)?.[1];
  if (position === undefined) return '';
  const before = text.slice(0, Number(position)).split('\n');
  return ` at line ${before.length}, column ${(before.at(-1)?.length ?? 0) + 1}`;
}

/** Defaults, the GATEWAY_CONFIG file, then those environment variables `applies` picks. */
function mergedSources(env: Env, applies: (setting: EnvSetting) => boolean): { [key: string]: Json } {
  let merged = JSON.parse(readFileSync(defaultsPath, 'utf8')) as { [key: string]: Json };
  const file = env['GATEWAY_CONFIG'];
  if (file) {
    let fromFile: unknown;
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      throw new ConfigError(`GATEWAY_CONFIG ${file}: cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    try {
      fromFile = JSON.parse(text);
    } catch (error) {
      // the parser's message may quote the text around the fault, where a secret can stand
      throw new ConfigError(`GATEWAY_CONFIG ${file}: not valid JSON${whereInText(text, (error as Error).message)}`);
    }
    if (!isPlainObject(fromFile)) throw new ConfigError(`GATEWAY_CONFIG ${file}: must hold a JSON object`);
    merged = mergeDeep(merged, fromFile);
  }
  for (const setting of ENV_SETTINGS) {
    const raw = env[setting.name];
    if (applies(setting) && raw !== undefined && raw !== '') setPath(merged, setting.path, parseEnvValue(setting, raw));
  }
  return merged;
}

/** One line per violation, naming the environment variable behind the path when there is one. */
function describeViolations(violations: readonly Violation[], prefix: string): string {
  return violations
    .map((violation) => {
      const path = prefix + violation.path;
      const setting = ENV_SETTINGS.find((s) => {
        const pointer = '/' + s.path.join('/');
        return path === pointer || path.startsWith(pointer + '/');
      });
      return `  ${path}${setting ? ` (${setting.name})` : ''}: ${violation.message}`;
    })
    .join('\n');
}

/** A route may name only a partner this gateway is configured for: a typo stops the start, not a host evaluation. */
function checkHostRoutes(config: GatewayConfig): void {
  const partners = Object.keys(config.partners);
  const unknown = Object.entries(config.hosting.routes).filter(([, partner]) => !partners.includes(partner));
  if (unknown.length > 0) {
    throw new ConfigError(`invalid configuration:\n${unknown.map(([center, partner]) => `  /hosting/routes/${center} (HOST_ROUTES): ${partner} is not a partner (${partners.join(', ')})`).join('\n')}`);
  }
}

function checkRedisTimeouts(redis: RedisConfig): void {
  // ioredis would time the WAIT out first, and a slow replica would read as Redis unreachable
  if (redis.waitReplicas > 0 && redis.waitTimeoutMs >= redis.commandTimeoutMs) {
    throw new ConfigError(`invalid configuration:\n  /redis/waitTimeoutMs (REDIS_WAIT_TIMEOUT_MS): must be below /redis/commandTimeoutMs (REDIS_COMMAND_TIMEOUT_MS), ${redis.commandTimeoutMs}`);
  }
}

/**
 * The Redis part alone, from the same sources (defaults, GATEWAY_CONFIG, the
 * REDIS_* variables), validated and frozen: what the account and audit commands
 * need, so that they run without the partners' URLs and secrets.
 */
export function loadRedisConfig(options: Pick<LoadConfigOptions, 'env'> & { trialRedisUrlFile?: string } = {}): Readonly<RedisConfig> {
  let env = options.env ?? process.env;
  // without REDIS_URL, the private Redis npm start runs (and named in .data) is the one meant
  const trialFile = options.trialRedisUrlFile ?? TRIAL_REDIS_URL_FILE;
  if (!env['REDIS_URL'] && existsSync(trialFile)) env = { ...env, REDIS_URL: readFileSync(trialFile, 'utf8').trim() };
  const merged = mergedSources(env, (setting) => setting.path[0] === 'redis');
  const result = validateRedisConfig(withoutNulls(merged['redis'] ?? {}));
  if (!result.ok) throw new ConfigError(`invalid configuration:\n${describeViolations(result.violations, '/redis')}`);
  checkRedisTimeouts(result.value);
  return deepFreeze(result.value);
}

/** The process's Redis settings, read once from process.env. */
let processRedisConfig: Readonly<RedisConfig> | undefined;
export function redisConfig(): Readonly<RedisConfig> {
  processRedisConfig ??= loadRedisConfig();
  return processRedisConfig;
}

/** The process's own configuration: read once from process.env and the command line (`--role api,worker`). */
let processConfig: Readonly<GatewayConfig> | undefined;
export function config(argv: readonly string[] = process.argv.slice(2)): Readonly<GatewayConfig> {
  processConfig ??= loadConfig(rolesFromArgv(argv));
  return processConfig;
}

/** `--role api`, `--role=worker,scheduler`, or the option repeated. */
export function rolesFromArgv(argv: readonly string[]): LoadConfigOptions {
  const roles: string[] = [];
  argv.forEach((argument, index) => {
    const value = argument === '--role' ? argv[index + 1] : argument.startsWith('--role=') ? argument.slice('--role='.length) : undefined;
    if (value !== undefined) roles.push(...value.split(',').map((role) => role.trim()).filter(Boolean));
  });
  return roles.length > 0 ? { overrides: { role: roles } } : {};
}
