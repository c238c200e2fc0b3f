import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { TRIAL_REDIS_URL_FILE } from '../../config/launch.ts';

const ROOT = join(import.meta.dirname, '..', '..');

describe('npm start given a partner URL (a deployment, not a trial)', () => {
  it('when secrets are missing, names every missing setting and stops with 78, starting nothing and inventing no secret', async () => {
    const hadTrialRedis = existsSync(TRIAL_REDIS_URL_FILE);
    const child = spawn(process.execPath, [join(ROOT, 'scripts', 'start.ts')], {
      cwd: ROOT,
      env: { PATH: process.env['PATH'] ?? '', PROVINCE_BASE_URL: 'https://hnsdd.example', CHANGSHA_BASE_URL: 'https://ych.example', PROVINCE_INBOUND_SECRET: 'given-secret-0000000001' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    const [code] = (await once(child, 'close')) as [number | null];
    expect(code, output).to.equal(78);
    for (const name of ['PROVINCE_OUTBOUND_SECRET', 'DATA_ENCRYPTION_KEY', 'OPS_SESSION_SECRET', 'CHANGSHA_CLIENT_SECRET', 'CHANGSHA_CLIENT_ID']) expect(output).to.include(name);
    expect(output).to.not.include('trial secrets').and.not.include('private Redis').and.not.include('simulator');
    // no private Redis was started for it (one left by a running npm start is not ours to judge)
    if (!hadTrialRedis) expect(existsSync(TRIAL_REDIS_URL_FILE)).to.equal(false);
  });
});

/** Everything a trial needs given, so that it writes no trial secret and starts no private Redis of its own. */
function trialEnvironment(): Record<string, string> {
  const secret = () => randomBytes(24).toString('hex');
  return {
    PATH: process.env['PATH'] ?? '',
    REDIS_URL: process.env['TEST_REDIS_URL'] ?? '',
    REDIS_NAMESPACE: `start-${randomBytes(4).toString('hex')}`,
    HOST: '127.0.0.1',
    PORT: '0',
    SIMULATOR_INTERVAL_MS: '200',
    SIMULATOR_SEED: '17',
    PROVINCE_INBOUND_SECRET: secret(),
    PROVINCE_OUTBOUND_SECRET: secret(),
    CHANGSHA_CLIENT_SECRET: secret(),
    CHANGSHA_INBOUND_SECRET: secret(),
    CHANGSHA_OUTBOUND_SECRET: secret(),
    DATA_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    LOCAL_API_KEY: secret(),
    OPS_SESSION_SECRET: secret(),
  };
}

/** What a child wrote so far, and a way to wait for a line of it: on output events, no sleeping. */
class Output {
  text = '';
  private readonly waiters: { pattern: RegExp; resolve: (match: RegExpMatchArray) => void; reject: (error: Error) => void }[] = [];

  constructor(child: ChildProcess) {
    for (const stream of [child.stdout, child.stderr]) {
      stream?.on('data', (chunk: Buffer) => {
        this.text += chunk.toString('utf8');
        for (const waiter of [...this.waiters]) {
          const match = this.text.match(waiter.pattern);
          if (match) {
            this.waiters.splice(this.waiters.indexOf(waiter), 1);
            waiter.resolve(match);
          }
        }
      });
    }
    child.once('close', () => {
      for (const waiter of this.waiters.splice(0)) waiter.reject(new Error(`the launcher ended before ${waiter.pattern}:\n${this.text}`));
    });
  }

  until(pattern: RegExp): Promise<RegExpMatchArray> {
    const match = this.text.match(pattern);
    if (match) return Promise.resolve(match);
    return new Promise((resolve, reject) => this.waiters.push({ pattern, resolve, reject }));
  }
}

/** A Changsha event with no signature: the gateway refuses it and logs a warning. */
async function unsignedChangshaEvent(gatewayUrl: string): Promise<number> {
  const answer = await fetch(`${gatewayUrl}/partners/changsha/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  await answer.arrayBuffer();
  return answer.status;
}

const isJsonLine = (line: string) => line.trim().startsWith('{');
const hasScript = spawnSync('script', ['--version'], { stdio: 'ignore' }).status === 0;

describe('npm start as a trial: what a person at a terminal reads', function () {
  this.timeout(60_000);
  const written: string[] = [];
  after(() => {
    for (const file of written) rmSync(file, { force: true });
  });

  it('on a terminal, shows the narrative and the gateway warnings in plain words, no JSON line, and says once the file under .data/logs that holds the JSON', async function () {
    if (!hasScript) this.skip(); // util-linux script gives the launcher a pseudo-terminal
    // exec: no shell in between, so that the launcher's own exit status is the one script reports
    const command = `exec '${process.execPath}' scripts/start.ts`;
    const child = spawn('script', ['-qefc', command, '/dev/null'], { cwd: ROOT, env: trialEnvironment(), stdio: ['pipe', 'pipe', 'pipe'] });
    const output = new Output(child);
    const closed = once(child, 'close') as Promise<[number | null]>;
    const [path] = await output.until(/\.data\/logs\/gateway-[^\s;]+\.jsonl/);
    written.push(join(ROOT, path));
    const [, url] = await output.until(/gateway listening on (http:\/\/127\.0\.0\.1:\d+)/);
    expect(await unsignedChangshaEvent(url ?? '')).to.equal(401);
    await output.until(/\[gateway\] warning: message rejected — .*code UNAUTHENTICATED/);
    await output.until(/\[start\] province -> apply /);
    child.stdin.write('\u0003'); // Ctrl-C, as a person stops it
    const [code] = await closed;
    expect(code, output.text).to.equal(0);

    const lines = output.text.split(/\r?\n/);
    expect(lines.filter(isJsonLine), 'JSON lines on the terminal').to.deep.equal([]);
    expect(lines.find((line) => line.includes('[gateway] warning: message rejected'))).to.include('partner changsha').and.include('status 401');
    expect(output.text.split(path), 'the log file is named once').to.have.length(2);
    const records = readFileSync(join(ROOT, path), 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line) as { level: string; message: string; code?: string });
    expect(records.some((record) => record.message === 'gateway listening')).to.equal(true);
    expect(records.some((record) => record.level === 'warn' && record.message === 'message rejected' && record.code === 'UNAUTHENTICATED')).to.equal(true);
  });

  it('without a terminal (a pipe, CI), keeps the gateway JSON lines on standard output as before and names no log file', async () => {
    const child = spawn(process.execPath, [join(ROOT, 'scripts', 'start.ts')], { cwd: ROOT, env: trialEnvironment(), stdio: ['ignore', 'pipe', 'pipe'] });
    const output = new Output(child);
    const closed = once(child, 'close') as Promise<[number | null]>;
    await output.until(/\[start\] gateway listening on/);
    await output.until(/^\{.*"message":"gateway listening".*\}$/m);
    child.kill('SIGINT');
    const [code] = await closed;
    expect(code, output.text).to.equal(0);
    expect(output.text).to.not.include('.data/logs/').and.not.include('[gateway]');
  });

  it('with TRIAL_GATEWAY_LOGS=file and no terminal, writes the JSON to the file all the same, for a person who pipes the narrative on', async () => {
    const child = spawn(process.execPath, [join(ROOT, 'scripts', 'start.ts')], { cwd: ROOT, env: { ...trialEnvironment(), TRIAL_GATEWAY_LOGS: 'file' }, stdio: ['ignore', 'pipe', 'pipe'] });
    const output = new Output(child);
    const closed = once(child, 'close') as Promise<[number | null]>;
    const [path] = await output.until(/\.data\/logs\/gateway-[^\s;]+\.jsonl/);
    written.push(join(ROOT, path));
    await output.until(/\[start\] gateway listening on/);
    child.kill('SIGINT');
    const [code] = await closed;
    expect(code, output.text).to.equal(0);
    expect(output.text.split('\n').filter(isJsonLine)).to.deep.equal([]);
    expect(readFileSync(join(ROOT, path), 'utf8')).to.match(/"message":"stopped"/);
  });
});
