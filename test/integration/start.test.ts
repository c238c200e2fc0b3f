import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
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
