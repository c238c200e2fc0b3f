/**
 * `npm run audit:verify`: checks the SM3 chain of the audit log and names the
 * first record that was changed, removed or inserted. Exit 0 when intact, 1 when not.
 */
import { config as processConfig } from '../config/index.ts';
import { Keys } from '../kernel/redis/keys.ts';
import { createRedis, whenReady } from '../kernel/redis/client.ts';
import { AuditLog } from '../stores/audit.ts';

const config = processConfig([]);
const redis = createRedis(config.redis, 'queue');
try {
  await whenReady(redis);
  const result = await new AuditLog(redis, new Keys(config.redis.namespace), Date.now).verify();
  if (result.ok) {
    console.log(`audit chain intact: ${result.entries} entries`);
  } else {
    console.error(`audit chain broken at entry ${result.index} (seq ${result.seq ?? '?'}, ${result.at ?? 'unreadable'}): ${result.problem}`);
    process.exitCode = 1;
  }
} catch (error) {
  console.error(`audit:verify: ${(error as Error).message}`);
  process.exitCode = 2;
} finally {
  redis.disconnect();
}
