import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { loadConfig, loadRedisConfig } from '../../config/index.ts';
import { ENV_SETTINGS } from '../../config/env.ts';
import { DEFAULT_GATEWAY_NODE_OPTIONS, gatewayProcessEnvironment, launchPlan, readLaunchEnvironment } from '../../config/launch.ts';
import { configErrorOf } from '../helpers/config-errors.ts';

const README_PATH = join(import.meta.dirname, '..', '..', 'README.md');
const DEFAULTS = JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'config', 'default.json'), 'utf8')) as {
  ledger: { rooms: unknown[] };
};

const KEY = Buffer.alloc(32, 7).toString('base64');

/** The smallest environment that loads: every required secret and URL. */
function requiredEnv(extra: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return {
    REDIS_URL: 'redis://127.0.0.1:6390',
    PROVINCE_BASE_URL: 'http://127.0.0.1:9100',
    PROVINCE_INBOUND_SECRET: 'inbound-secret-0123456789',
    PROVINCE_OUTBOUND_SECRET: 'outbound-secret-0123456789',
    DATA_ENCRYPTION_KEY: KEY,
    CHANGSHA_BASE_URL: 'http://127.0.0.1:9200',
    CHANGSHA_CLIENT_ID: 'zhuzhou-gateway',
    CHANGSHA_CLIENT_SECRET: 'changsha-client-secret-0001',
    CHANGSHA_INBOUND_KEY_ID: 'changsha-key-1',
    CHANGSHA_INBOUND_SECRET: 'changsha-inbound-secret-0001',
    CHANGSHA_OUTBOUND_KEY_ID: 'zhuzhou-key-1',
    CHANGSHA_OUTBOUND_SECRET: 'changsha-outbound-secret-0001',
    OPS_SESSION_SECRET: 'ops-session-secret-0123456789abcdef',
    ...extra,
  };
}

/** Every object reachable from `value`, with its path. */
function objectsIn(value: unknown, path = '$'): { path: string; value: object }[] {
  if (typeof value !== 'object' || value === null) return [];
  return [{ path, value }, ...Object.entries(value).flatMap(([key, item]) => objectsIn(item, `${path}.${key}`))];
}

describe('config: loadConfig', () => {
  describe('defaults', () => {
    it('when only the required secrets and URLs are given, the defaults of default.json load', () => {
      const config = loadConfig({ env: requiredEnv() });
      expect(config.host).to.equal('0.0.0.0');
      expect(config.port).to.equal(8080);
      expect(config.role).to.deep.equal(['api', 'worker', 'scheduler']);
      expect(config.logLevel).to.equal('info');
      expect(config.redis).to.deep.equal({ mode: 'standalone', url: 'redis://127.0.0.1:6390', nodes: [], sentinelName: 'mymaster', namespace: 'zzgw', commandTimeoutMs: 2000, waitReplicas: 0, waitTimeoutMs: 1000 });
      expect(config.center).to.deep.equal({ areaCode: '430200', systemNo: 'ZZ430200', name: '株洲市公共资源交易中心' });
      expect(config.dataEncryptionKey).to.equal(KEY);
      expect(config.localApiKey).to.equal(null);
      expect(config.intake).to.deep.equal({ bodyLimitBytes: 262144, retryAfterSeconds: 5, heldOriginalTimeoutHours: 24, sourceRateLimitPerSecond: 200 });
      expect(config.ledger.bufferMinutes).to.equal(30);
      expect(config.ledger.closedDates).to.deep.equal([]);
      expect(config.ledger.rooms).to.deep.equal(DEFAULTS.ledger.rooms);
      expect(config.partners.province).to.deep.include({
        baseUrl: 'http://127.0.0.1:9100',
        systemNo: 'HNSDD',
        inboundSecret: 'inbound-secret-0123456789',
        outboundSecret: 'outbound-secret-0123456789',
        signMethod: 'HMAC-SM3',
        rateLimitPerSecond: 50,
        clockToleranceSeconds: 300,
      });
      expect(config.partners.province.delivery.backoffBaseMs).to.equal(2000);
      expect(config.partners.province.delivery.backoffMaxMs).to.equal(600000);
    });

    it('when loaded, the default rooms are the seven rooms of domain.md', () => {
      const config = loadConfig({ env: requiredEnv() });
      expect(config.ledger.rooms.map((r) => [r.id, r.kind, r.seats])).to.deep.equal([
        ['ZZ-PBS-01', 'room', 9],
        ['ZZ-PBS-02', 'room', 7],
        ['ZZ-PBS-03', 'room', 5],
        ['ZZ-PBS-04', 'room', 5],
        ['ZZ-PBS-05', 'room', 3],
        ['ZZ-PBS-06', 'room', 3],
        ['ZZ-GW-A', 'hall', 12],
      ]);
    });

    it('when loaded, the result is frozen all the way down', () => {
      const config = loadConfig({ env: requiredEnv() });
      const objects = objectsIn(config);
      expect(objects.length).to.be.greaterThan(10);
      for (const { path, value } of objects) expect(Object.isFrozen(value), path).to.equal(true);
      expect(() => {
        (config as { port: number }).port = 1;
      }).to.throw(TypeError);
      expect(() => {
        (config.ledger.rooms as unknown[]).push({});
      }).to.throw(TypeError);
      expect(() => {
        (config.partners.province.delivery as { attempts: number }).attempts = 1;
      }).to.throw(TypeError);
      expect(config.port).to.equal(8080);
    });

    it('when loaded twice, the second load does not see changes made for the first (defaults are not shared)', () => {
      const first = loadConfig({ env: requiredEnv({ LEDGER_CLOSED_DATES: '2026-12-24' }) });
      const second = loadConfig({ env: requiredEnv() });
      expect(first.ledger.closedDates).to.deep.equal(['2026-12-24']);
      expect(second.ledger.closedDates).to.deep.equal([]);
    });

  });

  describe('environment overrides', () => {
    it('when PORT is set, the port is that integer', () => {
      expect(loadConfig({ env: requiredEnv({ PORT: '8443' }) }).port).to.equal(8443);
    });

    it('when PROVINCE_RATE_LIMIT is set, the province rate limit is that integer', () => {
      expect(loadConfig({ env: requiredEnv({ PROVINCE_RATE_LIMIT: '7' }) }).partners.province.rateLimitPerSecond).to.equal(7);
    });

    it('when PROVINCE_RETRY_HOURS and CHANGSHA_RETRY_HOURS are absent, messages are retried for 24 h; set, for that long (fractions too), the attempt settings kept', () => {
      const defaults = loadConfig({ env: requiredEnv() }).partners;
      expect([defaults.province.delivery.retryHours, defaults.changsha.delivery.retryHours]).to.deep.equal([24, 24]);
      const set = loadConfig({ env: requiredEnv({ PROVINCE_RETRY_HOURS: '72', CHANGSHA_RETRY_HOURS: '0.5', PROVINCE_DELIVERY_ATTEMPTS: '8' }) }).partners;
      expect([set.province.delivery.retryHours, set.changsha.delivery.retryHours, set.province.delivery.attempts]).to.deep.equal([72, 0.5, 8]);
    });

    it('when LEDGER_CLOSED_DATES is a comma list with spaces and a trailing comma, the closed dates are its trimmed items', () => {
      const config = loadConfig({ env: requiredEnv({ LEDGER_CLOSED_DATES: '2026-12-24, 2026-12-31 ,' }) });
      expect(config.ledger.closedDates).to.deep.equal(['2026-12-24', '2026-12-31']);
    });

    it('when LEDGER_ROOMS is a JSON array, it replaces the default rooms', () => {
      const rooms = [
        { id: 'R-1', kind: 'room', seats: 4, address: 'A 1' },
        { id: 'H-1', kind: 'hall', seats: 10, address: 'A 2' },
      ];
      const config = loadConfig({ env: requiredEnv({ LEDGER_ROOMS: JSON.stringify(rooms) }) });
      expect(config.ledger.rooms).to.deep.equal(rooms);
    });

    it('when GATEWAY_ROLE is a comma list, the roles are its items', () => {
      expect(loadConfig({ env: requiredEnv({ GATEWAY_ROLE: 'api,worker' }) }).role).to.deep.equal(['api', 'worker']);
    });

    it('when an env variable is the empty string, the default stays', () => {
      expect(loadConfig({ env: requiredEnv({ PORT: '' }) }).port).to.equal(8080);
    });

    it('when overrides are given, they win over the environment', () => {
      const config = loadConfig({ env: requiredEnv({ PORT: '8443' }), overrides: { port: 0, intake: { retryAfterSeconds: 9 } } });
      expect(config.port).to.equal(0);
      expect(config.intake.retryAfterSeconds).to.equal(9);
      expect(config.intake.bodyLimitBytes).to.equal(262144);
    });
  });

  describe('bad values', () => {
    it('when PORT is "abc", loading throws a ConfigError naming PORT', () => {
      const error = configErrorOf(() => loadConfig({ env: requiredEnv({ PORT: 'abc' }) }));
      expect(error.message).to.include('PORT');
    });

    it('when PORT is 1.5, loading throws a ConfigError naming PORT', () => {
      const error = configErrorOf(() => loadConfig({ env: requiredEnv({ PORT: '1.5' }) }));
      expect(error.message).to.include('PORT');
    });

    it('when PORT is 70000, loading throws a ConfigError naming PORT', () => {
      const error = configErrorOf(() => loadConfig({ env: requiredEnv({ PORT: '70000' }) }));
      expect(error.message).to.include('PORT');
    });

    it('when PROVINCE_RATE_LIMIT is 0, loading throws a ConfigError naming PROVINCE_RATE_LIMIT', () => {
      const error = configErrorOf(() => loadConfig({ env: requiredEnv({ PROVINCE_RATE_LIMIT: '0' }) }));
      expect(error.message).to.include('PROVINCE_RATE_LIMIT');
    });

    it('when PROVINCE_RETRY_HOURS is 0, loading throws a ConfigError naming PROVINCE_RETRY_HOURS', () => {
      const error = configErrorOf(() => loadConfig({ env: requiredEnv({ PROVINCE_RETRY_HOURS: '0' }) }));
      expect(error.message).to.include('PROVINCE_RETRY_HOURS');
    });

    it('when CHANGSHA_PROXY_URL is not an http(s) proxy address, loading throws a ConfigError naming CHANGSHA_PROXY_URL and not its password', () => {
      for (const proxyUrl of ['socks5://ops:hunter22@10.0.0.1:1080', 'http://ops:hunter22@10.0.0.1:3128/path']) {
        const error = configErrorOf(() => loadConfig({ env: requiredEnv({ CHANGSHA_PROXY_URL: proxyUrl }) }));
        expect(error.message).to.include('CHANGSHA_PROXY_URL').and.not.include('hunter22');
      }
      const accepted = loadConfig({ env: requiredEnv({ CHANGSHA_PROXY_URL: 'https://ops:hunter22@proxy.zz.example:3128' }) });
      expect(accepted.partners.changsha.delivery.proxyUrl).to.equal('https://ops:hunter22@proxy.zz.example:3128');
    });

    it('when REDIS_WAIT_REPLICAS is set and REDIS_WAIT_TIMEOUT_MS is not below REDIS_COMMAND_TIMEOUT_MS, loading throws a ConfigError naming both', () => {
      const error = configErrorOf(() => loadConfig({ env: requiredEnv({ REDIS_WAIT_REPLICAS: '1', REDIS_WAIT_TIMEOUT_MS: '2000', REDIS_COMMAND_TIMEOUT_MS: '2000' }) }));
      expect(error.message).to.include('REDIS_WAIT_TIMEOUT_MS').and.include('REDIS_COMMAND_TIMEOUT_MS');
      expect(loadConfig({ env: requiredEnv({ REDIS_WAIT_REPLICAS: '1', REDIS_WAIT_TIMEOUT_MS: '1999', REDIS_COMMAND_TIMEOUT_MS: '2000' }) }).redis.waitReplicas).to.equal(1);
    });

    it('when REDIS_WAIT_REPLICAS is set on Redis Cluster, loading throws a ConfigError naming REDIS_WAIT_REPLICAS', () => {
      const error = configErrorOf(() => loadConfig({ env: requiredEnv({ REDIS_MODE: 'cluster', REDIS_NODES: '127.0.0.1:7000', REDIS_WAIT_REPLICAS: '1' }) }));
      expect(error.message).to.include('REDIS_WAIT_REPLICAS');
    });

    it('when PROVINCE_INBOUND_SECRET is missing, loading throws a ConfigError naming PROVINCE_INBOUND_SECRET', () => {
      const error = configErrorOf(() => loadConfig({ env: requiredEnv({ PROVINCE_INBOUND_SECRET: undefined }) }));
      expect(error.message).to.include('PROVINCE_INBOUND_SECRET');
    });

    it('when PROVINCE_OUTBOUND_SECRET is shorter than 16 characters, loading throws a ConfigError naming PROVINCE_OUTBOUND_SECRET', () => {
      const error = configErrorOf(() => loadConfig({ env: requiredEnv({ PROVINCE_OUTBOUND_SECRET: 'short-secret' }) }));
      expect(error.message).to.include('PROVINCE_OUTBOUND_SECRET');
    });

    it('when DATA_ENCRYPTION_KEY is missing, loading throws a ConfigError naming DATA_ENCRYPTION_KEY', () => {
      const error = configErrorOf(() => loadConfig({ env: requiredEnv({ DATA_ENCRYPTION_KEY: undefined }) }));
      expect(error.message).to.include('DATA_ENCRYPTION_KEY');
    });

    it('when DATA_ENCRYPTION_KEY is base64 of 16 bytes, loading throws a ConfigError naming DATA_ENCRYPTION_KEY', () => {
      const error = configErrorOf(() => loadConfig({ env: requiredEnv({ DATA_ENCRYPTION_KEY: Buffer.alloc(16, 7).toString('base64') }) }));
      expect(error.message).to.include('DATA_ENCRYPTION_KEY');
    });

    it('when REDIS_URL is missing, loading throws a ConfigError naming REDIS_URL', () => {
      const error = configErrorOf(() => loadConfig({ env: requiredEnv({ REDIS_URL: undefined }) }));
      expect(error.message).to.include('REDIS_URL');
    });

    it('when PROVINCE_BASE_URL is missing, loading throws a ConfigError naming PROVINCE_BASE_URL', () => {
      const error = configErrorOf(() => loadConfig({ env: requiredEnv({ PROVINCE_BASE_URL: undefined }) }));
      expect(error.message).to.include('PROVINCE_BASE_URL');
    });

    it('when LEDGER_ROOMS is not JSON, loading throws a ConfigError naming LEDGER_ROOMS', () => {
      const error = configErrorOf(() => loadConfig({ env: requiredEnv({ LEDGER_ROOMS: '[{' }) }));
      expect(error.message).to.include('LEDGER_ROOMS');
    });

    it('when LEDGER_CLOSED_DATES holds a date in another format, loading throws a ConfigError naming LEDGER_CLOSED_DATES', () => {
      const error = configErrorOf(() => loadConfig({ env: requiredEnv({ LEDGER_CLOSED_DATES: '2026/12/24' }) }));
      expect(error.message).to.include('LEDGER_CLOSED_DATES');
    });

    it('when LEDGER_ROOMS holds a room with 0 seats, loading throws a ConfigError naming LEDGER_ROOMS', () => {
      const rooms = [{ id: 'R-1', kind: 'room', seats: 0, address: 'A 1' }];
      const error = configErrorOf(() => loadConfig({ env: requiredEnv({ LEDGER_ROOMS: JSON.stringify(rooms) }) }));
      expect(error.message).to.include('/ledger/rooms/0/seats');
      expect(error.message).to.include('LEDGER_ROOMS');
    });

    it('when GATEWAY_ROLE names an unknown role, loading throws a ConfigError naming GATEWAY_ROLE', () => {
      const error = configErrorOf(() => loadConfig({ env: requiredEnv({ GATEWAY_ROLE: 'api,cook' }) }));
      expect(error.message).to.include('GATEWAY_ROLE');
    });

    it('when PROVINCE_SIGN_METHOD is not one of the two methods, loading throws a ConfigError naming PROVINCE_SIGN_METHOD', () => {
      const error = configErrorOf(() => loadConfig({ env: requiredEnv({ PROVINCE_SIGN_METHOD: 'HMAC-MD5' }) }));
      expect(error.message).to.include('PROVINCE_SIGN_METHOD');
    });

    it('when several values are bad, the ConfigError names every one of them', () => {
      const error = configErrorOf(() => loadConfig({ env: requiredEnv({ PROVINCE_RATE_LIMIT: '0', PROVINCE_INBOUND_SECRET: undefined }) }));
      expect(error.message).to.include('PROVINCE_RATE_LIMIT');
      expect(error.message).to.include('PROVINCE_INBOUND_SECRET');
    });

    it('when a secret is bad, the ConfigError message does not repeat the secret value', () => {
      const error = configErrorOf(() => loadConfig({ env: requiredEnv({ PROVINCE_OUTBOUND_SECRET: 'tooshort-zq' }) }));
      expect(error.message).not.to.include('tooshort-zq');
    });
  });

  describe('GATEWAY_CONFIG file', () => {
    let dir: string;

    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'zzgw-config-test-'));
    });

    afterEach(() => {
      rmSync(dir, { recursive: true, force: true });
    });

    it('when GATEWAY_CONFIG names a JSON file, its values are merged deeply over the defaults', () => {
      const file = join(dir, 'gateway.json');
      writeFileSync(file, JSON.stringify({ logLevel: 'debug', ledger: { bufferMinutes: 45 }, partners: { province: { delivery: { attempts: 3 } } } }));
      const config = loadConfig({ env: requiredEnv({ GATEWAY_CONFIG: file }) });
      expect(config.logLevel).to.equal('debug');
      expect(config.ledger.bufferMinutes).to.equal(45);
      expect(config.ledger.rooms).to.have.length(7);
      expect(config.partners.province.delivery.attempts).to.equal(3);
      expect(config.partners.province.delivery.timeoutMs).to.equal(10000);
    });

    it('when GATEWAY_CONFIG and an env variable set the same value, the env variable wins', () => {
      const file = join(dir, 'gateway.json');
      writeFileSync(file, JSON.stringify({ port: 7001, partners: { province: { rateLimitPerSecond: 20 } } }));
      const config = loadConfig({ env: requiredEnv({ GATEWAY_CONFIG: file, PORT: '7002' }) });
      expect(config.port).to.equal(7002);
      expect(config.partners.province.rateLimitPerSecond).to.equal(20);
    });

    it('when the GATEWAY_CONFIG file supplies the secrets, the environment need not', () => {
      const file = join(dir, 'gateway.json');
      writeFileSync(file, JSON.stringify({ partners: { province: { inboundSecret: 'from-file-secret-0001' } } }));
      const config = loadConfig({ env: requiredEnv({ GATEWAY_CONFIG: file, PROVINCE_INBOUND_SECRET: undefined }) });
      expect(config.partners.province.inboundSecret).to.equal('from-file-secret-0001');
    });

    it('when the GATEWAY_CONFIG file breaks off beside a secret, the error names the file, line and column and quotes none of the text', () => {
      const file = join(dir, 'leaky.json');
      writeFileSync(file, '{\n  "partners": { "province": { "inboundSecret": "s3cret-value-0001" "x": 1 } }\n}');
      const error = configErrorOf(() => loadConfig({ env: requiredEnv({ GATEWAY_CONFIG: file }) }));
      expect(error.message).to.equal(`GATEWAY_CONFIG ${file}: not valid JSON at line 2, column 68`);
      const unquoted = join(dir, 'unquoted.json');
      writeFileSync(unquoted, '{ "localApiKey": s3cret-value-0002 }');
      expect(configErrorOf(() => loadConfig({ env: requiredEnv({ GATEWAY_CONFIG: unquoted }) })).message).to.not.include('s3cret');
    });

    it('when the GATEWAY_CONFIG file is not JSON, loading throws a ConfigError naming GATEWAY_CONFIG', () => {
      const file = join(dir, 'broken.json');
      writeFileSync(file, '{ not json');
      const error = configErrorOf(() => loadConfig({ env: requiredEnv({ GATEWAY_CONFIG: file }) }));
      expect(error.message).to.include('GATEWAY_CONFIG');
    });

    it('when the GATEWAY_CONFIG file does not exist, loading throws a ConfigError naming GATEWAY_CONFIG', () => {
      const error = configErrorOf(() => loadConfig({ env: requiredEnv({ GATEWAY_CONFIG: join(dir, 'missing.json') }) }));
      expect(error.message).to.include('GATEWAY_CONFIG');
    });

    it('when the GATEWAY_CONFIG file holds an unknown key, loading throws a ConfigError naming the key', () => {
      const file = join(dir, 'unknown.json');
      writeFileSync(file, JSON.stringify({ colour: 'blue' }));
      const error = configErrorOf(() => loadConfig({ env: requiredEnv({ GATEWAY_CONFIG: file }) }));
      expect(error.message).to.include('colour');
    });
  });

  describe('ENV_SETTINGS', () => {
    it('every env setting has a unique name and points at a path of the loaded configuration', () => {
      const names = ENV_SETTINGS.map((s) => s.name);
      expect(new Set(names).size).to.equal(names.length);
      // optional settings are absent unless given
      const config = loadConfig({
        env: requiredEnv({ CHANGSHA_INBOUND_PREVIOUS_SECRET: 'changsha-inbound-secret-0000', PROVINCE_PROXY_URL: 'http://10.0.0.1:3128', CHANGSHA_PROXY_URL: 'http://10.0.0.1:3128' }),
      }) as unknown as Record<string, unknown>;
      for (const setting of ENV_SETTINGS) {
        const parent = setting.path.slice(0, -1).reduce<unknown>((n, k) => (n as Record<string, unknown>)[k], config);
        expect(Object.keys(parent as object), setting.name).to.include(setting.path[setting.path.length - 1]);
      }
    });

    it('every env variable of ENV_SETTINGS is documented in README.md', () => {
      expect(existsSync(README_PATH), `${README_PATH} exists`).to.equal(true);
      const readme = readFileSync(README_PATH, 'utf8');
      const missing = ENV_SETTINGS.map((s) => s.name).filter((name) => !new RegExp(`\\b${name}\\b`).test(readme));
      expect(missing, 'env variables absent from README.md').to.deep.equal([]);
    });
  });
});

describe('config: readLaunchEnvironment (what npm start needs before the config)', () => {
  it('when GATEWAY_NODE_OPTIONS is absent, the gateway runs with the default young generation and old-generation growth', () => {
    expect(readLaunchEnvironment({}).nodeOptions).to.deep.equal(DEFAULT_GATEWAY_NODE_OPTIONS.split(' '));
  });

  it('when GATEWAY_NODE_OPTIONS is given, its options replace the default, split on spaces; empty means none', () => {
    expect(readLaunchEnvironment({ GATEWAY_NODE_OPTIONS: '--max-old-space-size=256  --max-semi-space-size=16' }).nodeOptions).to.deep.equal([
      '--max-old-space-size=256',
      '--max-semi-space-size=16',
    ]);
    expect(readLaunchEnvironment({ GATEWAY_NODE_OPTIONS: '' }).nodeOptions).to.deep.equal([]);
  });

  it('when MALLOC_ARENA_MAX is absent or empty, the gateway process is left to glibc; a value given is passed on', () => {
    expect(gatewayProcessEnvironment(readLaunchEnvironment({}))).to.deep.equal({});
    expect(gatewayProcessEnvironment(readLaunchEnvironment({ MALLOC_ARENA_MAX: '8' }))).to.deep.equal({ MALLOC_ARENA_MAX: '8' });
    expect(gatewayProcessEnvironment(readLaunchEnvironment({ MALLOC_ARENA_MAX: '' }))).to.deep.equal({});
  });

  it('when no partner URL is given, it is a trial: nothing is missing, secrets may be made up', () => {
    expect(launchPlan(readLaunchEnvironment({}), {})).to.deep.equal({ trial: true, missing: [], warnings: [] });
  });

  it('when a partner URL is given and secrets are not, it is a deployment: every missing setting is named, LOCAL_API_KEY only warned about', () => {
    const env = { PROVINCE_BASE_URL: 'https://hnsdd.example', PROVINCE_INBOUND_SECRET: 'given-secret-0000000001' };
    const plan = launchPlan(readLaunchEnvironment(env), env);
    expect(plan.trial).to.equal(false);
    expect(plan.missing).to.have.members([
      'CHANGSHA_BASE_URL',
      'PROVINCE_OUTBOUND_SECRET',
      'CHANGSHA_CLIENT_SECRET',
      'CHANGSHA_INBOUND_SECRET',
      'CHANGSHA_OUTBOUND_SECRET',
      'DATA_ENCRYPTION_KEY',
      'OPS_SESSION_SECRET',
      'CHANGSHA_CLIENT_ID',
      'CHANGSHA_INBOUND_KEY_ID',
      'CHANGSHA_OUTBOUND_KEY_ID',
    ]);
    expect(plan.warnings).to.deep.equal(['LOCAL_API_KEY is not set: /api/v1 and /metrics will refuse everyone']);
  });
});

describe('config: loadRedisConfig beside a trial', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'zzgw-trial-redis-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('when REDIS_URL is absent and npm start has named its private Redis, the commands use that one; REDIS_URL, when given, wins', () => {
    const file = join(dir, 'redis.url');
    writeFileSync(file, 'redis://127.0.0.1:41234\n');
    expect(loadRedisConfig({ env: {}, trialRedisUrlFile: file }).url).to.equal('redis://127.0.0.1:41234');
    expect(loadRedisConfig({ env: { REDIS_URL: 'redis://10.0.0.9:6379' }, trialRedisUrlFile: file }).url).to.equal('redis://10.0.0.9:6379');
    // neither: REDIS_URL is asked for by name
    expect(configErrorOf(() => loadRedisConfig({ env: {}, trialRedisUrlFile: join(dir, 'absent') })).message).to.include('REDIS_URL');
  });
});
