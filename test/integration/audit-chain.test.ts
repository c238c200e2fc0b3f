import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { AuditLog, GENESIS, entryHash, type ChainedEntry } from '../../stores/audit.ts';
import { fixedClock } from '../../kernel/clock.ts';
import { startTestGateway, testEnv, type TestGateway } from '../helpers/gateway.ts';

const run = promisify(execFile);
const DAY = 24 * 3600 * 1000;
const MINUTE = 60_000;

describe('audit log chained by SM3', () => {
  let gateway: TestGateway;
  let audit: AuditLog;
  const clock = fixedClock(Date.parse('2026-12-01T09:00:00+08:00'));
  let anchorDir: string;

  beforeEach(async () => {
    gateway = await startTestGateway({ workers: false, clock });
    audit = new AuditLog(gateway.runtime.redis, gateway.runtime.keys, () => clock.now());
    anchorDir = mkdtempSync(join(tmpdir(), 'zzgw-audit-anchor-'));
  });
  afterEach(async () => {
    await gateway.close();
    rmSync(anchorDir, { recursive: true, force: true });
  });

  async function verifyWithTheCommand(...args: string[]): Promise<{ code: number; output: string }> {
    const env = { ...process.env, ...testEnv(gateway.config.redis.namespace, 'http://127.0.0.1:9') };
    try {
      const { stdout } = await run(process.execPath, [join(import.meta.dirname, '..', '..', 'scripts', 'audit-verify.ts'), ...args], { env });
      return { code: 0, output: stdout };
    } catch (error) {
      const failure = error as { code: number; stderr: string };
      return { code: failure.code, output: failure.stderr };
    }
  }

  async function stored(): Promise<ChainedEntry[]> {
    return (await gateway.runtime.redis.lrange(gateway.runtime.keys.auditChain.log, 0, -1)).map((raw) => JSON.parse(raw) as ChainedEntry);
  }

  it('when entries are appended from many callers at once, they form one unbroken chain', async () => {
    await Promise.all(Array.from({ length: 20 }, (_, n) => audit.record({ actor: `op${n}`, action: 'login', from: '127.0.0.1', result: 'ok' })));
    const entries = (await audit.recent(100)).reverse();
    expect(entries.map((entry) => entry.seq)).to.deep.equal(Array.from({ length: 20 }, (_, n) => n + 1));
    expect(entries[0]?.prevHash).to.equal(GENESIS);
    expect(await audit.verify()).to.deep.include({ ok: true, entries: 20 });
    const verified = await verifyWithTheCommand();
    expect(verified).to.deep.include({ code: 0 });
    expect(verified.output).to.include('intact: 20 entries');
  });

  it('when two processes append at once, each one\'s entries are in call order and the chain holds', async () => {
    const other = new AuditLog(gateway.runtime.redis, gateway.runtime.keys, () => clock.now());
    await Promise.all(
      Array.from({ length: 30 }, (_, n) => (n % 2 === 0 ? audit : other).record({ actor: `op${n % 2}`, action: 'action', target: String(n), from: '127.0.0.1', result: 'ok' })),
    );
    const entries = await stored();
    for (const actor of ['op0', 'op1']) {
      const targets = entries.filter((entry) => entry.actor === actor).map((entry) => Number(entry.target));
      expect(targets).to.deep.equal([...targets].sort((a, b) => a - b));
    }
    expect(await audit.verify()).to.deep.include({ ok: true, entries: 30 });
  });

  it('when 300 entries are appended at once in one process, each costs one append script call, not a retry per competitor', async () => {
    const scriptCalls = async () => {
      const stats = await gateway.runtime.redis.info('commandstats');
      return [...stats.matchAll(/cmdstat_(?:evalsha|eval):calls=(\d+)/g)].reduce((sum, match) => sum + Number(match[1]), 0);
    };
    const before = await scriptCalls();
    await Promise.all(Array.from({ length: 300 }, (_, n) => audit.record({ actor: 'batch', action: 'import', target: String(n), from: '127.0.0.1', result: 'ok' })));
    const calls = (await scriptCalls()) - before;
    // one call per entry, plus the first guess at the head of a chain this instance had not seen
    expect(calls).to.be.at.most(301);
    expect(await audit.verify()).to.deep.include({ ok: true, entries: 300 });
  });

  it('when more refusals arrive at once than the backlog holds, the rest are counted as overflow in the minute\'s summary and the chain holds', async () => {
    const small = new AuditLog(gateway.runtime.redis, gateway.runtime.keys, () => clock.now(), { backlog: 10 });
    const refusal = { actor: 'partner:province', action: 'security.rejected', from: '10.1.1.1', result: 'denied' as const, detail: { status: 409, code: 'CONFLICT' } };
    const pending = Array.from({ length: 100 }, () => small.recordOrCount(refusal, 'CONFLICT'));
    expect(small.queued).to.equal(10);
    await Promise.all(pending);
    // an operator's action is refused rather than queued beyond the backlog
    const settled = await Promise.allSettled(Array.from({ length: 12 }, () => small.record(refusal)));
    expect(settled.filter((outcome) => outcome.status === 'rejected').map((outcome) => (outcome.reason as Error).message)).to.deep.equal(['audit log: 10 appends already waiting']);
    await small.flush();
    clock.advance(2 * MINUTE);
    await small.flush();
    const entries = await stored();
    const single = entries.filter((entry) => entry.action === 'security.rejected');
    const summary = entries.find((entry) => entry.action === 'security.rejected.summary');
    expect(single).to.have.length(22);
    expect(summary?.detail).to.deep.include({ count: 89, overflow: 89, codes: { CONFLICT: 89 }, sources: { '10.1.1.1': 89 } });
    expect(await small.verify()).to.deep.include({ ok: true });
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

  it('when the newest records are removed, verification reports the head they leave behind; so does npm run audit:verify', async () => {
    for (let n = 0; n < 5; n++) await audit.record({ actor: 'zhao', action: 'login', from: '10.0.0.7', result: 'ok' });
    await gateway.runtime.redis.rpop(gateway.runtime.keys.auditChain.log, 2);
    const result = await audit.verify();
    expect(result).to.deep.include({ ok: false, seq: 5 });
    expect(result.ok ? '' : result.problem).to.include('newest entries were removed');
    const verified = await verifyWithTheCommand();
    expect(verified.code).to.equal(1);
    expect(verified.output).to.include('ends at entry 3 but its head is entry 5');
  });

  it('when retention purges old records, the rest still verifies from the new anchor', async () => {
    await audit.record({ actor: 'old', action: 'login', from: 'x', result: 'ok' });
    await audit.record({ actor: 'old', action: 'logout', from: 'x', result: 'ok' });
    clock.advance(200 * DAY);
    await audit.record({ actor: 'new', action: 'login', from: 'x', result: 'ok' });
    expect(await audit.purgeBefore(clock.now() - 180 * DAY)).to.equal(2);
    expect(await gateway.runtime.redis.get(gateway.runtime.keys.auditChain.anchor)).to.match(/^2:[0-9a-f]{64}$/);
    expect(await audit.verify()).to.deep.include({ ok: true, entries: 1 });
    await audit.record({ actor: 'newer', action: 'login', from: 'x', result: 'ok' });
    expect(await audit.verify()).to.deep.include({ ok: true, entries: 2 });
  });

  it('when processes with different clocks interleave old and new entries, retention purges only the leading old run and the chain still verifies', async () => {
    // a process whose clock is behind (or whose entry waited) appends an older stamp after a newer one
    const slow = fixedClock(clock.now());
    const behind = new AuditLog(gateway.runtime.redis, gateway.runtime.keys, () => slow.now());
    clock.advance(200 * DAY);
    await behind.record({ actor: 'old-1', action: 'login', from: 'x', result: 'ok' });
    await audit.record({ actor: 'new-1', action: 'login', from: 'x', result: 'ok' });
    await behind.record({ actor: 'old-2', action: 'login', from: 'x', result: 'ok' });
    await audit.record({ actor: 'new-2', action: 'login', from: 'x', result: 'ok' });
    expect(await audit.purgeBefore(clock.now() - 180 * DAY)).to.equal(1);
    expect((await stored()).map((entry) => entry.actor)).to.deep.equal(['new-1', 'old-2', 'new-2']);
    expect(await audit.verify()).to.deep.include({ ok: true, entries: 3 });
    expect((await verifyWithTheCommand()).code).to.equal(0);
  });

  it('when the anchor was written before anchors carried a number, the chain still verifies and purges on', async () => {
    const { log, anchor, head } = gateway.runtime.keys.auditChain;
    // a chain as the previous version left it: its first entries purged, the anchor a bare hash
    let previous = 'a'.repeat(64);
    for (let seq = 7; seq <= 8; seq++) {
      const unhashed = { at: new Date(clock.now()).toISOString(), actor: 'legacy', action: 'login', from: 'x', result: 'ok' as const, seq, prevHash: previous };
      const hash = entryHash(unhashed);
      await gateway.runtime.redis.rpush(log, JSON.stringify({ ...unhashed, hash }));
      previous = hash;
    }
    await gateway.runtime.redis.multi().set(anchor, 'a'.repeat(64)).hset(head, 'hash', previous, 'seq', '8').exec();
    expect(await audit.verify()).to.deep.include({ ok: true, entries: 2 });
    clock.advance(200 * DAY);
    await audit.record({ actor: 'new', action: 'login', from: 'x', result: 'ok' });
    expect((await stored()).at(-1)?.seq).to.equal(9);
    expect(await audit.purgeBefore(clock.now() - 180 * DAY)).to.equal(2);
    expect(await audit.verify()).to.deep.include({ ok: true, entries: 1 });
  });

  it('with --anchor, the head kept outside Redis catches a chain cut back behind it even when the head in Redis was rewritten to match', async () => {
    const file = join(anchorDir, 'audit-anchor.json');
    for (let n = 0; n < 3; n++) await audit.record({ actor: 'sun', action: 'login', from: '10.0.0.8', result: 'ok' });
    const first = await verifyWithTheCommand('--anchor', file);
    expect(first.code).to.equal(0);
    expect(first.output).to.include('anchor written at entry 3');
    const third = (await stored())[2];
    expect(JSON.parse(readFileSync(file, 'utf8'))).to.deep.include({ seq: 3, hash: third?.hash });

    for (let n = 0; n < 2; n++) await audit.record({ actor: 'sun', action: 'logout', from: '10.0.0.8', result: 'ok' });
    const second = await verifyWithTheCommand('--anchor', file);
    expect(second.code).to.equal(0);
    expect(second.output).to.include('anchor moved to entry 5');

    // someone with Redis access removes the two newest entries and sets the head back to match
    const { log, head } = gateway.runtime.keys.auditChain;
    await gateway.runtime.redis.rpop(log, 2);
    await gateway.runtime.redis.hset(head, 'hash', third?.hash ?? '', 'seq', '3');
    expect(await audit.verify()).to.deep.include({ ok: true, entries: 3 });
    const cut = await verifyWithTheCommand('--anchor', file);
    expect(cut.code).to.equal(1);
    expect(cut.output).to.include('before entry 5 recorded in the anchor file');
  });

  it('with --anchor, a purge past the anchored entry passes when retention may have removed it, and fails when the entry was too young', async () => {
    const file = join(anchorDir, 'audit-anchor.json');
    // the command judges age by the real clock: these entries are 200 days old by it
    const past = fixedClock(Date.now() - 200 * DAY);
    const early = new AuditLog(gateway.runtime.redis, gateway.runtime.keys, () => past.now());
    for (let n = 0; n < 2; n++) await early.record({ actor: 'zhou', action: 'login', from: '10.0.0.9', result: 'ok' });
    expect((await verifyWithTheCommand('--anchor', file)).code).to.equal(0);
    const today = new AuditLog(gateway.runtime.redis, gateway.runtime.keys, Date.now);
    await today.record({ actor: 'zhou', action: 'logout', from: '10.0.0.9', result: 'ok' });
    expect(await today.purgeBefore(Date.now() - 180 * DAY)).to.equal(2);
    const purged = await verifyWithTheCommand('--anchor', file);
    expect(purged.code).to.equal(0);
    expect(purged.output).to.include('anchor entry 2 was purged by retention');
    expect(purged.output).to.include('anchor moved to entry 3');

    // a recent entry "purged" by hand: the front trimmed and the anchor moved as retention would
    await today.record({ actor: 'zhou', action: 'login', from: '10.0.0.9', result: 'ok' });
    expect((await verifyWithTheCommand('--anchor', file)).code).to.equal(0);
    const { log, anchor } = gateway.runtime.keys.auditChain;
    const newest = (await stored()).at(-1);
    expect(newest?.seq).to.equal(4);
    await gateway.runtime.redis.multi().set(anchor, `${newest?.seq}:${newest?.hash}`).ltrim(log, 2, -1).exec();
    expect(await audit.verify()).to.deep.include({ ok: true, entries: 0 });
    const young = await verifyWithTheCommand('--anchor', file);
    expect(young.code).to.equal(1);
    expect(young.output).to.include('was removed, but retention keeps entries after');
  });

  it('when a stranger fails the signature, the rejection is counted into its minute\'s summary entry, not chained on its own', async () => {
    const envelope = gateway.province.envelope('query', { SERIES_NUMBER: 'SQ20261201090000000001' }, { secret: 'not-the-secret-at-all-000' });
    for (let n = 0; n < 3; n++) expect((await gateway.province.post('query', envelope)).status).to.equal(401);
    await gateway.runtime.audit.flush();
    expect(await stored()).to.deep.equal([]);
    clock.advance(2 * MINUTE);
    await gateway.runtime.audit.flush();
    const entries = await stored();
    expect(entries).to.have.length(1);
    expect(entries[0]).to.deep.include({ actor: 'partner:province', action: 'security.signature.summary', result: 'denied', from: '127.0.0.1' });
    expect(entries[0]?.detail).to.deep.include({ count: 3, codes: { UNAUTHENTICATED: 3 }, sources: { '127.0.0.1': 3 } });
    expect(JSON.stringify(entries[0])).not.to.include('SQ20261201090000000001');
    expect(await audit.verify()).to.deep.include({ ok: true, entries: 1 });
  });

  it('when two processes count the same minute and both see it closed, one summary entry holds both their counts', async () => {
    const [first, second] = [0, 1].map(() => new AuditLog(gateway.runtime.redis, gateway.runtime.keys, () => clock.now()));
    const rejection = { actor: 'partner:changsha', action: 'security.rejected', result: 'denied' as const, code: 'NOT_FOUND' };
    for (let n = 0; n < 5; n++) first?.count({ ...rejection, from: '10.2.0.1' });
    for (let n = 0; n < 7; n++) second?.count({ ...rejection, from: '10.2.0.2', code: 'MALFORMED_JSON' });
    await Promise.all([first?.flush(), second?.flush()]);
    clock.advance(2 * MINUTE);
    await Promise.all([first?.flush(), second?.flush()]);
    const entries = await stored();
    expect(entries).to.have.length(1);
    expect(entries[0]).to.deep.include({ actor: 'partner:changsha', action: 'security.rejected.summary', from: '10.2.0.2' });
    expect(entries[0]?.detail).to.deep.include({ count: 12, codes: { NOT_FOUND: 5, MALFORMED_JSON: 7 }, sources: { '10.2.0.2': 7, '10.2.0.1': 5 } });
    expect(await gateway.runtime.redis.zcard(gateway.runtime.keys.auditChain.summaries)).to.equal(0);
    expect(await audit.verify()).to.deep.include({ ok: true, entries: 1 });
  });

  it('when rejections come from many addresses, a summary names the first 16 and counts the rest together', async () => {
    for (let n = 0; n < 40; n++) audit.count({ actor: 'partner:province', action: 'security.signature', result: 'denied', from: `10.3.0.${n}`, code: 'UNAUTHENTICATED' });
    clock.advance(2 * MINUTE);
    await audit.flush();
    const [summary] = await stored();
    expect(Object.keys(summary?.detail?.['sources'] ?? {})).to.have.length(16);
    expect(summary?.detail).to.deep.include({ count: 40, otherSources: 24 });
  });

  it('when a partner\'s signed message is refused, the refusal is chained on its own at once', async () => {
    const response = await gateway.changsha.send('slot.requested', { nonsense: true });
    expect(response.status).to.equal(400);
    await gateway.runtime.audit.flush();
    let entries = await stored();
    while (entries.length === 0) {
      // the statistics write is not awaited by the route: wait for its append, not for time
      await new Promise<void>((resolve) => setImmediate(resolve));
      await gateway.runtime.audit.flush();
      entries = await stored();
    }
    expect(entries).to.have.length(1);
    expect(entries[0]).to.deep.include({ actor: 'partner:changsha', action: 'security.rejected', result: 'denied' });
    expect(entries[0]?.detail).to.deep.include({ status: 400, code: 'SCHEMA_INVALID' });
  });
});
