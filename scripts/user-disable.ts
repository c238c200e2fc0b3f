/**
 * `npm run user:disable -- --username alice`: the account can no longer log in,
 * and its open sessions end at their next request. `npm run user:add` gives it
 * back (with a new password). Audited, with the OS user as actor.
 */
import { parseArgs } from 'node:util';
import { runAccountChange, USAGE_EXIT } from './lib/account-command.ts';

const { values } = parseArgs({ options: { username: { type: 'string' } } });
const username = values.username ?? '';
if (!username) {
  console.error('usage: npm run user:disable -- --username <name>');
  process.exit(USAGE_EXIT);
}

await runAccountChange('user:disable', {
  action: 'account.disable',
  username,
  change: async (accounts) => ({ role: await accounts.disable(username) }),
  done: () => `account ${username} disabled; its open sessions end at their next request`,
});
