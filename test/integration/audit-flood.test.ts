import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { Agent, request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fixedClock } from '../../kernel/clock.ts';
import type { ChainedEntry } from '../../stores/audit.ts';
import { SECURITY_EVENTS_KEPT } from '../../telemetry/statistics.ts';
import { startTestGateway, testEnv, type TestGateway } from '../helpers/gateway.ts';

const run = promisify(execFile);
const MINUTE = 60_000;
/** ZZGW_FLOOD_REQUESTS makes a shorter run while working on it; the suite sends 100,000 */
const REQUESTS = Number(process.env['ZZGW_FLOOD_REQUESTS'] ?? 100_000);
const CONNECTIONS = 32;
/** the test's clock moves on a minute every this many answers, so the flood spans many minutes */
const PER_MINUTE = 10_000;
const PARTNERS = 2;
/** signature (401), rate-limit (429), rejected (400, 404): the kinds a stranger can cause */
const KINDS = 3;
/** a /healthz answer slower than this counts as not answered */
const HEALTH_BOUND_MS = 10_000;

interface Answer {
  status: number;
  ms: number;
}

/**
 * One keep-alive connection sending prepared requests one after another. Bare
 * bytes on a socket rather than node:http's client: the flood's own client then
 * costs little of the two cores the gateway needs.
 */
class RawConnection {
  readonly #socket: Socket;
  #buffer: Buffer = Buffer.alloc(0);
  #waiting: { resolve: (status: number) => void; reject: (error: Error) => void } | undefined;

  constructor(port: number) {
    this.#socket = connect(port, '127.0.0.1');
    this.#socket.setNoDelay(true);
    this.#socket.on('data', (chunk: Buffer) => {
      this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
      this.#answer();
    });
    const fail = (error: Error) => {
      this.#waiting?.reject(error);
      this.#waiting = undefined;
    };
    this.#socket.on('error', fail);
    this.#socket.on('close', () => fail(new Error('connection closed by the gateway')));
  }

  send(request: Buffer): Promise<number> {
    return new Promise((resolve, reject) => {
      this.#waiting = { resolve, reject };
      this.#socket.write(request);
    });
  }

  #answer(): void {
    const end = this.#buffer.indexOf('\r\n\r\n');
    if (end < 0 || !this.#waiting) return;
    const head = this.#buffer.subarray(0, end).toString('latin1');
    const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1] ?? 0);
    if (this.#buffer.length < end + 4 + length) return;
    this.#buffer = this.#buffer.subarray(end + 4 + length);
    const waiting = this.#waiting;
    this.#waiting = undefined;
    waiting.resolve(Number(head.slice(9, 12)));
  }

  close(): void {
    this.#socket.destroy();
  }
}

function rawRequest(path: string, body: string, contentType: string): Buffer {
  const bytes = Buffer.from(body, 'utf8');
  return Buffer.concat([Buffer.from(`POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\nContent-Type: ${contentType}\r\nContent-Length: ${bytes.length}\r\n\r\n`, 'latin1'), bytes]);
}

function get(agent: Agent, url: string, boundMs: number): Promise<Answer> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = request(url, { agent, timeout: boundMs }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - started }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`/healthz not answered within ${boundMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

async function usedMemory(gateway: TestGateway): Promise<number> {
  const info = await gateway.runtime.redis.info('memory');
  return Number(/used_memory:(\d+)/.exec(info)?.[1]);
}

describe('audit log under a flood of junk from strangers', function () {
  this.timeout(240_000);
  let gateway: TestGateway;
  const clock = fixedClock(Date.now());

  before(async () => {
    // a source limit above the flood's pace lets most junk reach the checks behind it
    gateway = await startTestGateway({ workers: false, clock, env: { INTAKE_SOURCE_RATE_LIMIT: '1000' } });
  });
  after(async () => {
    await gateway.close();
  });

  it(`when ${REQUESTS} unsigned, unknown-interface and malformed requests arrive, the chain grows by one summary per partner, kind and minute, memory stays flat, /healthz answers throughout and audit:verify passes`, async () => {
    const redis = gateway.runtime.redis;
    const { log } = gateway.runtime.keys.auditChain;
    const unsignedApply = JSON.stringify(gateway.province.envelope('query', { SERIES_NUMBER: 'SQ20261201090000000001' }, { secret: 'a-stranger-guessing-000000' }));
    const unsignedEvent = JSON.stringify(gateway.changsha.event('slot.requested', { requestId: 'R1' }));
    const json = 'application/json; charset=utf-8';
    const junk = [
      rawRequest('/partners/province/no-such-interface', '{}', json),
      rawRequest('/partners/province/query', unsignedApply, json),
      rawRequest('/partners/province/apply', '{"DATA":', json),
      rawRequest('/partners/changsha/events', unsignedEvent, json),
      rawRequest('/partners/changsha/events', 'not json at all', json),
      rawRequest('/partners/changsha/anything', '{}', 'text/plain'),
    ];
    const port = Number(new URL(gateway.url).port);
    const healthAgent = new Agent({ keepAlive: true, maxSockets: 1 });
    const statuses = new Map<number, number>();
    const health: Answer[] = [];
    const chainLengths: number[] = [];
    let baseline: { memory: number; length: number } | undefined;
    let issued = 0;
    let answered = 0;
    let flooding = true;
    const started = performance.now();

    // the chain's length is sampled as the flood goes: a chain that outgrows its bound stops the flood at once
    const samples: Promise<void>[] = [];
    let overrun: Error | undefined;
    const sample = (count: number) => {
      const minutesSoFar = Math.floor(count / PER_MINUTE) + 1;
      samples.push(
        (async () => {
          const length = await redis.llen(log);
          chainLengths.push(length);
          if (length > minutesSoFar * PARTNERS * KINDS) overrun ??= new Error(`the audit chain grew to ${length} entries after ${count} junk requests (bound ${minutesSoFar * PARTNERS * KINDS})`);
          if (count === 2 * PER_MINUTE) baseline = { memory: await usedMemory(gateway), length };
        })(),
      );
    };

    const flood = async () => {
      const connection = new RawConnection(port);
      try {
        while (issued < REQUESTS && !overrun) {
          const item = junk[issued % junk.length];
          issued++;
          if (!item) continue;
          const status = await connection.send(item);
          statuses.set(status, (statuses.get(status) ?? 0) + 1);
          answered++;
          if (answered % PER_MINUTE === 0) clock.advance(MINUTE);
          if (answered % 1000 === 0) sample(answered);
        }
      } finally {
        connection.close();
      }
    };
    const poll = async () => {
      try {
        while (flooding) health.push(await get(healthAgent, `${gateway.url}/healthz`, HEALTH_BOUND_MS));
      } catch (error) {
        // a /healthz left unanswered stops the flood too
        overrun ??= error as Error;
      }
    };

    const polling = poll();
    try {
      await Promise.all(Array.from({ length: CONNECTIONS }, flood));
    } finally {
      flooding = false;
    }
    await polling;
    await Promise.all(samples);
    if (overrun) throw overrun;
    const floodMs = performance.now() - started;
    const endMemory = await usedMemory(gateway);
    healthAgent.destroy();

    // every minute the flood spanned is closed and summarised
    clock.advance(2 * MINUTE);
    await gateway.runtime.audit.flush();
    const entries = (await redis.lrange(log, 0, -1)).map((raw) => JSON.parse(raw) as ChainedEntry);
    const minutes = Math.ceil(REQUESTS / PER_MINUTE) + 1;
    const bound = minutes * PARTNERS * KINDS;
    const rejected = [...statuses].filter(([status]) => status >= 400 && status < 500).reduce((sum, [, n]) => sum + n, 0);
    const summarised = entries.reduce((sum, entry) => sum + Number(entry.detail?.['count'] ?? 0), 0);
    const report = {
      requests: REQUESTS,
      floodMs: Math.round(floodMs),
      perSecond: Math.round(REQUESTS / (floodMs / 1000)),
      statuses: Object.fromEntries(statuses),
      chainEntries: entries.length,
      bound,
      redisMemoryGrowthAfter20k: baseline ? endMemory - baseline.memory : undefined,
      healthPolls: health.length,
      healthSlowestMs: Math.round(Math.max(...health.map((answer) => answer.ms))),
    };
    console.log(`      ${JSON.stringify(report)}`);

    expect(answered).to.equal(REQUESTS);
    expect(rejected).to.equal(REQUESTS);
    expect(entries.length).to.be.within(1, bound);
    expect(Math.max(...chainLengths)).to.be.at.most(bound);
    expect(entries.every((entry) => entry.action.endsWith('.summary') && entry.result === 'denied')).to.equal(true);
    // nothing was lost: every junk answer is counted in some summary
    expect(summarised).to.equal(REQUESTS);
    // flat: what grows with N is counted, not stored (the security list is capped, the chain bounded)
    expect(await redis.llen(gateway.runtime.keys.stats.securityEvents)).to.be.at.most(SECURITY_EVENTS_KEPT);
    if (REQUESTS >= 4 * PER_MINUTE && baseline) expect(endMemory - baseline.memory).to.be.below(2 * 1024 * 1024);
    expect(gateway.runtime.audit.queued).to.equal(0);
    expect(health.length).to.be.greaterThan(0);
    expect(health.every((answer) => answer.status === 200)).to.equal(true);

    const env = { ...process.env, ...testEnv(gateway.config.redis.namespace, 'http://127.0.0.1:9') };
    const { stdout } = await run(process.execPath, [join(import.meta.dirname, '..', '..', 'scripts', 'audit-verify.ts')], { env });
    expect(stdout).to.include(`intact: ${entries.length} entries`);
  });
});
