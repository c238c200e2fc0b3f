import { expect } from 'chai';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { createAccount, OpsClient, OPS_PASSWORD } from '../helpers/ops-client.ts';

describe('dashboard access: accounts, sessions, CSRF, lockout, audit', () => {
  let gateway: TestGateway;
  const password = OPS_PASSWORD;

  before(async () => {
    gateway = await startTestGateway({ workers: false });
  });
  after(async () => {
    await gateway.close();
  });

  const account = (username: string, role: 'viewer' | 'operator' | 'admin') => createAccount(gateway, username, role);

  it('when the password is right, logs in with an HttpOnly, SameSite=Strict session cookie that lasts the idle timeout', async () => {
    await account('wang', 'operator');
    const client = new OpsClient(gateway.url);
    const response = await client.login('wang', password);
    expect(response.status).to.equal(200);
    expect(response.data).to.deep.include({ user: { username: 'wang', role: 'operator' } });
    const cookie = response.headers['set-cookie']?.join(';') ?? '';
    expect(cookie).to.match(/HttpOnly/i).and.to.match(/SameSite=Strict/i).and.to.match(/Path=\/ops/);
    const sid = decodeURIComponent(client.cookie.replace('zzgw.sid=', '')).slice(2).split('.')[0] ?? '';
    const ttl = await gateway.runtime.redis.ttl(`${gateway.config.redis.namespace}:ops:session:${sid}`);
    expect(ttl).to.be.within(29 * 60, 30 * 60);
    expect((await client.request('GET', '/ops/api/session')).status).to.equal(200);
  });

  it('when the user is unknown or the password wrong, answers 401 the same way', async () => {
    await account('li', 'viewer');
    const unknown = await new OpsClient(gateway.url).login('nobody', password);
    const wrong = await new OpsClient(gateway.url).login('li', 'wrong password!!');
    expect([unknown.status, wrong.status]).to.deep.equal([401, 401]);
    expect(unknown.data).to.deep.equal(wrong.data);
  });

  it('when five wrong passwords come in a row, the account is locked (all five read as wrong passwords) and even the right password is refused, with the lock named', async () => {
    await account('zhao', 'viewer');
    const client = new OpsClient(gateway.url);
    const statuses = [];
    for (let attempt = 0; attempt < 5; attempt++) statuses.push((await client.login('zhao', `wrong-${attempt}-password`)).status);
    expect(statuses).to.deep.equal([401, 401, 401, 401, 401]);
    const right = await client.login('zhao', password);
    expect(right.status).to.equal(423);
    expect((right.data as { lockedUntil: string }).lockedUntil).to.be.a('string');
  });

  it('when a viewer tries to replay a dead letter, answers 403 and audits the denial', async () => {
    await account('sun', 'viewer');
    const client = new OpsClient(gateway.url);
    await client.login('sun', password);
    const response = await client.request('POST', '/ops/api/dead-letters/01ABC/replay', {});
    expect(response.status).to.equal(403);
    const entries = await gateway.runtime.redis.lrange(gateway.runtime.keys.auditChain.log, 0, -1);
    expect(entries.map((entry) => JSON.parse(entry) as { actor: string; result: string }).some((entry) => entry.actor === 'sun' && entry.result === 'denied')).to.equal(true);
  });

  it('when an action comes without the CSRF token, or from another origin, it is refused', async () => {
    await account('zhou', 'operator');
    const client = new OpsClient(gateway.url);
    await client.login('zhou', password);
    const token = client.csrf;
    client.csrf = '';
    expect((await client.request('POST', '/ops/api/reconciliations', {})).status).to.equal(403);
    client.csrf = token;
    expect((await client.request('POST', '/ops/api/reconciliations', {}, { Origin: 'https://evil.example' })).status).to.equal(403);
    expect((await client.request('POST', '/ops/api/reconciliations', {})).status).to.equal(202);
  });

  it('when not logged in, the dashboard API answers 401; an admin reads the audit, an operator may not', async () => {
    expect((await new OpsClient(gateway.url).request('GET', '/ops/api/audit')).status).to.equal(401);
    await account('qian', 'admin');
    await account('wu', 'operator');
    const admin = new OpsClient(gateway.url);
    await admin.login('qian', password);
    const audit = await admin.request('GET', '/ops/api/audit');
    expect(audit.status).to.equal(200);
    const first = (audit.data as { items: { actor: string; action: string; from: string; result: string; at: string }[] }).items[0];
    expect(first).to.include({ actor: 'qian', action: 'login', result: 'ok' });
    expect(first?.from).to.match(/127\.0\.0\.1/);
    const operator = new OpsClient(gateway.url);
    await operator.login('wu', password);
    expect((await operator.request('GET', '/ops/api/audit')).status).to.equal(403);
  });
});
