/**
 * The load generator, a process of its own (so that the partner simulators in
 * the orchestrator never delay a send): node:http with a keep-alive Agent.
 *
 * - `fixed`: open loop at a fixed arrival rate. Request i is due at
 *   start + i / rate; its latency runs from that scheduled time, not from when
 *   it actually left, so a slow server cannot slow the schedule down and hide
 *   its own queueing (no coordinated omission).
 * - `closed`: saturation, `connections` loops each sending the next request as
 *   soon as its previous answer arrived.
 *
 * Requests are built and signed before the clock starts (about 20 µs each);
 * a closed run that outlasts its pool signs further requests as it goes.
 * Commands arrive over IPC; each answers with one `result` message.
 */
import { Agent, request } from 'node:http';
import { TrafficFactory, type BenchRequest, type PartnerKeys, type PartnerKind } from './lib/traffic.ts';
import { now, round, summarize, type Summary } from './lib/stats.ts';

export interface RunCommand {
  type: 'run';
  runId: number;
  port: number;
  mode: 'fixed' | 'closed';
  /** messages per second (fixed) */
  rate?: number;
  durationMs: number;
  /** sockets (fixed: at most; closed: exactly, one loop each) */
  connections: number;
  /** closed: requests built beforehand */
  pool?: number;
  /** keep kind, id, tracking number and times of every accepted message */
  collect: boolean;
}

/** An accepted message: kind, id (SERIES_NUMBER or requestId), tracking number, scheduled send (epoch ms), latency (ms). */
export type Accepted = [PartnerKind, string, string, number, number];

export interface RunResult {
  mode: 'fixed' | 'closed';
  offeredRate: number | null;
  durationMs: number;
  connections: number;
  sent: number;
  completed: number;
  ok: number;
  /** non-2xx answers by status, transport failures by code */
  errors: Record<string, number>;
  /** 2xx answers per second over the run (first send to last answer) */
  throughput: number;
  latency: Summary;
  /** fixed: how late sends left against their schedule (generator lag) */
  sendLag: Summary | null;
  /** closed: requests signed during the run because the pool ran out */
  signedDuringRun: number;
  startedAt: number;
  endedAt: number;
  accepted: Accepted[];
}

const keys = JSON.parse(process.env['BENCH_KEYS'] ?? '{}') as PartnerKeys;
const factory = new TrafficFactory(keys, { changshaShare: Number(process.env['BENCH_CHANGSHA_SHARE'] ?? '0.5') });

interface Answer {
  status: number;
  body: string;
  error?: string;
}

function post(agent: Agent, port: number, item: BenchRequest): Promise<Answer> {
  return new Promise((resolve) => {
    const req = request(
      { host: '127.0.0.1', port, method: 'POST', path: item.path, agent, headers: { ...item.headers, 'content-length': String(item.body.length) }, timeout: 30_000 },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', (error: NodeJS.ErrnoException) => resolve({ status: 0, body: '', error: error.code ?? error.message }));
      },
    );
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })));
    req.on('error', (error: NodeJS.ErrnoException) => resolve({ status: 0, body: '', error: error.code ?? error.message }));
    req.end(item.body);
  });
}

function trackingNoOf(body: string): string {
  try {
    const parsed = JSON.parse(body) as { Data?: { TRACKING_NO?: string }; trackingId?: string };
    return parsed.Data?.TRACKING_NO ?? parsed.trackingId ?? '';
  } catch {
    return '';
  }
}

class Recorder {
  readonly latencies: number[] = [];
  readonly lags: number[] = [];
  readonly errors: Record<string, number> = {};
  readonly accepted: Accepted[] = [];
  sent = 0;
  completed = 0;
  ok = 0;
  lastAnswer = 0;
  readonly #collect: boolean;

  constructor(collect: boolean) {
    this.#collect = collect;
  }

  record(item: BenchRequest, scheduledAt: number, answer: Answer): void {
    const doneAt = now();
    this.completed++;
    this.lastAnswer = doneAt;
    const latency = doneAt - scheduledAt;
    this.latencies.push(latency);
    if (answer.status >= 200 && answer.status < 300) {
      this.ok++;
      if (this.#collect) this.accepted.push([item.kind, item.id, trackingNoOf(answer.body), round(scheduledAt, 3), round(latency, 3)]);
    } else {
      const key = answer.error ?? String(answer.status);
      this.errors[key] = (this.errors[key] ?? 0) + 1;
    }
  }
}

async function fixedRate(command: RunCommand): Promise<RunResult> {
  const rate = command.rate ?? 100;
  const total = Math.max(1, Math.round((rate * command.durationMs) / 1000));
  const pool = factory.build(total);
  const agent = new Agent({ keepAlive: true, maxSockets: command.connections });
  const recorder = new Recorder(command.collect);
  const interval = 1000 / rate;
  const pending: Promise<void>[] = [];
  const startedAt = now() + 20;
  let next = 0;
  await new Promise<void>((done) => {
    const tick = () => {
      const t = now();
      while (next < total && startedAt + next * interval <= t) {
        const item = pool[next];
        const scheduledAt = startedAt + next * interval;
        next++;
        if (!item) continue;
        recorder.sent++;
        recorder.lags.push(t - scheduledAt);
        pending.push(post(agent, command.port, item).then((answer) => recorder.record(item, scheduledAt, answer)));
      }
      if (next >= total) {
        done();
        return;
      }
      setTimeout(tick, Math.max(0, Math.min(1, startedAt + next * interval - now())));
    };
    setTimeout(tick, 20);
  });
  await Promise.all(pending);
  agent.destroy();
  return result(command, recorder, startedAt, 0);
}

async function closedLoop(command: RunCommand): Promise<RunResult> {
  const pool = factory.build(command.pool ?? 10_000);
  const agent = new Agent({ keepAlive: true, maxSockets: command.connections });
  const recorder = new Recorder(command.collect);
  let next = 0;
  let signedDuringRun = 0;
  const startedAt = now();
  const deadline = startedAt + command.durationMs;
  const loop = async () => {
    while (now() < deadline) {
      let item = pool[next];
      if (item === undefined) {
        item = factory.next();
        signedDuringRun++;
      } else {
        pool[next] = undefined as unknown as BenchRequest;
      }
      next++;
      recorder.sent++;
      const sentAt = now();
      recorder.record(item, sentAt, await post(agent, command.port, item));
    }
  };
  await Promise.all(Array.from({ length: command.connections }, () => loop()));
  agent.destroy();
  return result(command, recorder, startedAt, signedDuringRun);
}

function result(command: RunCommand, recorder: Recorder, startedAt: number, signedDuringRun: number): RunResult {
  const endedAt = recorder.lastAnswer || now();
  const seconds = Math.max(0.001, (endedAt - startedAt) / 1000);
  return {
    mode: command.mode,
    offeredRate: command.mode === 'fixed' ? (command.rate ?? null) : null,
    durationMs: command.durationMs,
    connections: command.connections,
    sent: recorder.sent,
    completed: recorder.completed,
    ok: recorder.ok,
    errors: recorder.errors,
    throughput: round(recorder.ok / seconds, 1),
    latency: summarize(recorder.latencies),
    sendLag: command.mode === 'fixed' ? summarize(recorder.lags) : null,
    signedDuringRun,
    startedAt,
    endedAt,
    accepted: recorder.accepted,
  };
}

process.on('message', (message: RunCommand | { type: 'exit' }) => {
  if (message.type === 'exit') {
    process.disconnect();
    return;
  }
  const run = message.mode === 'fixed' ? fixedRate(message) : closedLoop(message);
  run.then(
    (outcome) => process.send?.({ type: 'result', runId: message.runId, result: outcome }),
    (error: unknown) => process.send?.({ type: 'error', runId: message.runId, error: error instanceof Error ? error.stack : String(error) }),
  );
});
process.send?.({ type: 'ready' });
