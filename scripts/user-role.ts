/**
 * `npm run user:role -- --username alice --role operator`: changes an account's
 * role; its open sessions have the new role from their next request. Audited,
 * with the OS user as actor.
 */
import { parseArgs } from 'node:util';
import { OPERATOR_ROLES, type OperatorRole } from '../stores/accounts.ts';
import { runAccountChange, USAGE_EXIT } from './lib/account-command.ts';

const { values } = parseArgs({ options: { username: { type: 'string' }, role: { type: 'string' } } });
const username = values.username ?? '';
const role = values.role as OperatorRole;
if (!username || !OPERATOR_ROLES.includes(role)) {
  console.error(`usage: npm run user:role -- --username <name> --role <${OPERATOR_ROLES.join('|')}>`);
  process.exit(USAGE_EXIT);
}

await runAccountChange('user:role', {
  action: 'account.role',
  username,
  change: async (accounts) => ({ role, previous: await accounts.setRole(username, role) }),
  done: (detail) => `account ${username}: ${String(detail['previous'])} → ${role}`,
});
