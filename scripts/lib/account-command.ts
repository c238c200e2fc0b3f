/**
 * What the account commands (user:add, user:disable, user:role, user:reset) share:
 * the Redis settings alone (not the partners' URLs and secrets, which such a
 * command never uses), the account store, the password from standard input, and
 * the audit entry each change leaves under the name of the OS user who ran it.
 */
import { hostname, userInfo } from 'node:os';
import { createInterface } from 'node:readline/promises';
import { Writable } from 'node:stream';
import { redisConfig } from '../../config/index.ts';
import { asGatewayError } from '../../kernel/errors.ts';
import { createRedis, whenReady } from '../../kernel/redis/client.ts';
import { Keys } from '../../kernel/redis/keys.ts';
import { AccountStore, MIN_PASSWORD_LENGTH } from '../../stores/accounts.ts';
import { AuditLog, type AuditEntry } from '../../stores/audit.ts';

/** Exit code of a command used wrongly (sysexits' EX_USAGE). */
export const USAGE_EXIT = 64;

/** Who ran the command: the OS account, since nobody logs in to a command line here. */
export function commandActor(): string {
  try {
    return `os:${userInfo().username}`;
  } catch {
    // a container's uid may have no name
    return `os:uid-${process.getuid?.() ?? 'unknown'}`;
  }
}

/**
 * The password from standard input, never from the command line (where `ps` would
 * show it): asked twice at a terminal, else the first line of what is piped in.
 */
export async function readPassword(username: string): Promise<string> {
  if (!process.stdin.isTTY) {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8').split('\n')[0] ?? '';
  }
  // the prompt is written, what is typed is not: a password on the screen is a password in the scrollback
  let typing = false;
  const screen = new Writable({
    write(chunk: Buffer, _encoding, done) {
      if (!typing) process.stdout.write(chunk);
      done();
    },
  });
  const lines = createInterface({ input: process.stdin, output: screen, terminal: true });
  const ask = async (prompt: string) => {
    typing = false;
    const answer = lines.question(prompt);
    typing = true;
    const typed = await answer;
    process.stdout.write('\n');
    return typed;
  };
  try {
    const first = await ask(`password for ${username} (at least ${MIN_PASSWORD_LENGTH} characters): `);
    const again = await ask('again: ');
    if (first !== again) throw new Error('the two passwords differ');
    return first;
  } finally {
    lines.close();
  }
}

export interface AccountChange {
  /** the audit action, e.g. account.disable */
  action: string;
  username: string;
  /** makes the change; its result goes into the audit entry's detail */
  change(accounts: AccountStore): Promise<Record<string, unknown>>;
  /** what is printed once it is done */
  done(detail: Record<string, unknown>): string;
}

/**
 * Runs one change against Redis and audits it, done or failed, with the OS user
 * as actor. Sets the exit code: 0 done, 1 refused or failed.
 */
export async function runAccountChange(command: string, change: AccountChange): Promise<void> {
  const settings = redisConfig();
  const redis = createRedis(settings, 'queue');
  const keys = new Keys(settings.namespace);
  const audit = new AuditLog(redis, keys, Date.now);
  const entry = (result: AuditEntry['result'], detail: Record<string, unknown>): Omit<AuditEntry, 'at'> => ({ actor: commandActor(), action: change.action, target: change.username, from: `cli:${hostname()}`, result, detail });
  try {
    await whenReady(redis);
    let detail: Record<string, unknown>;
    try {
      detail = await change.change(new AccountStore(redis, keys));
    } catch (error) {
      const failure = asGatewayError(error);
      // a refusal is worth an audit entry (someone tried); Redis being away is not recordable anyway
      if (failure.code !== 'INTERNAL') await audit.record(entry('failed', { code: failure.code }));
      throw failure;
    }
    await audit.record(entry('ok', detail));
    console.log(change.done(detail));
  } catch (error) {
    console.error(`${command}: ${(error as Error).message}`);
    process.exitCode = 1;
  } finally {
    redis.disconnect();
  }
}
