/**
 * `npm run user:reset -- --username alice`: a new password, read from standard
 * input like user:add's; it also clears a lock, and ends the account's open
 * sessions (whoever knew the old password is out). Audited, with the OS user as actor.
 */
import { parseArgs } from 'node:util';
import { GatewayError } from '../kernel/errors.ts';
import { readPassword, runAccountChange, USAGE_EXIT } from './lib/account-command.ts';

const { values } = parseArgs({ options: { username: { type: 'string' } } });
const username = values.username ?? '';
if (!username) {
  console.error('usage: npm run user:reset -- --username <name>  (new password on standard input)');
  process.exit(USAGE_EXIT);
}

await runAccountChange('user:reset', {
  action: 'account.reset',
  username,
  async change(accounts) {
    // the account must exist before anyone is asked for a password
    if ((await accounts.get(username)) === undefined) throw new GatewayError('NOT_FOUND', `no account named ${username}`);
    return { role: await accounts.resetPassword(username, await readPassword(username)) };
  },
  done: () => `account ${username}: new password saved, lock cleared, open sessions ended`,
});
