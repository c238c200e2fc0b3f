import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPrivateRedis, type PrivateRedis } from '../../scripts/lib/private-redis.ts';

/**
 * One real Redis for the whole run: the one named by REDIS_URL, or a private
 * one (AOF, like production) that lives as long as the run.
 */
let privateRedis: PrivateRedis | undefined;
let dataDir: string | undefined;

export const mochaHooks = {
  async beforeAll(this: Mocha.Context) {
    this.timeout(30_000);
    if (process.env['REDIS_URL']) {
      process.env['TEST_REDIS_URL'] = process.env['REDIS_URL'];
      return;
    }
    dataDir = mkdtempSync(join(tmpdir(), 'zzgw-test-redis-'));
    privateRedis = await startPrivateRedis(dataDir);
    process.env['TEST_REDIS_URL'] = privateRedis.url;
  },
  async afterAll() {
    await privateRedis?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  },
};
