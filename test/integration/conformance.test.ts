import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { expect } from 'chai';
import { conformanceConfig, conformanceReport, runConformance, type ConformancePartner } from '../../scripts/lib/conformance/index.ts';
import { formatResults } from '../../scripts/lib/conformance/runner.ts';
import { CHANGSHA, CHANGSHA_SIMULATOR, OUTBOUND_SECRET, testEnv } from '../helpers/gateway.ts';
import { ChangshaSimulator } from '../simulators/changsha.ts';
import { ProvinceSimulator, type ProvinceSimulatorOptions } from '../simulators/province.ts';

const ROOT = join(import.meta.dirname, '..', '..');
/** the run needs no Redis: a port nothing listens on */
const NO_REDIS = 'redis://127.0.0.1:9';

/** The environment a deployment would give the command: the partners' settings and secrets, nothing else. */
function environment(provinceUrl: string, changshaUrl: string): Record<string, string> {
  return testEnv('conformance', provinceUrl, NO_REDIS, changshaUrl);
}

async function command(partner: ConformancePartner, url: string, env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [join(ROOT, 'scripts', 'conformance.ts'), '--partner', partner, '--url', url], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const [code] = (await once(child, 'close')) as [number | null];
  return { code, stdout, stderr };
}

const SECRETS = [OUTBOUND_SECRET, CHANGSHA.clientSecret, CHANGSHA.outboundSecret, CHANGSHA.inboundSecret];

function expectNoSecret(output: string): void {
  for (const secret of SECRETS) expect(output).not.to.include(secret);
}

describe('conformance run (npm run conformance) against the bundled simulators on loopback', () => {
  let province: ProvinceSimulator;
  let changsha: ChangshaSimulator;

  async function startProvince(options: Partial<ProvinceSimulatorOptions> = {}): Promise<void> {
    await province.stop();
    province = await new ProvinceSimulator({ secret: OUTBOUND_SECRET, enforceContract: true, ...options }).start();
  }

  beforeEach(async () => {
    province = await new ProvinceSimulator({ secret: OUTBOUND_SECRET, enforceContract: true }).start();
    changsha = await new ChangshaSimulator({
      ...CHANGSHA_SIMULATOR,
    }).start();
  });
  afterEach(async () => {
    await province.stop();
    await changsha.stop();
  });

  it('when the province simulator keeps its receiver rules, every province rule passes', async () => {
    const config = conformanceConfig('province', { url: province.url }, environment(province.url, changsha.url));
    const results = await runConformance('province', config);
    const report = conformanceReport('province', config, results);
    expect(results.filter((result) => !result.passed), report).to.deep.equal([]);
    expect(results.map((result) => result.id)).to.include.members(['notify-accepted', 'notify-repeat', 'notify-wrong-signature', 'notify-time-outside-window', 'notify-schema-violation', 'exception-accepted', 'schedule-answered']);
    // the repeat was received once, the refused ones not at all
    expect(province.received.filter((message) => message.operation === 'notify')).to.have.length(2);
  });

  it('when the Changsha simulator keeps its rules, every Changsha rule passes', async () => {
    const config = conformanceConfig('changsha', { url: changsha.url }, environment(province.url, changsha.url));
    const results = await runConformance('changsha', config);
    const report = conformanceReport('changsha', config, results);
    expect(results.filter((result) => !result.passed), report).to.deep.equal([]);
    expect(results.map((result) => result.id)).to.include.members(['token-issued', 'token-wrong-credentials', 'event-accepted', 'event-repeat', 'event-wrong-signature', 'event-stale-timestamp', 'availability-answered']);
    expect(changsha.duplicates).to.equal(1);
  });

  it('when the province simulator answers a repeated DATAUUID anew, exactly notify-repeat fails and its two exchanges are printed', async () => {
    await startProvince({ breakRule: 'repeat-answer' });
    const config = conformanceConfig('province', { url: province.url }, environment(province.url, changsha.url));
    const results = await runConformance('province', config);
    expect(results.filter((result) => !result.passed).map((result) => result.id)).to.deep.equal(['notify-repeat']);
    const report = conformanceReport('province', config, results);
    const failure = report.slice(report.indexOf('FAIL notify-repeat'));
    expect(failure).to.match(/the resend was answered differently/);
    expect(failure.match(/> POST http:\/\/127\.0\.0\.1:\d+\/notify/g)).to.have.length(2);
    expect(failure.match(/< HTTP 200/g)).to.have.length(2);
    expect(failure).to.include('TRACKING_NO');
    expectNoSecret(report);
  });

  it('when run as the command against conforming simulators, it prints PASS for each rule and exits 0', async () => {
    const env = environment(province.url, changsha.url);
    const { code, stdout, stderr } = await command('province', province.url, env);
    expect(code, stderr).to.equal(0);
    expect(stdout).to.match(/^PASS notify-repeat — /m);
    expect(stdout).not.to.match(/^FAIL/m);
    expectNoSecret(stdout + stderr);
    const changshaRun = await command('changsha', changsha.url, env);
    expect(changshaRun.code, changshaRun.stderr).to.equal(0);
    expect(changshaRun.stdout).to.match(/^PASS event-repeat — /m);
    expectNoSecret(changshaRun.stdout + changshaRun.stderr);
  });

  it('when run as the command against a simulator breaking a rule, it prints that FAIL with its exchange and exits 1', async () => {
    await startProvince({ breakRule: 'repeat-answer' });
    const { code, stdout, stderr } = await command('province', province.url, environment(province.url, changsha.url));
    expect(code, stderr).to.equal(1);
    expect(stdout).to.match(/^FAIL notify-repeat — /m);
    expect(stdout.match(/^FAIL/gm)).to.have.length(1);
    expect(stdout).to.match(/< HTTP 200/);
    expectNoSecret(stdout + stderr);
  });

  it('when a failed exchange carries a bearer token or a secret, the report masks them', () => {
    const report = formatResults(
      [
        {
          id: 'event-accepted',
          title: 'a signed event is answered 202',
          passed: false,
          detail: 'expected HTTP 202, got HTTP 500',
          exchanges: [
            {
              request: 'POST http://127.0.0.1:1/open-api/v2/events',
              requestHeaders: { Authorization: 'Bearer abcdef0123456789' },
              requestBody: `client_secret=${CHANGSHA.clientSecret}&x=1`,
              status: 500,
              answer: `{"access_token":"tok-123456","echo":"${CHANGSHA.outboundSecret}"}`,
            },
          ],
        },
      ],
      [CHANGSHA.outboundSecret],
    );
    expect(report).to.include('FAIL event-accepted');
    expect(report).not.to.include('abcdef0123456789');
    expect(report).not.to.include('tok-123456');
    expectNoSecret(report);
  });
});
