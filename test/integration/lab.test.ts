import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { signBody } from '../../adapters/changsha/signature.ts';
import { buildEnvelope, signToken } from '../../adapters/province/signature.ts';
import { formatCompactBeijing, parseCompactBeijing } from '../../kernel/beijing-time.ts';
import { fixedClock } from '../../kernel/clock.ts';
import { invalidUtf8Offset, parseRawRequest, runLab, type LabRequest, type LabResult } from '../../usecases/lab.ts';
import { CHANGSHA, startTestGateway, testEnv, testRedisUrl, type TestGateway } from '../helpers/gateway.ts';

const EXAMPLES = new URL('../fixtures/partners', import.meta.url).pathname;
const PROVINCE_SECRET = 'province-test-secret-0001';
const CHANGSHA_SECRET = 'changsha-test-secret-0001';

/** the cancel block of province-vectors.txt, and province-cancel.json that carries its TOKEN */
const CANCEL = {
  body: readFileSync(join(EXAMPLES, 'province-cancel.json'), 'utf8'),
  canonical: '{"ORIGINAL_SERIES_NUMBER":"SQ20261125090000000117","REMARK":"招标人申请延期","SERIES_NUMBER":"QX20261126101500000123"}',
  sm3: '9411abd8115b999ac61c889e4d66ce43071db39ddfb1417155fccb6450515b41',
  signingString: 'HNSDD|9f1c2e7a4b3d4e8f9a0b1c2d3e4f5a6b|20261126101500|cancel|9411abd8115b999ac61c889e4d66ce43071db39ddfb1417155fccb6450515b41',
  tokenSm3: '03f7f8c800f4646e1f90d0154ede68131b59e67afc75a036e2258ca8bcda1e24',
  tokenSha256: 'ff94b4cee087b5dbae68a7623fa622647b6a2e4e360f24045e9dd08b4711633c',
  time: parseCompactBeijing('20261126101500'),
};

/** changsha.md's test vector */
const RELEASED = {
  t: 1764034200,
  body: '{"eventId":"evt_20261125_000042","eventType":"slot.released","occurredAt":"2026-11-25T09:30:00+08:00","data":{"requestId":"CSR-2026-1125-007","reason":"PROJECT_POSTPONED"}}',
  v1: '87eed196f460910051206c9f400b5b62de1a709d3b48c86a1ff327847da9eb18',
};

const JSON_TYPE = 'application/json; charset=utf-8';
const WHO = { actor: 'lab-tester', from: '127.0.0.1' };

function step(result: LabResult, name: string) {
  const found = result.steps.find((s) => s.name === name);
  if (!found) throw new Error(`no step ${name}`);
  return found;
}

function detail(result: LabResult, name: string, label: string): string | undefined {
  return step(result, name).details.find((d) => d.label.startsWith(label))?.value;
}

function withToken(body: string, token: string): string {
  const envelope = JSON.parse(body) as { validation: Record<string, string> };
  envelope.validation['TOKEN'] = token;
  return JSON.stringify(envelope);
}

function province(operation: string, body: string | Buffer, headers: Record<string, string> = { 'content-type': JSON_TYPE }): LabRequest {
  return { partner: 'province', operation, headers, rawBody: Buffer.isBuffer(body) ? body : Buffer.from(body) };
}

function changsha(body: string, signature: string, keyId: string = CHANGSHA.inboundKeyId): LabRequest {
  return { partner: 'changsha', operation: 'events', headers: { 'content-type': JSON_TYPE, 'x-ych-key-id': keyId, 'x-ych-signature': signature }, rawBody: Buffer.from(body) };
}

/** An apply signed now with the test secret, from province-apply.json with the given changes to its data. */
function signedApply(now: number, data: Record<string, unknown> = {}, dataUuid = '5b0e7c1d2a3f4e5d6c7b8a9f0e1d2c3b'): string {
  const example = JSON.parse(readFileSync(join(EXAMPLES, 'province-apply.json'), 'utf8')) as { data: Record<string, unknown> };
  return JSON.stringify(buildEnvelope({ secret: PROVINCE_SECRET, method: 'HMAC-SM3', systemNo: 'HNSDD', dataUuid, time: formatCompactBeijing(now), interfaceCode: 'apply' }, { ...example.data, ...data }));
}

async function namespaceKeys(gateway: TestGateway): Promise<string[]> {
  const redis = new Redis(testRedisUrl());
  try {
    return await redis.keys(`${gateway.config.redis.namespace}:{in:*`);
  } finally {
    redis.disconnect();
  }
}

describe('message lab (接入调试)', () => {
  let gateway: TestGateway;
  const clock = fixedClock(CANCEL.time);
  const lab = (request: LabRequest, who = WHO) =>
    runLab({ adapters: gateway.runtime.adapters, messages: gateway.runtime.messages, ledger: gateway.runtime.ledger, audit: gateway.runtime.audit, clock, bodyLimitBytes: gateway.config.intake.bodyLimitBytes }, request, who);

  before(async () => {
    gateway = await startTestGateway({
      clock,
      workers: false,
      env: { PROVINCE_INBOUND_SECRET: PROVINCE_SECRET, CHANGSHA_INBOUND_SECRET: CHANGSHA_SECRET },
    });
  });
  after(async () => {
    await gateway.close();
  });
  beforeEach(() => {
    clock.set(CANCEL.time);
  });

  it('the province cancel vector at its own TIME passes every step and shows the vector canonical JSON, SM3 and signing string', async () => {
    const result = await lab(province('cancel', CANCEL.body));
    expect(result.steps.map((s) => [s.name, s.status])).to.deep.equal([
      ['parse', 'pass'],
      ['schema', 'pass'],
      ['signature', 'pass'],
      ['clock', 'pass'],
      ['rules', 'pass'],
      ['idempotency', 'pass'],
    ]);
    expect(result.passed).to.equal(true);
    expect(detail(result, 'signature', 'canonical JSON')).to.equal(CANCEL.canonical);
    expect(detail(result, 'signature', 'SM3')).to.equal(CANCEL.sm3);
    expect(detail(result, 'signature', 'signing string')).to.equal(CANCEL.signingString);
    expect(detail(result, 'signature', 'current secret')).to.equal('matches');
    expect(detail(result, 'signature', 'previous secret')).to.equal('not configured');
    expect(detail(result, 'clock', 'distance')).to.equal('0');
  });

  it('when the province TOKEN is wrong, the signature step fails and the answer differs from the right one only by match or no match', async () => {
    const right = await lab(province('cancel', withToken(CANCEL.body, CANCEL.tokenSm3)));
    expect(step(right, 'signature').status).to.equal('pass');
    const wrong = await lab(province('cancel', withToken(CANCEL.body, 'f'.repeat(64))));
    expect(step(wrong, 'signature').status).to.equal('fail');
    expect(step(wrong, 'signature').summary).to.equal('signature does not match');
    expect(wrong.passed).to.equal(false);
    const normalise = (result: LabResult) =>
      JSON.stringify({ ...result, passed: null, steps: result.steps.map((s) => (s.name === 'signature' ? { ...s, status: null, summary: null, details: s.details.map((d) => (d.label === 'current secret' ? { ...d, value: null } : d)) } : s)) });
    expect(normalise(wrong)).to.equal(normalise(right));
  });

  it('whatever TOKEN is given, no answer holds a token a caller could reuse (HMAC-SM3 or HMAC-SHA256, either secret)', async () => {
    const tokens = [CANCEL.tokenSm3, CANCEL.tokenSha256, signToken('HMAC-SM3', 'province-inbound-test-secret-01', { systemNo: 'HNSDD', dataUuid: '9f1c2e7a4b3d4e8f9a0b1c2d3e4f5a6b', time: '20261126101500', interfaceCode: 'cancel', data: JSON.parse(CANCEL.canonical) as unknown })];
    const answers = [
      await lab(province('cancel', CANCEL.body)),
      await lab(province('cancel', withToken(CANCEL.body, '0'.repeat(64)))),
      await lab(province('cancel', withToken(CANCEL.body, ''))),
      await lab(province('apply', CANCEL.body)),
      await lab(changsha(RELEASED.body, `t=${RELEASED.t},v1=${'1'.repeat(64)}`)),
    ];
    const expectedV1 = [signBody(CHANGSHA_SECRET, RELEASED.t, RELEASED.body), signBody(CHANGSHA.inboundPreviousSecret, RELEASED.t, RELEASED.body)];
    for (const answer of answers) {
      const text = JSON.stringify(answer);
      for (const token of [...tokens, ...expectedV1]) expect(text).not.to.include(token);
      for (const secret of [PROVINCE_SECRET, CHANGSHA_SECRET, CHANGSHA.inboundPreviousSecret]) expect(text).not.to.include(secret);
    }
  });

  it('Changsha\'s vector under the current secret matches it and not the previous one, and shows t + "." + raw body as the signed string', async () => {
    clock.set(RELEASED.t * 1000 + 10_000);
    const result = await lab(changsha(RELEASED.body, `t=${RELEASED.t},v1=${RELEASED.v1}`));
    expect(step(result, 'signature').status).to.equal('pass');
    expect(detail(result, 'signature', 'current secret')).to.equal('matches');
    expect(detail(result, 'signature', 'previous secret')).to.equal('does not match');
    expect(detail(result, 'signature', 'signed string')).to.equal(`${RELEASED.t}.${RELEASED.body}`);
    expect(detail(result, 'clock', 'distance')).to.equal('10');
  });

  it('a Changsha event signed with the previous secret during a rotation matches the previous secret only', async () => {
    clock.set(RELEASED.t * 1000);
    const v1 = signBody(CHANGSHA.inboundPreviousSecret, RELEASED.t, RELEASED.body);
    const result = await lab(changsha(RELEASED.body, `t=${RELEASED.t},v1=${v1}`));
    expect(step(result, 'signature').status).to.equal('pass');
    expect(detail(result, 'signature', 'current secret')).to.equal('does not match');
    expect(detail(result, 'signature', 'previous secret')).to.equal('matches');
  });

  it('a Changsha event with an unknown key id fails the signature step naming the key id', async () => {
    clock.set(RELEASED.t * 1000);
    const result = await lab(changsha(RELEASED.body, `t=${RELEASED.t},v1=${RELEASED.v1}`, 'no-such-key'));
    expect(step(result, 'signature').status).to.equal('fail');
    expect(step(result, 'signature').summary).to.equal('unknown X-YCH-Key-Id');
  });

  it('a JSON error after a Chinese character is reported at its byte offset, not its character position', async () => {
    const result = await lab(province('apply', '{"名":1,}'));
    expect(step(result, 'parse').status).to.equal('fail');
    expect(detail(result, 'parse', 'byte offset')).to.equal('9');
    expect(result.steps.slice(1).every((s) => s.status === 'skipped')).to.equal(true);
  });

  it('a body cut short is reported as ending early at its last byte', async () => {
    const result = await lab(province('apply', '{"a":"中'));
    expect(step(result, 'parse').summary).to.match(/^JSON ends early|^not JSON/);
    expect(Number(detail(result, 'parse', 'byte offset'))).to.be.within(7, 9);
  });

  it('a byte that is not UTF-8 is reported at its byte offset', async () => {
    const body = Buffer.concat([Buffer.from('{"名":"'), Buffer.from([0xe6, 0x28]), Buffer.from('"}')]);
    const result = await lab(province('apply', body));
    expect(step(result, 'parse').status).to.equal('fail');
    expect(step(result, 'parse').summary).to.equal('not UTF-8 at byte 8');
    expect(invalidUtf8Offset(Buffer.from([0x41, 0xed, 0xa0, 0x80]))).to.equal(1); // a UTF-16 surrogate
    expect(invalidUtf8Offset(Buffer.from('株洲 ok'))).to.equal(undefined);
  });

  it('a body without a JSON Content-Type fails the parse step as the gateway would refuse it', async () => {
    const result = await lab(province('cancel', CANCEL.body, { 'content-type': 'text/plain' }));
    expect(step(result, 'parse').status).to.equal('fail');
    expect(step(result, 'parse').summary).to.include('Content-Type');
  });

  it('an apply missing fields lists every schema violation', async () => {
    const envelope = JSON.parse(signedApply(clock.now())) as { data: Record<string, unknown> };
    delete envelope.data['SEAT_COUNT'];
    delete envelope.data['TRADE_TYPE'];
    envelope.data['AREA_CODE'] = 12;
    const result = await lab(province('apply', JSON.stringify(envelope)));
    expect(step(result, 'schema').status).to.equal('fail');
    const text = JSON.stringify(step(result, 'schema').violations);
    expect(step(result, 'schema').violations?.length).to.be.at.least(3);
    expect(text).to.include('SEAT_COUNT').and.to.include('TRADE_TYPE').and.to.include('AREA_CODE');
    expect(step(result, 'rules').status).to.equal('skipped');
  });

  it('a message signed 400 s ago fails the clock step with a distance of 400 against a window of ±300', async () => {
    clock.set(CANCEL.time + 400_000);
    const result = await lab(province('cancel', CANCEL.body));
    expect(step(result, 'signature').status).to.equal('pass');
    expect(step(result, 'clock').status).to.equal('fail');
    expect(detail(result, 'clock', 'distance')).to.equal('400');
    expect(detail(result, 'clock', 'window')).to.equal('±300');
  });

  it('an apply for another center breaks the business rules, which are listed', async () => {
    const now = parseCompactBeijing('20261125090005');
    clock.set(now);
    const result = await lab(province('apply', signedApply(now, { SUB_AREA_CODE: '430300' })));
    expect(step(result, 'signature').status).to.equal('pass');
    expect(step(result, 'rules').status).to.equal('fail');
    expect(JSON.stringify(step(result, 'rules').violations)).to.include('SUB_AREA_CODE');
  });

  it('a valid apply is shown as new, and nothing is recorded nor queued by the lab', async () => {
    const now = parseCompactBeijing('20261125090005');
    clock.set(now);
    const result = await lab(province('apply', signedApply(now, {}, 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa01')));
    expect(result.passed).to.equal(true);
    expect(step(result, 'idempotency').summary).to.equal('new: it would be recorded');
    expect(await namespaceKeys(gateway)).to.deep.equal([]);
    const counts = await gateway.runtime.inboundQueue.getJobCounts();
    expect(Object.values(counts).reduce((sum, n) => sum + n, 0)).to.equal(0);
  });

  it('once the gateway has recorded an apply, the same apply is a repeat and other content under its SERIES_NUMBER is a conflict', async () => {
    const now = parseCompactBeijing('20261125090005');
    clock.set(now);
    const first = signedApply(now, { SERIES_NUMBER: 'SQ20261125090000000999' }, 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbb01');
    const answer = await fetch(`${gateway.url}/partners/province/apply`, { method: 'POST', headers: { 'content-type': JSON_TYPE }, body: first });
    expect(answer.status).to.equal(200);
    const repeat = await lab(province('apply', first));
    expect(step(repeat, 'idempotency').status).to.equal('pass');
    expect(step(repeat, 'idempotency').summary).to.match(/^repeat of /);
    const other = signedApply(now, { SERIES_NUMBER: 'SQ20261125090000000999', SEAT_COUNT: 4 }, 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbb02');
    const conflict = await lab(province('apply', other));
    expect(step(conflict, 'idempotency').status).to.equal('fail');
    expect(step(conflict, 'idempotency').summary).to.match(/^conflict: /);
    expect(conflict.passed).to.equal(false);
    // still only the one message the gateway recorded
    expect(await gateway.runtime.messages.messageKnown('province', 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbb02')).to.equal(false);
  });

  it('every use of the lab is audited with its actor, partner and interface, without the body', async () => {
    await lab(province('cancel', CANCEL.body), { actor: 'audited-operator', from: '10.0.0.9' });
    const entries = await gateway.runtime.audit.recent(50);
    const entry = entries.find((e) => e.action === 'lab.run' && e.actor === 'audited-operator');
    expect(entry?.target).to.equal('province/cancel');
    expect(entry?.from).to.equal('10.0.0.9');
    expect(entry?.detail?.['passed']).to.equal(true);
    expect(JSON.stringify(entry)).not.to.include('招标人');
  });

  it('an unknown interface fails at once and names it', async () => {
    const result = await lab(province('no-such', CANCEL.body));
    expect(result.passed).to.equal(false);
    expect(result.steps).to.have.length(1);
    expect(result.steps[0]?.summary).to.include('no-such');
  });

  it('a pasted raw request is split into its headers and body at the blank line', () => {
    const raw = parseRawRequest(Buffer.from(`POST /partners/province/cancel HTTP/1.1\r\nContent-Type: application/json\r\nX-Extra: a:b\r\n\r\n${CANCEL.body}`));
    expect(raw.requestLine).to.equal('POST /partners/province/cancel HTTP/1.1');
    expect(raw.headers).to.deep.equal({ 'content-type': 'application/json', 'x-extra': 'a:b' });
    expect(raw.rawBody.toString('utf8')).to.equal(CANCEL.body);
    expect(parseRawRequest(Buffer.from(CANCEL.body)).headers).to.deep.equal({});
  });

  describe('npm run lab (the command)', () => {
    let dir: string;
    before(() => {
      dir = mkdtempSync(join(tmpdir(), 'lab-'));
    });
    after(() => {
      rmSync(dir, { recursive: true, force: true });
    });

    async function runCommand(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
      const env = { ...testEnv(gateway.config.redis.namespace, 'http://127.0.0.1:9'), PROVINCE_INBOUND_SECRET: PROVINCE_SECRET, PATH: process.env['PATH'] ?? '' };
      const child = spawn(process.execPath, ['scripts/lab.ts', ...args], { env, cwd: new URL('../..', import.meta.url).pathname });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
      const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
      return { code, stdout, stderr };
    }

    it('a raw request signed now passes every step, exits 0, prints no token and leaves an audit entry by the OS user', async () => {
      const body = JSON.stringify(buildEnvelope({ secret: PROVINCE_SECRET, method: 'HMAC-SM3', systemNo: 'HNSDD', dataUuid: 'cccccccccccccccccccccccccccccc01', time: formatCompactBeijing(Date.now()), interfaceCode: 'cancel' }, JSON.parse(CANCEL.canonical) as unknown));
      const token = (JSON.parse(body) as { validation: { TOKEN: string } }).validation.TOKEN;
      const file = join(dir, 'cancel.http');
      writeFileSync(file, `POST /partners/province/cancel HTTP/1.1\nContent-Type: application/json; charset=utf-8\n\n${body}`);
      const { code, stdout } = await runCommand(['--partner', 'province', '--interface', 'cancel', file]);
      expect(stdout).to.include('[PASS] signature: signature matches');
      expect(stdout).to.include(CANCEL.sm3);
      expect(stdout).not.to.include(token);
      expect(code).to.equal(0);
      const entries = await gateway.runtime.audit.recent(50);
      expect(entries.some((e) => e.action === 'lab.run' && e.actor.startsWith('os:') && e.from.startsWith('cli:'))).to.equal(true);
      expect(await namespaceKeys(gateway)).not.to.include(`${gateway.config.redis.namespace}:{in:province}:mid:cccccccccccccccccccccccccccccc01`);
    });

    it('a bare JSON body with a wrong TOKEN exits 1 and prints the failing signature step', async () => {
      const file = join(dir, 'wrong.json');
      writeFileSync(file, withToken(CANCEL.body, 'e'.repeat(64)));
      const { code, stdout } = await runCommand(['--partner', 'province', '--interface', 'cancel', '--json', file]);
      const result = JSON.parse(stdout) as LabResult;
      expect(step(result, 'signature').status).to.equal('fail');
      expect(code).to.equal(1);
    });

    it('without --partner the command prints its usage and exits 64', async () => {
      const { code, stderr } = await runCommand(['--interface', 'cancel', 'x.json']);
      expect(stderr).to.include('usage: npm run lab');
      expect(code).to.equal(64);
    });
  });
});
