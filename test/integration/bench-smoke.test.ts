import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { join } from 'node:path';

/**
 * Keeps `npm run bench` working: its smoke mode runs every part of the bench
 * (its own Redis, gateway api and worker processes, both baselines, the load
 * generator, the simulators) for a few seconds at a low rate and writes
 * nothing. Only shape and integrity are checked here, never speed.
 */
describe('bench smoke run', () => {
  it('measures every part once and loses nothing', async function () {
    this.timeout(90_000);
    const script = join(import.meta.dirname, '..', '..', 'bench', 'run.ts');
    const child = spawn(process.execPath, [script, '--smoke'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code, stderr).to.equal(0);
    const results = JSON.parse(stdout) as Record<string, unknown> & {
      ingest: { saturation: { median: Record<string, number> }; ladder: unknown[]; at: object; highestRateHeldP99At50ms: number };
      endToEnd: { answered: number }[];
      scaling: { oneWorker: number; twoWorkers: number };
      integrity: { accepted: number; lost: number; errorCount: number };
    };
    expect(results).to.include.keys('ingest', 'ratios', 'endToEnd', 'memory', 'scaling', 'integrity', 'targets', 'machine', 'settings');
    expect(results.ingest.saturation.median).to.have.keys('gateway', 'expressEcho', 'expressBullmq');
    expect(results.ingest.ladder).to.not.be.empty;
    expect(results.ratios).to.include.keys('gatewayToExpressEcho', 'gatewayToExpressBullmq');
    expect(results.memory).to.include.keys('apiRssPeakMb', 'workerRssPeakMb', 'redisUsedPeakMb', 'redisPer10kQueuedMb', 'redisPer10kProcessedMb');
    expect(results.scaling).to.include.keys('oneWorker', 'twoWorkers', 'drains');
    expect(results.endToEnd).to.not.be.empty;
    expect(results.endToEnd[0]?.answered).to.be.greaterThan(0);
    expect(results.integrity.accepted).to.be.greaterThan(0);
    expect(results.integrity.lost).to.equal(0);
    expect(results.integrity.errorCount).to.equal(0);
  });
});
