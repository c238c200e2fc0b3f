import { expect } from 'chai';
import { gatewayLogOutput, launchPlan, readLaunchEnvironment } from '../../config/launch.ts';
import { gatewayLogPath, readGatewayLine } from '../../scripts/lib/gateway-log.ts';

describe('npm start: where the gateway logs go (gatewayLogOutput)', () => {
  const outputFor = (env: Record<string, string>, terminal: boolean) => gatewayLogOutput(launchPlan(readLaunchEnvironment(env), env), readLaunchEnvironment(env), terminal);

  it('when a trial runs on a terminal, the JSON goes to a file; through a pipe, to stdout as before', () => {
    expect(outputFor({}, true)).to.equal('file');
    expect(outputFor({}, false)).to.equal('stdout');
  });

  it('when TRIAL_GATEWAY_LOGS names a place, a trial uses it whatever the terminal; another value means auto', () => {
    expect(outputFor({ TRIAL_GATEWAY_LOGS: 'file' }, false)).to.equal('file');
    expect(outputFor({ TRIAL_GATEWAY_LOGS: 'stdout' }, true)).to.equal('stdout');
    expect(outputFor({ TRIAL_GATEWAY_LOGS: 'pretty' }, true)).to.equal('file');
  });

  it('when a partner URL is given (a deployment), JSON stays on stdout, even on a terminal and with TRIAL_GATEWAY_LOGS=file', () => {
    expect(outputFor({ PROVINCE_BASE_URL: 'https://hnsdd.example', TRIAL_GATEWAY_LOGS: 'file' }, true)).to.equal('stdout');
  });
});

describe('npm start: a gateway log line told to a person (readGatewayLine)', () => {
  it('when the line is a warning, it is kept for the file and told in plain words: message, correlation id first, then a few fields', () => {
    const line = JSON.stringify({ correlationId: '01M8Y1', level: 'warn', message: 'held message handed to operators', service: 'zzgw', timestamp: '2026-12-03T13:00:00.000Z', waitingFor: 'SQ1' });
    expect(readGatewayLine(line)).to.deep.equal({ json: true, shown: '[gateway] warning: held message handed to operators — correlation 01M8Y1, waitingFor SQ1' });
  });

  it('when the line is an error with an error object and many fields, it names the error by its message and shows six fields at most', () => {
    const line = JSON.stringify({ level: 'error', message: 'unhandled error', error: { name: 'TypeError', message: 'x is undefined' }, a: 1, b: 2, c: 3, d: 4, e: 5, f: 6 });
    expect(readGatewayLine(line).shown).to.equal('[gateway] ERROR: unhandled error — error x is undefined, a 1, b 2, c 3, d 4, e 5');
  });

  it('when the line is info or debug, it goes to the file only', () => {
    expect(readGatewayLine(JSON.stringify({ level: 'info', message: 'message accepted', correlationId: '01M8' }))).to.deep.equal({ json: true, shown: undefined });
  });

  it('when the line is not JSON (a configuration error, a crash), it is shown as it is and kept out of the JSON file', () => {
    expect(readGatewayLine('zzgw: PORT must be a number')).to.deep.equal({ json: false, shown: '[gateway] zzgw: PORT must be a number' });
    expect(readGatewayLine('')).to.deep.equal({ json: false, shown: undefined });
  });

  it('when a field holds control characters (a partner may send them), no escape sequence reaches the terminal', () => {
    const shown = readGatewayLine(JSON.stringify({ level: 'warn', message: 'message rejected', reason: 'bad \u001b[2J\u001b]0;owned\u0007 key' })).shown ?? '';
    const controls = [...shown].filter((char) => { const code = char.charCodeAt(0); return code < 0x20 || (code >= 0x7f && code <= 0x9f); });
    expect(controls).to.deep.equal([]);
    expect(shown).to.include('reason bad  [2J ]0;owned  key');
  });

  it('names the log file by the UTC time the trial started, without characters a file system refuses', () => {
    expect(gatewayLogPath('/d/.data/logs', new Date('2026-12-03T13:26:50.123Z'))).to.equal('/d/.data/logs/gateway-2026-12-03T13-26-50Z.jsonl');
  });
});
