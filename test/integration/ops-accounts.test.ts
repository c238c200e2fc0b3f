import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import axios from 'axios';
import { expect } from 'chai';
import type { ChainedEntry } from '../../stores/audit.ts';
import { AccountStore } from '../../stores/accounts.ts';
import { futureDay } from '../helpers/dates.ts';
import { API_KEY, startTestGateway, testRedisUrl, type TestGateway } from '../helpers/gateway.ts';
import { createAccount, loggedIn, OpsClient, OPS_PASSWORD } from '../helpers/ops-client.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const NEW_PASSWORD = 'a brand new passphrase';

async function audit(gateway: TestGateway): Promise<ChainedEntry[]> {
  const entries = await gateway.runtime.redis.lrange(gateway.runtime.keys.auditChain.log, 0, -1);
  return entries.map((entry) => JSON.parse(entry) as ChainedEntry);
}

/**
 * Runs an account command as `npm run user:…` would (without the setup step), with
 * the Redis settings and nothing else in its environment: no partner URL, no secret.
 */
async function command(gateway: TestGateway, script: string, args: string[], stdin = ''): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [join(ROOT, 'scripts', script), ...args], {
    cwd: ROOT,
    env: { REDIS_URL: testRedisUrl(), REDIS_NAMESPACE: gateway.config.redis.namespace },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  child.stdin.end(stdin);
  const [code] = (await once(child, 'close')) as [number | null];
  return { code, stdout, stderr };
}

describe('account changes reach open sessions at their next request', () => {
  let gateway: TestGateway;
  let accounts: AccountStore;

  before(async () => {
    gateway = await startTestGateway({ workers: false });
    accounts = new AccountStore(gateway.runtime.redis, gateway.runtime.keys);
  });
  after(async () => {
    await gateway.close();
  });

  it('when an operator is made a viewer, the open session is refused an operator action at its next request and says viewer', async () => {
    const session = await loggedIn(gateway, 'demoted', 'operator');
    expect((await session.request('POST', '/ops/api/reconciliations', {})).status).to.equal(202);
    await accounts.setRole('demoted', 'viewer');
    expect((await session.request('POST', '/ops/api/reconciliations', {})).status).to.equal(403);
    expect(((await session.request('GET', '/ops/api/session')).data as { user: unknown }).user).to.deep.equal({ username: 'demoted', role: 'viewer' });
  });

  it('when a viewer is made an admin, the open session reads the audit at its next request', async () => {
    const session = await loggedIn(gateway, 'promoted', 'viewer');
    expect((await session.request('GET', '/ops/api/audit')).status).to.equal(403);
    await accounts.setRole('promoted', 'admin');
    expect((await session.request('GET', '/ops/api/audit')).status).to.equal(200);
  });

  it('when an account is disabled, its open session gets 401 at its next request and its login is answered like a wrong password', async () => {
    const session = await loggedIn(gateway, 'leaver', 'admin');
    const other = await loggedIn(gateway, 'stayer', 'admin');
    await accounts.disable('leaver');
    expect((await session.request('GET', '/ops/api/audit')).status).to.equal(401);
    expect((await session.request('GET', '/ops/api/session')).status).to.equal(401);
    const relogin = await new OpsClient(gateway.url).login('leaver', OPS_PASSWORD);
    const wrong = await new OpsClient(gateway.url).login('stayer', 'not the password');
    expect([relogin.status, relogin.data]).to.deep.equal([wrong.status, wrong.data]);
    // the other accounts' sessions go on
    expect((await other.request('GET', '/ops/api/audit')).status).to.equal(200);
  });

  it('when the password is reset, the open sessions end and only the new password logs in', async () => {
    const session = await loggedIn(gateway, 'forgetful', 'operator');
    await accounts.resetPassword('forgetful', NEW_PASSWORD);
    expect((await session.request('GET', '/ops/api/session')).status).to.equal(401);
    expect((await new OpsClient(gateway.url).login('forgetful', OPS_PASSWORD)).status).to.equal(401);
    expect((await new OpsClient(gateway.url).login('forgetful', NEW_PASSWORD)).status).to.equal(200);
  });
});

describe('account commands: user:add, user:role, user:disable, user:reset', function () {
  // each command is a node process of its own
  this.timeout(60_000);
  let gateway: TestGateway;
  const actor = `os:${userInfo().username}`;

  before(async () => {
    gateway = await startTestGateway({ workers: false });
  });
  after(async () => {
    await gateway.close();
  });

  it('when run with only the Redis settings, each command does its change and leaves an audit entry naming the OS user', async () => {
    const added = await command(gateway, 'user-add.ts', ['--username', 'cli-user', '--role', 'viewer'], `${OPS_PASSWORD}\n`);
    expect(added, added.stderr).to.include({ code: 0 });
    const session = new OpsClient(gateway.url);
    expect((await session.login('cli-user', OPS_PASSWORD)).status).to.equal(200);

    const role = await command(gateway, 'user-role.ts', ['--username', 'cli-user', '--role', 'operator']);
    expect(role, role.stderr).to.include({ code: 0 });
    expect(((await session.request('GET', '/ops/api/session')).data as { user: unknown }).user).to.deep.equal({ username: 'cli-user', role: 'operator' });

    const reset = await command(gateway, 'user-reset.ts', ['--username', 'cli-user'], `${NEW_PASSWORD}\n`);
    expect(reset, reset.stderr).to.include({ code: 0 });
    expect((await session.request('GET', '/ops/api/session')).status).to.equal(401);
    expect((await session.login('cli-user', NEW_PASSWORD)).status).to.equal(200);

    const disabled = await command(gateway, 'user-disable.ts', ['--username', 'cli-user']);
    expect(disabled, disabled.stderr).to.include({ code: 0 });
    expect((await session.request('GET', '/ops/api/session')).status).to.equal(401);

    const changes = (await audit(gateway)).filter((entry) => entry.target === 'cli-user');
    expect(changes.map((entry) => [entry.actor, entry.action, entry.result, entry.detail])).to.deep.equal([
      [actor, 'account.add', 'ok', { role: 'viewer', replaced: false }],
      [actor, 'account.role', 'ok', { role: 'operator', previous: 'viewer' }],
      [actor, 'account.reset', 'ok', { role: 'operator' }],
      [actor, 'account.disable', 'ok', { role: 'operator' }],
    ]);
    expect(changes.every((entry) => entry.from.startsWith('cli:'))).to.equal(true);
  });

  it('when user:add asks for the password at a terminal, what is typed is not shown, and the account logs in with it', async () => {
    const password = 'typed-at-a-terminal-7';
    // script(1) gives the command a pseudo-terminal, as an operator's shell would
    const child = spawn('script', ['-qec', `"${process.execPath}" scripts/user-add.ts --username tty-user --role viewer`, '/dev/null'], {
      cwd: ROOT,
      env: { ...process.env, REDIS_URL: testRedisUrl(), REDIS_NAMESPACE: gateway.config.redis.namespace },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let screen = '';
    let answered = 0;
    child.stdout.on('data', (chunk: Buffer) => {
      screen += chunk.toString('utf8');
      // typed only once each prompt shows: typeahead would be echoed by the terminal itself
      const prompts = (screen.match(/password for tty-user|again: /g) ?? []).length;
      while (answered < prompts) {
        answered += 1;
        child.stdin.write(`${password}\r`);
      }
    });
    const [code] = (await once(child, 'close')) as [number | null];
    expect(screen).to.include('password for tty-user').and.include('account tty-user').and.not.include(password);
    expect(code).to.equal(0);
    const session = new OpsClient(gateway.url);
    expect((await session.login('tty-user', password)).status).to.equal(200);
  });

  it('when user:reset is run on a locked account, the lock is cleared and the new password logs in at once', async () => {
    await createAccount(gateway, 'locked-cli', 'viewer');
    for (let n = 0; n < gateway.config.ops.lockoutAttempts; n++) await new OpsClient(gateway.url).login('locked-cli', `wrong-password-${n}`);
    expect((await new OpsClient(gateway.url).login('locked-cli', OPS_PASSWORD)).status).to.equal(423);
    const reset = await command(gateway, 'user-reset.ts', ['--username', 'locked-cli'], `${NEW_PASSWORD}\n`);
    expect(reset, reset.stderr).to.include({ code: 0 });
    expect((await new OpsClient(gateway.url).login('locked-cli', NEW_PASSWORD)).status).to.equal(200);
  });

  it('when a command names an account that does not exist, it fails, creates nothing, and the refusal is audited', async () => {
    const role = await command(gateway, 'user-role.ts', ['--username', 'no-such-user', '--role', 'admin']);
    expect(role.code).to.equal(1);
    expect(role.stderr).to.include('no account named no-such-user');
    expect(await new AccountStore(gateway.runtime.redis, gateway.runtime.keys).get('no-such-user')).to.equal(undefined);
    const entries = (await audit(gateway)).filter((entry) => entry.target === 'no-such-user');
    expect(entries.map((entry) => [entry.actor, entry.action, entry.result, entry.detail])).to.deep.equal([[actor, 'account.role', 'failed', { code: 'NOT_FOUND' }]]);
  });

  it('when a command is given no user name or an unknown role, it prints its usage and exits 64 without touching Redis', async () => {
    const before = (await audit(gateway)).length;
    expect((await command(gateway, 'user-disable.ts', [])).code).to.equal(64);
    expect((await command(gateway, 'user-role.ts', ['--username', 'x', '--role', 'root'])).code).to.equal(64);
    expect(await audit(gateway)).to.have.length(before);
  });
});

describe('actions through /api/v1 are audited with the key\'s name', () => {
  let gateway: TestGateway;
  const headers = { 'X-Api-Key': API_KEY };
  const post = (path: string, body: unknown, extra: Record<string, string> = headers) => axios.post(`${gateway.url}${path}`, body, { headers: extra, validateStatus: () => true });

  before(async () => {
    gateway = await startTestGateway({ workers: false });
  });
  after(async () => {
    await gateway.close();
  });

  it('when the key replays, reconciles, raises an exception, requests seats and releases them, each is audited as api-key:local, done or failed', async () => {
    const reconciliation = await post('/api/v1/reconciliations', {});
    expect(reconciliation.status).to.equal(202);
    expect((await post('/api/v1/dead-letters/01NOSUCHLETTER/replay', {})).status).to.equal(404);
    expect((await post('/api/v1/exceptions', { seriesNumber: 'SQ20261203093000999999', type: 'OTHER', description: 'x', occurredAt: '2026-12-03T09:30:00+08:00' })).status).to.equal(404);
    expect((await post('/api/v1/exceptions', { type: 'OTHER' })).status).to.equal(400);
    const day = futureDay({ open: true });
    const iso = (time: string) => `${day.slice(0, 4)}-${day.slice(4, 6)}-${day.slice(6, 8)}T${time}:00+08:00`;
    const created = await post('/api/v1/seat-requests', { start: iso('09:00'), end: iso('12:00'), seats: 3, projectCode: 'M4302000260031190001', sectionCode: 'M4302000260031190001001', category: 'municipal', projectName: '株洲市政道路改造工程' });
    expect(created.status).to.equal(201);
    const requestId = (created.data as { requestId: string }).requestId;
    expect((await axios.delete(`${gateway.url}/api/v1/seat-requests/${requestId}`, { headers })).status).to.equal(200);

    const entries = (await audit(gateway)).filter((entry) => entry.actor === 'api-key:local');
    expect(entries.map((entry) => [entry.action, entry.target, entry.result])).to.deep.equal([
      ['reconciliation.run', (reconciliation.data as { runId: string }).runId, 'ok'],
      ['dead-letter.replay', '01NOSUCHLETTER', 'failed'],
      ['exception.raise', 'SQ20261203093000999999', 'failed'],
      ['exception.raise', undefined, 'failed'],
      ['seat-request.create', requestId, 'ok'],
      ['seat-request.release', requestId, 'ok'],
    ]);
    expect(entries.every((entry) => /127\.0\.0\.1/.test(entry.from))).to.equal(true);
  });

  it('when a request comes without the right key, it is refused and leaves no audit entry', async () => {
    const before = (await audit(gateway)).length;
    expect((await post('/api/v1/reconciliations', {}, { 'X-Api-Key': 'not-the-key' })).status).to.equal(401);
    expect((await post('/api/v1/reconciliations', {}, {})).status).to.equal(401);
    expect(await audit(gateway)).to.have.length(before);
  });
});
