import { expect } from 'chai';
import { fixedClock } from '../../kernel/clock.ts';
import type { ChainedEntry } from '../../stores/audit.ts';
import { AccountStore } from '../../stores/accounts.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { createAccount, OpsClient, OPS_PASSWORD } from '../helpers/ops-client.ts';

const LOCKOUT_ATTEMPTS = 5;
const LOCKOUT_MINUTES = 15;

async function auditOf(gateway: TestGateway, actor: string): Promise<ChainedEntry[]> {
  const entries = await gateway.runtime.redis.lrange(gateway.runtime.keys.auditChain.log, 0, -1);
  return entries.map((entry) => JSON.parse(entry) as ChainedEntry).filter((entry) => entry.actor === actor);
}

function reasonsOf(entries: readonly ChainedEntry[]): string[] {
  return entries.filter((entry) => entry.action === 'login').map((entry) => String(entry.detail?.['reason']));
}

describe('dashboard login: the lockout is counted before the password is checked, refusals are alike', () => {
  let gateway: TestGateway;
  const clock = fixedClock(Date.parse('2026-12-01T02:00:00Z'));

  before(async () => {
    // throttling per address is not what these tests are about: every test logs in from 127.0.0.1
    gateway = await startTestGateway({ workers: false, clock, env: { OPS_LOGIN_RATE_LIMIT: '10000', OPS_LOCKOUT_ATTEMPTS: String(LOCKOUT_ATTEMPTS), OPS_LOCKOUT_MINUTES: String(LOCKOUT_MINUTES) } });
  });
  after(async () => {
    await gateway.close();
  });

  it('when 50 wrong passwords arrive in parallel, at most twice the lockout limit are checked, all 50 get the same 401, and the right password afterwards opens no session', async () => {
    await createAccount(gateway, 'race', 'operator');
    const answers = await Promise.all(Array.from({ length: 50 }, (_, n) => new OpsClient(gateway.url).login('race', `wrong-password-${n}`)));

    expect(answers.map((answer) => answer.status)).to.deep.equal(Array.from({ length: 50 }, () => 401));
    expect(new Set(answers.map((answer) => JSON.stringify(answer.data))).size).to.equal(1);
    // what was checked is in the audit: the limit before the lock, at most the limit again while locked; the rest refused unchecked
    const reasons = reasonsOf(await auditOf(gateway, 'race'));
    expect(reasons).to.have.length(50);
    const checked = reasons.filter((reason) => reason === 'unknown-or-wrong').length;
    expect(checked).to.be.within(LOCKOUT_ATTEMPTS, 2 * LOCKOUT_ATTEMPTS);
    expect(reasons.filter((reason) => reason === 'locked-unchecked')).to.have.length(50 - checked);

    const right = new OpsClient(gateway.url);
    const afterwards = await right.login('race', OPS_PASSWORD);
    expect(afterwards.status).to.be.oneOf([401, 423]);
    expect((await right.request('GET', '/ops/api/session')).status).to.equal(401);
  });

  it('when the account is locked, a wrong password, an unknown user and a disabled account are answered alike; the right password is told of the lock and when it ends', async () => {
    await createAccount(gateway, 'locked-out', 'viewer');
    await createAccount(gateway, 'switched-off', 'viewer');
    await new AccountStore(gateway.runtime.redis, gateway.runtime.keys).disable('switched-off');
    const wrongBeforeLock = await new OpsClient(gateway.url).login('locked-out', 'wrong-password-0');
    for (let n = 1; n < LOCKOUT_ATTEMPTS; n++) expect((await new OpsClient(gateway.url).login('locked-out', `wrong-password-${n}`)).status).to.equal(401);

    const lockedWrong = await new OpsClient(gateway.url).login('locked-out', 'wrong-password-again');
    const unknown = await new OpsClient(gateway.url).login('nobody-at-all', OPS_PASSWORD);
    const disabled = await new OpsClient(gateway.url).login('switched-off', OPS_PASSWORD);
    for (const answer of [lockedWrong, unknown, disabled]) {
      expect(answer.status).to.equal(401);
      expect(answer.data).to.deep.equal(wrongBeforeLock.data);
    }

    const right = await new OpsClient(gateway.url).login('locked-out', OPS_PASSWORD);
    expect(right.status).to.equal(423);
    expect(Date.parse((right.data as { lockedUntil: string }).lockedUntil)).to.equal(clock.now() + LOCKOUT_MINUTES * 60_000);
    // admins see in the audit what the callers were not told
    expect(reasonsOf(await auditOf(gateway, 'locked-out')).slice(-2)).to.deep.equal(['unknown-or-wrong', 'locked']);
    expect(reasonsOf(await auditOf(gateway, 'switched-off'))).to.deep.equal(['disabled']);
  });

  it('when the lock has run its time, the right password logs in and the count of wrong passwords starts again', async () => {
    await createAccount(gateway, 'patient', 'viewer');
    for (let n = 0; n < LOCKOUT_ATTEMPTS; n++) await new OpsClient(gateway.url).login('patient', `wrong-password-${n}`);
    expect((await new OpsClient(gateway.url).login('patient', OPS_PASSWORD)).status).to.equal(423);

    clock.advance(LOCKOUT_MINUTES * 60_000);
    expect((await new OpsClient(gateway.url).login('patient', OPS_PASSWORD)).status).to.equal(200);
    // a fresh count: four wrong passwords do not lock it again
    for (let n = 0; n < LOCKOUT_ATTEMPTS - 1; n++) await new OpsClient(gateway.url).login('patient', `wrong-password-${n}`);
    expect((await new OpsClient(gateway.url).login('patient', OPS_PASSWORD)).status).to.equal(200);
  });
});

describe('dashboard login: throttled per client address', () => {
  let gateway: TestGateway;
  const clock = fixedClock(Date.parse('2026-12-01T02:00:10Z'));
  const LIMIT = 3;

  before(async () => {
    gateway = await startTestGateway({ workers: false, clock, env: { OPS_LOGIN_RATE_LIMIT: String(LIMIT) } });
  });
  after(async () => {
    await gateway.close();
  });

  it('when one address sends more logins in a minute than the limit, the rest get 429 with Retry-After, unchecked and audited once; the next minute it logs in again', async () => {
    await createAccount(gateway, 'hasty', 'operator');
    for (let n = 0; n < LIMIT; n++) expect((await new OpsClient(gateway.url).login('hasty', `wrong-password-${n}`)).status).to.equal(401);

    const throttled = [await new OpsClient(gateway.url).login('hasty', OPS_PASSWORD), await new OpsClient(gateway.url).login('hasty', 'wrong-password-x')];
    expect(throttled.map((answer) => answer.status)).to.deep.equal([429, 429]);
    // 50 s left of the minute 02:00
    expect(throttled[0]?.headers['retry-after']).to.equal('50');
    const entries = (await auditOf(gateway, 'hasty')).filter((entry) => entry.action === 'login');
    expect(entries.map((entry) => [entry.result, entry.detail?.['reason']])).to.deep.equal([
      ['failed', 'unknown-or-wrong'],
      ['failed', 'unknown-or-wrong'],
      ['failed', 'unknown-or-wrong'],
      ['denied', 'throttled'],
    ]);

    clock.advance(50_000);
    // the throttled attempts were not counted towards the lockout either
    const client = new OpsClient(gateway.url);
    expect((await client.login('hasty', OPS_PASSWORD)).status).to.equal(200);
    expect((await client.request('GET', '/ops/api/session')).status).to.equal(200);
  });
});
