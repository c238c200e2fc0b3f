import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { join } from 'node:path';

interface ChaosSummary {
  mode: string;
  exitCode: number;
  acknowledged: number;
  lost: number;
  check?: { ledger: { doubleBookings: number }; counts: { conflictingAnswers: number } };
}

/**
 * The short fault run of `npm run chaos` (chaos/run.ts --smoke): a worker
 * killed with SIGKILL mid-job, Redis killed with SIGKILL and started again on
 * its AOF, the province answering 500 — under steady signed load from both
 * partners. Nothing acknowledged may be lost and no seat booked twice. No
 * timing is asserted: the run's own bounds decide when it is over.
 */
describe('chaos smoke run (chaos/run.ts --smoke)', function () {
  this.timeout(150_000);

  it('loses no acknowledged message and books no seat twice across a worker kill, a Redis kill and province 500s', async () => {
    const run = spawn(process.execPath, [join(import.meta.dirname, '..', '..', 'chaos', 'run.ts'), '--smoke', '--json'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    run.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    run.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-8000)));
    // a run left behind by a timeout would keep its processes and Redis: SIGTERM lets it clean up
    const guard = setTimeout(() => run.kill('SIGTERM'), 140_000);
    const code = await new Promise<number | null>((resolve) => run.once('exit', (exitCode) => resolve(exitCode)));
    clearTimeout(guard);
    const line = stdout.trim().split('\n').pop() ?? '';
    let summary: ChaosSummary;
    try {
      summary = JSON.parse(line) as ChaosSummary;
    } catch {
      throw new Error(`no JSON summary (exit ${code}); stderr:\n${stderr}`);
    }
    expect(summary.lost, stderr).to.equal(0);
    expect(summary.acknowledged).to.be.greaterThan(0);
    expect(summary.check?.ledger.doubleBookings).to.equal(0);
    expect(summary.check?.counts.conflictingAnswers).to.equal(0);
    expect(code, stderr).to.equal(0);
  });
});
