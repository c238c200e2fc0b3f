import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { AuditLog, GENESIS } from '../../stores/audit.ts';
import { fixedClock } from '../../kernel/clock.ts';
import { startTestGateway, testEnv, type TestGateway } from '../helpers/gateway.ts';

const run = promisify(execFile);
const DAY = 24 * 3600 * 1000;

describe('audit log chained by SM3', () => {
  let gateway: TestGateway;
  let audit: AuditLog;
  const clock = fixedClock(Date.parse('2026-12-01T09:00:00+08:00'));

  beforeEach(async () => {
    gateway = await startTestGateway({ workers: false });
    audit = new AuditLog(gateway.runtime.redis, gateway.runtime.keys, () => clock.now());
  });
  afterEach(async () => {
    await gateway.close();
  });

  async function verifyWithTheCommand(): Promise<{ code: number; output: string }> {
    const env = { ...process.env, ...testEnv(gateway.config.redis.namespace, 'http://127.0.0.1:9') };
    try {
      const { stdout } = await run(process.execPath, [join(import.meta.dirname, '..', '..', 'scripts', 'audit-verify.ts')], { env });
      return { code: 0, output: stdout };
    } catch (error) {
      const failure = error as { code: number; stderr: string };
      return { code: failure.code, output: failure.stderr };
    }
  }

  it('when entries are appended from many callers at once, they form one unbroken chain', async () => {
    await Promise.all(Array.from({ length: 20 }, (_, n) => audit.record({ actor: `op${n}`, action: 'login', from: '127.0.0.1', result: 'ok' })));
    const entries = (await audit.recent(100)).reverse();
    expect(entries.map((entry) => entry.seq)).to.deep.equal(Array.from({ length: 20 }, (_, n) => n + 1));
    expect(entries[0]?.prevHash).to.equal(GENESIS);
    expect(await audit.verify()).to.deep.equal({ ok: true, entries: 20 });
    const verified = await verifyWithTheCommand();
    expect(verified).to.deep.include({ code: 0 });
    expect(verified.output).to.include('intact: 20 entries');
  });

  it('when one record is changed, verification names it; so does npm run audit:verify', async () => {
    for (let n = 0; n < 5; n++) await audit.record({ actor: 'wang', action: `dead-letter.replay`, target: `L${n}`, from: '10.0.0.5', result: 'ok' });
    const log = gateway.runtime.keys.auditChain.log;
    const third = JSON.parse((await gateway.runtime.redis.lindex(log, 2)) ?? '{}') as { target: string };
    await gateway.runtime.redis.lset(log, 2, JSON.stringify({ ...third, target: 'L-forged' }));
    expect(await audit.verify()).to.deep.include({ ok: false, index: 2, seq: 3 });
    const verified = await verifyWithTheCommand();
    expect(verified.code).to.equal(1);
    expect(verified.output).to.include('entry 2 (seq 3');
  });

  it('when a record is removed from the middle, the next one is named', async () => {
    for (let n = 0; n < 4; n++) await audit.record({ actor: 'li', action: 'login', from: '10.0.0.6', result: 'ok' });
    const log = gateway.runtime.keys.auditChain.log;
    const second = (await gateway.runtime.redis.lindex(log, 1)) ?? '';
    await gateway.runtime.redis.lrem(log, 1, second);
    expect(await audit.verify()).to.deep.include({ ok: false, index: 1, seq: 3 });
  });

  it('when retention purges old records, the rest still verifies from the new anchor', async () => {
    await audit.record({ actor: 'old', action: 'login', from: 'x', result: 'ok' });
    await audit.record({ actor: 'old', action: 'logout', from: 'x', result: 'ok' });
    clock.advance(200 * DAY);
    await audit.record({ actor: 'new', action: 'login', from: 'x', result: 'ok' });
    expect(await audit.purgeBefore(clock.now() - 180 * DAY)).to.equal(2);
    expect(await audit.verify()).to.deep.equal({ ok: true, entries: 1 });
    await audit.record({ actor: 'newer', action: 'login', from: 'x', result: 'ok' });
    expect(await audit.verify()).to.deep.equal({ ok: true, entries: 2 });
  });

  it('when a partner fails its signature, the rejection is in the audit chain without personal data', async () => {
    const envelope = gateway.province.envelope('query', { SERIES_NUMBER: 'SQ20261201090000000001' }, { secret: 'not-the-secret-at-all-000' });
    const response = await gateway.province.post('query', envelope);
    expect(response.status).to.equal(401);
    let entries = await audit.recent(10);
    while (!entries.some((entry) => entry.action === 'security.signature')) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      entries = await audit.recent(10);
    }
    const event = entries.find((entry) => entry.action === 'security.signature');
    expect(event).to.deep.include({ actor: 'partner:province', result: 'denied' });
    expect(await audit.verify()).to.deep.include({ ok: true });
  });
});
