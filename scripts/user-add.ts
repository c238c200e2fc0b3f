/**
 * `npm run user:add -- --username alice --role operator`: creates (or replaces)
 * a dashboard account. The password is read from standard input, never from
 * the command line (where `ps` would show it); there is no default account.
 * Replacing an account ends its open sessions. Audited, with the OS user as actor.
 */
import { parseArgs } from 'node:util';
import { OPERATOR_ROLES, type OperatorRole } from '../stores/accounts.ts';
import { readPassword, runAccountChange, USAGE_EXIT } from './lib/account-command.ts';

const { values } = parseArgs({ options: { username: { type: 'string' }, role: { type: 'string', default: 'viewer' } } });
const username = values.username ?? '';
const role = values.role as OperatorRole;
if (!username || !OPERATOR_ROLES.includes(role)) {
  console.error(`usage: npm run user:add -- --username <name> --role <${OPERATOR_ROLES.join('|')}>  (password on standard input)`);
  process.exit(USAGE_EXIT);
}

await runAccountChange('user:add', {
  action: 'account.add',
  username,
  async change(accounts) {
    const replaced = (await accounts.get(username)) !== undefined;
    await accounts.put(username, await readPassword(username), role, Date.now());
    return { role, replaced };
  },
  done: () => `account ${username} (${role}) saved`,
});
