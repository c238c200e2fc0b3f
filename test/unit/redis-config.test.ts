import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { loadRedisConfig } from '../../config/index.ts';
import { configErrorOf } from '../helpers/config-errors.ts';

describe('config: loadRedisConfig (the account and audit commands)', () => {
  it('when only REDIS_URL is set, the Redis settings load with their defaults, frozen: no partner URL or secret is needed', () => {
    const redis = loadRedisConfig({ env: { REDIS_URL: 'redis://127.0.0.1:6390' } });
    expect(redis).to.deep.equal({ mode: 'standalone', url: 'redis://127.0.0.1:6390', nodes: [], sentinelName: 'mymaster', namespace: 'zzgw', commandTimeoutMs: 2000, waitReplicas: 0, waitTimeoutMs: 1000 });
    expect(Object.isFrozen(redis)).to.equal(true);
    expect(Object.isFrozen(redis.nodes)).to.equal(true);
  });

  it('when the REDIS_* variables are set, they are applied and parsed', () => {
    const redis = loadRedisConfig({ env: { REDIS_MODE: 'sentinel', REDIS_NODES: '10.0.0.1:26379, 10.0.0.2:26379', REDIS_NAMESPACE: 'gw2', REDIS_WAIT_REPLICAS: '1' } });
    expect(redis).to.include({ mode: 'sentinel', namespace: 'gw2', waitReplicas: 1 });
    expect(redis.nodes).to.deep.equal(['10.0.0.1:26379', '10.0.0.2:26379']);
  });

  it('when a setting outside Redis is malformed, the Redis settings still load: it is not read', () => {
    const redis = loadRedisConfig({ env: { REDIS_URL: 'redis://127.0.0.1:6390', PORT: 'abc', PROVINCE_RATE_LIMIT: '0', LEDGER_ROOMS: 'not json' } });
    expect(redis.url).to.equal('redis://127.0.0.1:6390');
  });

  it('when REDIS_URL is missing in standalone mode, loading throws a ConfigError naming REDIS_URL', () => {
    expect(configErrorOf(() => loadRedisConfig({ env: {} })).message).to.include('/redis/url (REDIS_URL)');
  });

  it('when REDIS_WAIT_TIMEOUT_MS is not below REDIS_COMMAND_TIMEOUT_MS with replicas to wait for, loading throws a ConfigError naming both', () => {
    const message = configErrorOf(() => loadRedisConfig({ env: { REDIS_URL: 'redis://127.0.0.1:6390', REDIS_WAIT_REPLICAS: '1', REDIS_WAIT_TIMEOUT_MS: '3000' } })).message;
    expect(message).to.include('REDIS_WAIT_TIMEOUT_MS').and.include('REDIS_COMMAND_TIMEOUT_MS');
  });

  it('when REDIS_URL is malformed, the ConfigError names REDIS_URL and does not repeat its password', () => {
    const message = configErrorOf(() => loadRedisConfig({ env: { REDIS_URL: 'http://user:hunter2-secret@127.0.0.1:6390' } })).message;
    expect(message).to.include('REDIS_URL').and.not.include('hunter2-secret');
  });

  it('when GATEWAY_CONFIG holds a redis part, it is used, and the rest of the file is not checked', () => {
    const dir = mkdtempSync(join(tmpdir(), 'zzgw-redis-config-'));
    try {
      const file = join(dir, 'gateway.json');
      writeFileSync(file, JSON.stringify({ redis: { url: 'redis://10.0.0.9:6379', namespace: 'fromfile' }, port: 'not a port' }));
      expect(loadRedisConfig({ env: { GATEWAY_CONFIG: file } })).to.include({ url: 'redis://10.0.0.9:6379', namespace: 'fromfile' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
