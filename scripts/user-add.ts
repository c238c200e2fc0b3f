/**
 * `npm run user:add -- --username alice --role operator`: creates (or resets)
 * a dashboard account. The password is read from standard input, never from
 * the command line (where `ps` would show it); there is no default account.
 */
import { createInterface } from 'node:readline/promises';
import { parseArgs } from 'node:util';
import { config as processConfig } from '../config/index.ts';
import { createRedis, whenReady } from '../kernel/redis/client.ts';
import { Keys } from '../kernel/redis/keys.ts';
import { AccountStore, MIN_PASSWORD_LENGTH, OPERATOR_ROLES, type OperatorRole } from '../stores/accounts.ts';

const { values } = parseArgs({ options: { username: { type: 'string' }, role: { type: 'string', default: 'viewer' } } });
const username = values.username ?? '';
const role = values.role as OperatorRole;
if (!username || !OPERATOR_ROLES.includes(role)) {
  console.error(`usage: npm run user:add -- --username <name> --role <${OPERATOR_ROLES.join('|')}>  (password on standard input)`);
  process.exit(64);
}

async function readPassword(): Promise<string> {
  if (!process.stdin.isTTY) {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8').split('\n')[0] ?? '';
  }
  const lines = createInterface({ input: process.stdin, output: process.stdout, terminal: true });
  const first = await lines.question(`password for ${username} (at least ${MIN_PASSWORD_LENGTH} characters): `);
  const again = await lines.question('again: ');
  lines.close();
  if (first !== again) throw new Error('the two passwords differ');
  return first;
}

const config = processConfig([]);
const redis = createRedis(config.redis, 'queue');
try {
  const password = await readPassword();
  await whenReady(redis);
  await new AccountStore(redis, new Keys(config.redis.namespace), { attempts: config.ops.lockoutAttempts, minutes: config.ops.lockoutMinutes }).put(username, password, role, Date.now());
  console.log(`account ${username} (${role}) saved`);
} catch (error) {
  console.error(`user:add: ${(error as Error).message}`);
  process.exitCode = 1;
} finally {
  redis.disconnect();
}
