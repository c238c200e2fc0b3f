/**
 * `npm run bench`: how fast the gateway does its job, beside the baselines
 * that bound it, in one run on this machine. See bench/README.md.
 *
 *   node bench/run.ts [--smoke] [--step-seconds=10] [--saturation-seconds=5]
 *     [--reps=3] [--connections=32] [--rates=500,1000,1500,2000]
 *     [--e2e-rates=500,1000] [--changsha-share=0.5] [--profile]
 *     [--gateway-root=<a checkout>] [--node-args="--trace-gc ..."]
 *     [--worker-node-args="--max-old-space-size=..."] [--script-costs]
 *     [--no-write] [--out=bench/results] [--parts=saturation,ladder,e2e]
 *     [--gateway-ts]
 *
 * Progress goes to stderr; the results (JSON) to stdout, and unless --smoke or
 * --no-write to bench/results/<date>.json and .md (<date>-2, -3 … for a later run of the same day).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { Redis } from 'ioredis';
import { gatewayProcessEnvironment, readLaunchEnvironment } from '../config/launch.ts';
import { Keys } from '../kernel/redis/keys.ts';
import { startPrivateRedis, type PrivateRedis } from '../scripts/lib/private-redis.ts';
import { gatewayEntry } from '../scripts/lib/gateway-build.ts';
import type { RunCommand, RunResult } from './loadgen.ts';
import { benchSecrets, gatewayEnv, loadgenKeys, partnerSecrets } from './lib/gateway-env.ts';
import { currentLedger, decideWorkload, summarizeCosts, type LedgerCost, type LedgerCostSummary } from './lib/ledger-cost.ts';
import { Partners } from './lib/partners.ts';
import { TraceStore } from '../stores/traces.ts';
import { cpuSeconds, rssMb, startChild, stopChild, type Child } from './lib/processes.ts';
import { aofRewrites, commandStats, commandsPerMessage, deadLetters, info, redisCpuSeconds, sampleScriptCosts, unlinkPrefix, usedMemoryMb } from './lib/redis-info.ts';
import { renderMarkdown } from './lib/report.ts';
import type { BenchResults, DrainRun, EndToEndStep, Integrity, LadderStep, SaturationRun, Target } from './lib/results.ts';
import { median, now, round, sleep, summarize } from './lib/stats.ts';
import type { PartnerKind } from './lib/traffic.ts';

const ROOT = resolve(import.meta.dirname, '..');
const BASELINE_PREFIX = 'baseline';

// ---------------------------------------------------------------- options

export interface BenchOptions {
  smoke: boolean;
  stepSeconds: number;
  saturationSeconds: number;
  reps: number;
  connections: number;
  fixedConnections: number;
  rates: number[];
  reportRates: number[];
  maxRate: number;
  /** the end-to-end ladder's first rates; it goes on by 250 while a step holds, then halfway to the first that did not */
  e2eRates: number[];
  /** seconds of traffic at each end-to-end step's rate before it is measured, on the step's fresh worker */
  e2eWarmupSeconds: number;
  /** decisions a repetition of the ledger's cost (bench/lib/ledger-cost.ts), 7 repetitions */
  ledgerDecisions: number;
  changshaShare: number;
  profile: boolean;
  /** sample Redis's slow log for a few seconds of each drain: time by script */
  scriptCosts: boolean;
  gatewayRoot: string;
  /** extra node options for the gateway processes (e.g. --trace-gc) */
  nodeArgs: string[];
  /** more node options for the worker processes only (e.g. a heap limit) */
  workerNodeArgs: string[];
  /** run the gateway's .ts sources even when a build of them exists (what compiling saves, or a checkout without a build) */
  gatewayTs: boolean;
  write: boolean;
  outDir: string;
  /** which parts run: saturation, ladder (fixed rates and their drain), e2e; all by default */
  parts: ReadonlySet<string>;
}

function parseOptions(argv: string[]): BenchOptions {
  const flags = new Map<string, string>();
  for (const arg of argv) {
    const match = /^--([a-z0-9-]+)(?:=(.*))?$/.exec(arg);
    if (!match?.[1]) throw new Error(`unknown argument ${arg}`);
    flags.set(match[1], match[2] ?? 'true');
  }
  const smoke = flags.has('smoke') || process.env['BENCH_SMOKE'] === '1';
  const number = (name: string, fallback: number) => (flags.has(name) ? Number(flags.get(name)) : fallback);
  const list = (name: string, fallback: number[]) => (flags.has(name) ? (flags.get(name) ?? '').split(',').map(Number).filter((n) => n > 0) : fallback);
  const options: BenchOptions = {
    smoke,
    stepSeconds: number('step-seconds', smoke ? 2 : 10),
    saturationSeconds: number('saturation-seconds', smoke ? 1 : 5),
    reps: number('reps', smoke ? 1 : 3),
    connections: number('connections', smoke ? 4 : 32),
    fixedConnections: number('fixed-connections', smoke ? 8 : 64),
    rates: list('rates', smoke ? [40] : [500, 1000, 1500, 2000]),
    reportRates: smoke ? [40] : [500, 1000, 2000],
    maxRate: number('max-rate', smoke ? 40 : 6000),
    e2eRates: list('e2e-rates', smoke ? [20] : [500, 750, 1000]),
    ledgerDecisions: number('ledger-decisions', smoke ? 50 : 3000),
    e2eWarmupSeconds: number('e2e-warmup-seconds', smoke ? 0 : 3),
    changshaShare: number('changsha-share', 0.5),
    profile: flags.has('profile'),
    scriptCosts: flags.has('script-costs'),
    gatewayRoot: resolve(flags.get('gateway-root') ?? ROOT),
    nodeArgs: (flags.get('node-args') ?? '').split(' ').filter(Boolean),
    workerNodeArgs: (flags.get('worker-node-args') ?? '').split(' ').filter(Boolean),
    gatewayTs: flags.has('gateway-ts'),
    write: !smoke && !flags.has('no-write'),
    outDir: resolve(flags.get('out') ?? join(ROOT, 'bench', 'results')),
    parts: new Set((flags.get('parts') ?? 'saturation,ladder,e2e').split(',')),
  };
  for (const part of options.parts) if (!['saturation', 'ladder', 'e2e'].includes(part)) throw new Error(`unknown part ${part}`);
  // a result file speaks for the whole run: a partial one is a look, not a record
  if (options.parts.size < 3) options.write = false;
  if (options.reps < 1 || options.stepSeconds <= 0 || options.saturationSeconds <= 0) throw new Error('reps, step and saturation seconds must be positive');
  return options;
}

function say(line: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
}

interface Tracked {
  kind: PartnerKind;
  trackingNo: string;
  scheduledAt: number;
}

// ---------------------------------------------------------------- the run

class Bench {
  readonly options: BenchOptions;
  readonly namespace = `zzbench${randomBytes(4).toString('hex')}`;
  readonly keys = new Keys(this.namespace);
  readonly secrets = benchSecrets();
  dataDir = '';
  redis: PrivateRedis | undefined;
  client: Redis | undefined;
  partners: Partners | undefined;
  api: Child | undefined;
  echo: Child | undefined;
  bullmq: Child | undefined;
  loadgen: Child | undefined;
  readonly workers: Child[] = [];
  env: Record<string, string> = {};
  profileDir = '';
  /** every message the gateway accepted, by SERIES_NUMBER / requestId */
  readonly accepted = new Map<string, Tracked>();
  /** accepted and not answered yet (kept as answers arrive: the bench must stay cheap) */
  readonly unanswered = new Set<string>();
  readonly gatewayErrors: Record<string, number> = {};
  #runId = 0;
  readonly #results = new Map<number, (outcome: { result?: RunResult; error?: string }) => void>();

  constructor(options: BenchOptions) {
    this.options = options;
  }

  #gatewayScript: string | undefined;

  /** as npm start runs it: compiled when a build of the checkout's sources as they are exists (setup makes it) */
  get gatewayScript(): string {
    this.#gatewayScript ??= this.chooseGatewayScript();
    return this.#gatewayScript;
  }

  chooseGatewayScript(): string {
    // a checkout from before the layers (issue 13) kept its entry point under gateway/
    const root = this.options.gatewayRoot;
    if (!existsSync(join(root, 'server', 'main.ts'))) return join(root, 'gateway', 'server.ts');
    const entry = gatewayEntry(root, { compiled: !this.options.gatewayTs });
    say(entry.compiled ? `the gateway runs compiled (${entry.script})` : this.options.gatewayTs ? 'the gateway runs its .ts sources (--gateway-ts)' : `no build of ${root}'s sources as they are now (sh scripts/setup.sh makes one): the gateway runs its .ts sources`);
    return entry.script;
  }

  execArgv(role: string): string[] {
    // as npm start runs it (GATEWAY_NODE_OPTIONS), then what the bench was asked to add
    const asLaunched = readLaunchEnvironment().nodeOptions;
    const nodeArgs = [...asLaunched, ...this.options.nodeArgs, ...(role === 'worker' ? this.options.workerNodeArgs : [])];
    if (!this.profileDir) return nodeArgs;
    return [...nodeArgs, '--cpu-prof', `--cpu-prof-dir=${this.profileDir}`, `--cpu-prof-name=${role}-\${pid}.cpuprofile`];
  }

  async start(): Promise<void> {
    this.dataDir = mkdtempSync(join(tmpdir(), 'zzgw-bench-redis-'));
    this.redis = await startPrivateRedis(this.dataDir);
    this.client = new Redis(this.redis.url, { maxRetriesPerRequest: 3 });
    // The bench writes weeks of production traffic in minutes: left on, automatic AOF
    // rewrites (a fork copying the whole data set) would run every few steps and measure
    // themselves. AOF with fsync every second stays on.
    await this.client.config('SET', 'auto-aof-rewrite-percentage', '0');
    this.partners = await new Partners(partnerSecrets(this.secrets)).start();
    this.partners.onArrival = (id) => this.unanswered.delete(id);
    // as npm start gives it (MALLOC_ARENA_MAX)
    this.env = { ...gatewayEnv({ namespace: this.namespace, redisUrl: this.redis.url, provinceUrl: this.partners.province.url, changshaUrl: this.partners.changsha.url, secrets: this.secrets }), ...gatewayProcessEnvironment(readLaunchEnvironment()) };
    if (this.options.profile) {
      this.profileDir = join(ROOT, 'bench', 'profiles', stamp());
      mkdirSync(this.profileDir, { recursive: true });
      say(`CPU profiles of the gateway processes go to ${this.profileDir}`);
    }
    const plain = { PATH: process.env['PATH'] ?? '', PORT: '0' };
    [this.api, this.echo, this.bullmq, this.loadgen] = await Promise.all([
      startChild('gateway api', this.gatewayScript, { ...this.env, GATEWAY_ROLE: 'api' }, { execArgv: this.execArgv('api'), readyTypes: ['listening'] }),
      startChild('express echo', join(ROOT, 'bench', 'baselines', 'echo.ts'), plain),
      startChild('express + bullmq', join(ROOT, 'bench', 'baselines', 'bullmq.ts'), { ...plain, REDIS_URL: this.redis.url, BASELINE_PREFIX }),
      startChild(
        'load generator',
        join(ROOT, 'bench', 'loadgen.ts'),
        {
          PATH: process.env['PATH'] ?? '',
          BENCH_KEYS: loadgenKeys(this.secrets),
          BENCH_CHANGSHA_SHARE: String(this.options.changshaShare),
        },
        { readyTypes: ['ready'] },
      ),
    ]);
    this.loadgen.process.on('message', (message: { type?: string; runId?: number; result?: RunResult; error?: string }) => {
      if ((message.type === 'result' || message.type === 'error') && message.runId !== undefined) {
        this.#results.get(message.runId)?.(message);
        this.#results.delete(message.runId);
      }
    });
    say(`Redis ${this.redis.url} (AOF everysec), gateway api :${this.api.port}, echo :${this.echo.port}, bullmq :${this.bullmq.port}, namespace ${this.namespace}`);
  }

  async stop(): Promise<void> {
    for (const worker of this.workers.splice(0)) await stopChild(worker);
    this.loadgen?.process.send({ type: 'exit' });
    await Promise.all([stopChild(this.api), stopChild(this.echo), stopChild(this.bullmq), stopChild(this.loadgen, 2000)]);
    await this.partners?.stop();
    this.client?.disconnect();
    await this.redis?.stop();
    if (this.dataDir) rmSync(this.dataDir, { recursive: true, force: true });
  }

  port(target: 'gateway' | 'expressEcho' | 'expressBullmq'): number {
    const child = target === 'gateway' ? this.api : target === 'expressEcho' ? this.echo : this.bullmq;
    if (child?.port === undefined) throw new Error(`${target} is not listening`);
    return child.port;
  }

  async load(command: Omit<RunCommand, 'type' | 'runId'>): Promise<RunResult> {
    const runId = ++this.#runId;
    const outcome = new Promise<{ result?: RunResult; error?: string }>((done) => this.#results.set(runId, done));
    this.loadgen?.process.send({ type: 'run', runId, ...command });
    const { result, error } = await outcome;
    if (!result) throw new Error(`load generator failed: ${error ?? 'no result'}`);
    return result;
  }

  /** Keeps what the gateway accepted, for the loss count and end-to-end latency. */
  track(result: RunResult): void {
    for (const [kind, id, trackingNo, scheduledAt] of result.accepted) {
      this.accepted.set(id, { kind, trackingNo, scheduledAt });
      if (!this.partners?.arrivals.has(id)) this.unanswered.add(id);
    }
    for (const [key, count] of Object.entries(result.errors)) this.gatewayErrors[key] = (this.gatewayErrors[key] ?? 0) + count;
  }

  /** CPU seconds of every process of the bench, to split a run's CPU by process. */
  async cpuSnapshot(): Promise<Record<string, number>> {
    const snapshot: Record<string, number> = {
      redis: this.client ? await redisCpuSeconds(this.client) : 0,
      loadGenerator: this.loadgen ? cpuSeconds(this.loadgen.pid) : 0,
      simulators: (process.cpuUsage().user + process.cpuUsage().system) / 1e6,
    };
    if (this.api) snapshot['gatewayApi'] = cpuSeconds(this.api.pid);
    if (this.echo) snapshot['expressEcho'] = cpuSeconds(this.echo.pid);
    if (this.bullmq) snapshot['expressBullmq'] = cpuSeconds(this.bullmq.pid);
    snapshot['gatewayWorkers'] = this.workers.reduce((sum, worker) => sum + cpuSeconds(worker.pid), 0);
    return snapshot;
  }

  async commandSnapshot(): Promise<Record<string, { calls: number; usec: number }>> {
    return this.client ? commandStats(this.client) : {};
  }

  cpuPer(before: Record<string, number>, after: Record<string, number>, count: number): Record<string, number> {
    const per: Record<string, number> = {};
    for (const [name, value] of Object.entries(after)) {
      const used = value - (before[name] ?? 0);
      if (used > 0.005 && count > 0) per[name] = round((used * 1000) / count, 3);
    }
    return per;
  }

  /** Samples RSS and Redis memory every 250 ms until stopped; returns the peaks. */
  sampler(): { stop(): Promise<{ apiRssMb: number; workerRssMb: number; redisUsedMb: number }> } {
    const peaks = { apiRssMb: 0, workerRssMb: 0, redisUsedMb: 0 };
    let running = true;
    const loop = (async () => {
      while (running) {
        if (this.api) peaks.apiRssMb = Math.max(peaks.apiRssMb, rssMb(this.api.pid));
        for (const worker of this.workers) peaks.workerRssMb = Math.max(peaks.workerRssMb, rssMb(worker.pid));
        if (this.client) peaks.redisUsedMb = Math.max(peaks.redisUsedMb, await usedMemoryMb(this.client));
        await sleep(250);
      }
    })();
    return {
      stop: async () => {
        running = false;
        await loop;
        return { apiRssMb: round(peaks.apiRssMb, 1), workerRssMb: round(peaks.workerRssMb, 1), redisUsedMb: round(peaks.redisUsedMb, 1) };
      },
    };
  }

  async startWorkers(count: number): Promise<void> {
    const started = await Promise.all(
      Array.from({ length: count }, (_, n) =>
        startChild(`gateway worker ${n + 1}`, this.gatewayScript, { ...this.env, GATEWAY_ROLE: 'worker' }, { execArgv: this.execArgv('worker'), readyTypes: ['ready'] }),
      ),
    );
    this.workers.push(...started);
  }

  async stopWorkers(): Promise<void> {
    await Promise.all(this.workers.splice(0).map((worker) => stopChild(worker)));
  }

  /** The messages of a run answered at a partner: from the scheduled send to the answer's arrival. */
  answered(result: RunResult): { id: string; scheduledAt: number; arrivedAt: number; latency: number }[] {
    return [...result.accepted].flatMap(([, id]) => {
      const arrival = this.partners?.arrivals.get(id);
      const sent = this.accepted.get(id);
      return arrival && sent ? [{ id, scheduledAt: sent.scheduledAt, arrivedAt: arrival.at, latency: arrival.at - sent.scheduledAt }] : [];
    });
  }

  /**
   * Where the slowest 1% of a step's messages spent their time, beside a sample of the
   * others: the gaps between their trace's stages, from the scheduled send to the answer
   * reaching the partner, averaged by pair of stages.
   */
  async stageTimes(messages: { id: string; latency: number }[]): Promise<EndToEndStep['stages']> {
    const partners = this.partners;
    if (!this.client || !partners || messages.length === 0) return null;
    const traces = new TraceStore(this.client, this.keys, Date.now);
    const sorted = [...messages].sort((a, b) => b.latency - a.latency);
    const slowest = sorted.slice(0, Math.max(1, Math.ceil(sorted.length / 100)));
    const others = sorted.slice(slowest.length);
    const every = Math.max(1, Math.floor(others.length / 200));
    const typical = others.filter((_, n) => n % every === 0);
    const gaps = async (group: { id: string }[]) => {
      const sums: Record<string, { total: number; count: number }> = {};
      for (const { id } of group) {
        const tracked = this.accepted.get(id);
        const arrival = partners.arrivals.get(id);
        if (!tracked || !arrival) continue;
        const entries = await traces.read(tracked.trackingNo);
        const points = [{ stage: 'sent', at: tracked.scheduledAt }, ...entries.map((entry) => ({ stage: entry.stage, at: Date.parse(entry.at) })), { stage: 'at partner', at: arrival.at }].sort((a, b) => a.at - b.at);
        for (let n = 1; n < points.length; n++) {
          const from = points[n - 1];
          const to = points[n];
          if (!from || !to) continue;
          const gap = (sums[`${from.stage} → ${to.stage}`] ??= { total: 0, count: 0 });
          gap.total += to.at - from.at;
          gap.count += 1;
        }
      }
      const meanMs = Object.fromEntries(Object.entries(sums).map(([stage, { total, count }]) => [stage, round(total / count, 1)]));
      return { messages: group.length, meanMs };
    };
    return { slowest: await gaps(slowest), typical: await gaps(typical) };
  }

  /** Accepted messages with no answer at a partner yet. */
  outstanding(): string[] {
    return [...this.unanswered];
  }

  /**
   * Waits until every accepted message has its answer at a partner, or is a
   * dead letter, or nothing new arrived for `stallMs`. Returns the ids still
   * missing (answered nowhere, in no dead letter).
   */
  async settle(stallMs = 30_000): Promise<string[]> {
    const partners = this.partners;
    if (!partners || !this.client) return [];
    let last = partners.arrivals.size;
    let lastProgress = now();
    let lastDeadCheck = now();
    const notDead = (dead: Set<string>) => this.outstanding().filter((id) => !dead.has(this.accepted.get(id)?.trackingNo ?? ''));
    for (;;) {
      if (this.unanswered.size === 0) return [];
      if (now() - lastProgress > stallMs) return notDead((await deadLetters(this.client, this.keys)).trackingNos);
      if (now() - lastProgress > 3000 && now() - lastDeadCheck > 3000) {
        // maybe what is left went to the dead letters
        lastDeadCheck = now();
        if (notDead((await deadLetters(this.client, this.keys)).trackingNos).length === 0) return [];
      }
      await sleep(100);
      if (partners.arrivals.size !== last) {
        last = partners.arrivals.size;
        lastProgress = now();
      }
    }
  }

  /** Starts `workers` worker processes on the backlog and measures how fast they answer all of it. */
  async drain(workers: number, after: string): Promise<DrainRun> {
    const partners = this.partners;
    if (!partners) throw new Error('not started');
    const waiting = this.outstanding();
    await this.startWorkers(workers);
    // from here: worker start-up (module loading) is behind us
    const cpuStart = await this.cpuSnapshot();
    const commandsStart = await this.commandSnapshot();
    const sampler = this.sampler();
    const startedAt = now();
    if (this.options.scriptCosts && this.client) {
      void sampleScriptCosts(this.client, 2000).then(
        (costs) => say(`    scripts (2 s of slow log): ${costs}`),
        (error: unknown) => say(`    scripts: slow log not read (${error instanceof Error ? error.message : String(error)})`),
      );
    }
    const missing = await this.settle();
    const cpuAfter = await this.cpuSnapshot();
    const commandsAfter = await this.commandSnapshot();
    const peaks = await sampler.stop();
    await this.stopWorkers();
    const answered = waiting.filter((id) => partners.arrivals.has(id));
    // a loop, not Math.max(...): a backlog of 100,000 arguments overflows the stack
    let lastAt = startedAt;
    for (const id of answered) lastAt = Math.max(lastAt, partners.arrivals.get(id)?.at ?? 0);
    const seconds = (lastAt - startedAt) / 1000;
    const outcomes: Record<string, number> = {};
    for (const id of answered) {
      const outcome = partners.arrivals.get(id)?.outcome ?? '?';
      outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
    }
    const run: DrainRun = {
      workers,
      after,
      messages: answered.length,
      seconds: round(seconds, 2),
      throughput: round(answered.length / Math.max(0.001, seconds), 1),
      workerRssPeakMb: peaks.workerRssMb,
      cpuMsPerMessage: this.cpuPer(cpuStart, cpuAfter, answered.length),
      redisCommandsPerMessage: commandsPerMessage(commandsStart, commandsAfter, answered.length),
      outcomes,
    };
    say(`  drain with ${workers} worker process${workers > 1 ? 'es' : ''}: ${run.messages} messages in ${run.seconds} s = ${run.throughput}/s${missing.length ? `, ${missing.length} MISSING` : ''}`);
    say(`    Redis a message: ${Object.entries(run.redisCommandsPerMessage).slice(0, 8).map(([command, { calls, usec }]) => `${command} ${calls}× ${usec} µs`).join(', ')}`);
    return run;
  }

  async saturation(target: SaturationRun['target'], rep: number): Promise<SaturationRun> {
    const { options } = this;
    const before = await this.cpuSnapshot();
    const commandsBefore = await this.commandSnapshot();
    const result = await this.load({
      port: this.port(target),
      mode: 'closed',
      durationMs: options.saturationSeconds * 1000,
      connections: options.connections,
      // enough for the whole run (the echo answers near 20,000/s): signing during it would load the generator
      pool: Math.max(2000, Math.round((target === 'gateway' ? 4000 : target === 'expressEcho' ? 25_000 : 12_000) * options.saturationSeconds)),
      collect: target === 'gateway',
    });
    const after = await this.cpuSnapshot();
    const commandsAfter = await this.commandSnapshot();
    if (target === 'gateway') this.track(result);
    const run: SaturationRun = {
      target,
      rep,
      throughput: result.throughput,
      latency: result.latency,
      errors: result.errors,
      cpuMsPerRequest: this.cpuPer(before, after, result.ok),
      redisCommandsPerRequest: commandsPerMessage(commandsBefore, commandsAfter, result.ok),
    };
    say(`  ${target.padEnd(13)} saturated (${options.connections} connections): ${run.throughput}/s, p50 ${run.latency.p50} ms, p99 ${run.latency.p99} ms${errorText(run.errors)}${result.signedDuringRun ? `, ${result.signedDuringRun} signed during the run` : ''}`);
    return run;
  }

  async fixed(rate: number, collect = true): Promise<{ result: RunResult; cpu: Record<string, number>; peaks: { apiRssMb: number; workerRssMb: number; redisUsedMb: number } }> {
    const before = await this.cpuSnapshot();
    const sampler = this.sampler();
    const result = await this.load({ port: this.port('gateway'), mode: 'fixed', rate, durationMs: this.options.stepSeconds * 1000, connections: this.options.fixedConnections, collect });
    const peaks = await sampler.stop();
    const after = await this.cpuSnapshot();
    this.track(result);
    return { result, cpu: this.cpuPer(before, after, result.ok), peaks };
  }

  async ladderStep(rate: number): Promise<LadderStep> {
    const { result, cpu, peaks } = await this.fixed(rate);
    const errors = result.sent - result.ok;
    const step: LadderStep = {
      rate,
      throughput: result.throughput,
      sent: result.sent,
      ok: result.ok,
      errors: result.errors,
      latency: result.latency,
      sendLag: result.sendLag,
      held: errors === 0 && result.latency.p99 <= 50,
      apiRssPeakMb: peaks.apiRssMb,
      redisUsedPeakMb: peaks.redisUsedMb,
      cpuMsPerRequest: cpu,
    };
    say(`  ${rate} msg/s: p50 ${step.latency.p50} ms, p99 ${step.latency.p99} ms, max ${step.latency.max} ms, ${step.throughput}/s${errorText(step.errors)}, api RSS ${step.apiRssPeakMb} MB ${step.held ? '(held)' : '(not held)'}`);
    return step;
  }

  /**
   * A fresh worker runs its first messages before the JIT has compiled its paths and with
   * no connection to a partner yet: its first seconds are measured apart (coldStart), and
   * the step is what a worker that has been running answers.
   */
  async endToEnd(rate: number, workers: number): Promise<EndToEndStep> {
    const partners = this.partners;
    if (!partners) throw new Error('not started');
    await this.startWorkers(workers);
    await sleep(500);
    let coldStart: EndToEndStep['coldStart'] = null;
    if (this.options.e2eWarmupSeconds > 0) {
      const warm = await this.load({ port: this.port('gateway'), mode: 'fixed', rate, durationMs: this.options.e2eWarmupSeconds * 1000, connections: this.options.fixedConnections, collect: true });
      this.track(warm);
      await this.settle();
      coldStart = { seconds: this.options.e2eWarmupSeconds, endToEnd: summarize(this.answered(warm).map((message) => message.latency)) };
      say(`  fresh worker, first ${this.options.e2eWarmupSeconds} s at ${rate} msg/s: p50 ${coldStart.endToEnd.p50} ms, p99 ${coldStart.endToEnd.p99} ms (not counted in the step)`);
    }
    const sampler = this.sampler();
    const { result } = await this.fixed(rate);
    const lastSend = result.startedAt + this.options.stepSeconds * 1000;
    await this.settle();
    const peaks = await sampler.stop();
    await this.stopWorkers();
    const byMessage = this.answered(result);
    const latencies = byMessage.map((message) => message.latency);
    // by the second of the step they were due in: a tail of one stall sits in one or two seconds, a slow path in all
    const bySecond: number[][] = [];
    let lastAt = lastSend;
    for (const message of byMessage) {
      const second = Math.max(0, Math.floor((message.scheduledAt - result.startedAt) / 1000));
      (bySecond[second] ??= []).push(message.latency);
      lastAt = Math.max(lastAt, message.arrivedAt);
    }
    const step: EndToEndStep = {
      rate,
      workers,
      ingest: result.latency,
      endToEnd: summarize(latencies),
      accepted: result.ok,
      answered: latencies.length,
      errors: result.errors,
      tailSeconds: round((lastAt - lastSend) / 1000, 2),
      apiRssPeakMb: peaks.apiRssMb,
      workerRssPeakMb: peaks.workerRssMb,
      redisUsedPeakMb: peaks.redisUsedMb,
      bySecond: bySecond.map((values, second) => ({ second, ...summarize(values ?? []) })),
      held: false,
      coldStart,
      stages: await this.stageTimes(byMessage),
    };
    step.held = step.answered === step.accepted && Object.keys(step.errors).length === 0 && step.endToEnd.p99 <= 100;
    say(`  end to end at ${rate} msg/s, ${workers} worker: p50 ${step.endToEnd.p50} ms, p99 ${step.endToEnd.p99} ms, max ${step.endToEnd.max} ms (ingest p99 ${step.ingest.p99} ms), ${step.answered}/${step.accepted} answered${errorText(step.errors)}`);
    say(`    p99 by second: ${step.bySecond.map((at) => at.p99).join(' ')} ms`);
    if (step.stages) say(`    slowest ${step.stages.slowest.messages}, ms a stage (typical of ${step.stages.typical.messages} beside): ${Object.entries(step.stages.slowest.meanMs).map(([stage, ms]) => `${stage} ${ms} (${step.stages?.typical.meanMs[stage] ?? '—'})`).join(', ')}`);
    return step;
  }

  async run() {
    const { options } = this;
    const startedAt = now();
    await this.start();
    const redisInfo = this.client ? await info(this.client, 'server') : {};
    const rewritesBefore = this.client ? await aofRewrites(this.client) : 0;

    // warm-up: JIT, connections, the token; its messages are answered and counted like the rest
    say('warm-up');
    await this.load({ port: this.port('gateway'), mode: 'closed', durationMs: options.smoke ? 500 : 2000, connections: 8, pool: 4000, collect: true }).then((result) => this.track(result));
    for (const target of ['expressEcho', 'expressBullmq'] as const) {
      await this.load({ port: this.port(target), mode: 'closed', durationMs: options.smoke ? 300 : 1000, connections: 8, pool: 4000, collect: false });
    }
    await this.drain(1, 'warm-up');
    const drains: DrainRun[] = [];

    // saturation, interleaved with the baselines, repeated
    say(`saturation: ${options.reps} repetitions, ${options.saturationSeconds} s each, ${options.connections} connections, interleaved`);
    const saturation: SaturationRun[] = [];
    const targets = ['gateway', 'expressEcho', 'expressBullmq'] as const;
    for (let rep = 0; rep < (options.parts.has('saturation') ? options.reps : 0); rep++) {
      for (let k = 0; k < targets.length; k++) {
        const target = targets[(k + rep) % targets.length] ?? 'gateway';
        saturation.push(await this.saturation(target, rep + 1));
        await sleep(300);
      }
      if (this.client) await unlinkPrefix(this.client, `${BASELINE_PREFIX}:`);
      drains.push(await this.drain(rep % 2 === 0 ? 1 : 2, `saturation ${rep + 1}`));
    }

    // fixed arrival rates, workers stopped: the api alone
    say(`fixed arrival rates, ${options.stepSeconds} s each, open loop (latency from the scheduled send), workers stopped`);
    const memoryBefore = this.client ? await usedMemoryMb(this.client) : 0;
    const acceptedBefore = this.accepted.size;
    const ladder: LadderStep[] = [];
    const planned = options.parts.has('ladder') ? [...new Set([...options.rates, ...options.reportRates])].sort((a, b) => a - b) : [];
    for (const rate of planned) {
      ladder.push(await this.ladderStep(rate));
      await sleep(1000);
    }
    let top = planned[planned.length - 1] ?? 0;
    while (ladder[ladder.length - 1]?.held && top + 500 <= options.maxRate) {
      top += 500;
      ladder.push(await this.ladderStep(top));
      await sleep(1000);
    }
    const highestHeld = () => Math.max(0, ...ladder.filter((step) => step.held).map((step) => step.rate));
    const firstFailed = ladder.filter((step) => !step.held && step.rate > highestHeld()).map((step) => step.rate);
    if (firstFailed.length && !options.smoke) {
      // one step halfway between the highest rate held and the next one that was not
      const between = Math.round((highestHeld() + Math.min(...firstFailed)) / 2 / 50) * 50;
      if (between > highestHeld() && between < Math.min(...firstFailed)) {
        ladder.push(await this.ladderStep(between));
        ladder.sort((a, b) => a.rate - b.rate);
      }
    }
    const highest = highestHeld();
    const queuedMessages = this.accepted.size - acceptedBefore;
    await sleep(1200);
    const memoryQueued = this.client ? await usedMemoryMb(this.client) : 0;
    if (planned.length > 0) drains.push(await this.drain(options.reps % 2 === 1 ? 2 : 1, 'fixed rates'));
    await sleep(1200);
    const memoryProcessed = this.client ? await usedMemoryMb(this.client) : 0;

    // end to end: api and one worker together
    say(`end to end: api and 1 worker process, ${options.stepSeconds} s at each rate`);
    const endToEnd: EndToEndStep[] = [];
    const e2eStep = async (rate: number) => {
      endToEnd.push(await this.endToEnd(rate, 1));
      await sleep(1000);
    };
    const e2eRates = options.parts.has('e2e') ? [...options.e2eRates].sort((a, b) => a - b) : [];
    for (const rate of e2eRates) await e2eStep(rate);
    let e2eTop = e2eRates.at(-1) ?? 0;
    while (endToEnd.at(-1)?.held && e2eTop + 250 <= options.maxRate && !options.smoke) {
      e2eTop += 250;
      await e2eStep(e2eTop);
    }
    const e2eHighest = () => Math.max(0, ...endToEnd.filter((step) => step.held).map((step) => step.rate));
    const e2eFailed = endToEnd.filter((step) => !step.held && step.rate > e2eHighest()).map((step) => step.rate);
    if (e2eFailed.length && !options.smoke) {
      const between = Math.round((e2eHighest() + Math.min(...e2eFailed)) / 2 / 50) * 50;
      if (between > e2eHighest() && between < Math.min(...e2eFailed)) await e2eStep(between);
    }
    endToEnd.sort((a, b) => a.rate - b.rate);

    // the ledger's script alone, on the same Redis: every decision is one script on one slot,
    // so its time bounds the decisions a second of the whole system, however many workers run
    say(`ledger decisions: ${options.ledgerDecisions} a repetition, 7 repetitions`);
    const ledgerRuns: LedgerCost[] = [];
    if (this.client && this.redis) {
      for (let rep = 0; rep < 7; rep++) ledgerRuns.push(await decideWorkload(this.client, this.redis.url, `${this.namespace}ledger${rep}`, currentLedger, { decisions: options.ledgerDecisions, days: 20 }));
    }
    const ledger = summarizeCosts(ledgerRuns);
    say(`  ${round(ledger.fastestUsec, 1)} µs in Redis a decision (fastest of 7), median ${round(ledger.usec, 1)} µs, ${round(ledger.cpuUsec, 1)} µs of its CPU`);

    // what became of every accepted message
    const missing = await this.settle(5000);
    const dead = this.client ? await deadLetters(this.client, this.keys) : { trackingNos: new Set<string>(), reasons: {} };
    const partners = this.partners;
    const answered = [...this.accepted.keys()].filter((id) => partners?.arrivals.has(id)).length;
    const outcomes: Record<string, number> = {};
    for (const [id] of this.accepted) {
      const outcome = partners?.arrivals.get(id)?.outcome;
      if (outcome) outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
    }
    const rewrites = (this.client ? await aofRewrites(this.client) : 0) - rewritesBefore;
    const idleApiRss = this.api ? rssMb(this.api.pid) : 0;
    const redisUsedEnd = this.client ? await usedMemoryMb(this.client) : 0;

    const results = this.assemble({
      startedAt,
      redisVersion: redisInfo['redis_version'] ?? '?',
      saturation,
      ladder,
      highest,
      drains,
      endToEnd,
      ledger,
      memory: { before: memoryBefore, queued: memoryQueued, processed: memoryProcessed, queuedMessages, redisUsedEnd, idleApiRss },
      integrity: {
        accepted: this.accepted.size,
        answered,
        deadLettered: [...this.accepted].filter(([id, tracked]) => dead.trackingNos.has(tracked.trackingNo) && !partners?.arrivals.has(id)).length,
        deadLetterReasons: dead.reasons,
        lost: missing.length,
        lostSample: missing.slice(0, 5),
        errors: { ...this.gatewayErrors },
        errorCount: Object.values(this.gatewayErrors).reduce((sum, n) => sum + n, 0),
        repeatedAnswers: partners?.repeats ?? 0,
        refusedBySimulators: partners?.refused ?? 0,
        outcomes,
        aofRewrites: rewrites,
      },
    });
    return results;
  }

  assemble(parts: {
    startedAt: number;
    redisVersion: string;
    saturation: SaturationRun[];
    ladder: LadderStep[];
    highest: number;
    drains: DrainRun[];
    endToEnd: EndToEndStep[];
    ledger: LedgerCostSummary;
    memory: { before: number; queued: number; processed: number; queuedMessages: number; redisUsedEnd: number; idleApiRss: number };
    integrity: Integrity;
  }): BenchResults {
    const { options } = this;
    const med = (target: SaturationRun['target']) => round(median(parts.saturation.filter((run) => run.target === target).map((run) => run.throughput)), 1);
    const gateway = med('gateway');
    const echo = med('expressEcho');
    const bull = med('expressBullmq');
    const at: Record<string, { p50: number; p99: number; throughput: number; held: boolean }> = {};
    for (const rate of options.reportRates) {
      const step = parts.ladder.find((candidate) => candidate.rate === rate);
      if (step) at[String(rate)] = { p50: step.latency.p50, p99: step.latency.p99, throughput: step.throughput, held: step.held };
    }
    const byWorkers = (count: number) => parts.drains.filter((drain) => drain.workers === count).map((drain) => drain.throughput);
    const per10k = (mb: number) => (parts.memory.queuedMessages > 0 ? round((mb * 10_000) / parts.memory.queuedMessages, 1) : 0);
    const step2000 = parts.ladder.find((step) => step.rate === 2000);
    const workerRssPeak = Math.max(0, ...parts.drains.map((drain) => drain.workerRssPeakMb), ...parts.endToEnd.map((step) => step.workerRssPeakMb));
    const apiRssPeak = Math.max(0, ...parts.ladder.map((step) => step.apiRssPeakMb), ...parts.endToEnd.map((step) => step.apiRssPeakMb));
        // the machine's speed drifts between minutes: a ratio within one repetition is steadier
    const perRep = (baseline: SaturationRun['target']) =>
      [...new Set(parts.saturation.map((run) => run.rep))].flatMap((rep) => {
        const mine = parts.saturation.find((run) => run.rep === rep && run.target === 'gateway');
        const theirs = parts.saturation.find((run) => run.rep === rep && run.target === baseline);
        return mine && theirs && theirs.throughput > 0 ? [round(mine.throughput / theirs.throughput, 3)] : [];
      });
    const ratiosBull = perRep('expressBullmq');
    const ratiosEcho = perRep('expressEcho');
    const ratioBull = round(median(ratiosBull), 3);
    const memory = {
      apiRssAt2000Mb: step2000?.apiRssPeakMb ?? null,
      apiRssPeakMb: apiRssPeak,
      apiRssIdleAfterMb: round(parts.memory.idleApiRss, 1),
      workerRssPeakMb: workerRssPeak,
      redisUsedPeakMb: Math.max(0, ...parts.ladder.map((step) => step.redisUsedPeakMb), ...parts.endToEnd.map((step) => step.redisUsedPeakMb)),
      redisUsedEndMb: round(parts.memory.redisUsedEnd, 1),
      redisPer10kQueuedMb: per10k(parts.memory.queued - parts.memory.before),
      redisPer10kProcessedMb: per10k(parts.memory.processed - parts.memory.before),
      measuredOver: parts.memory.queuedMessages,
    };
    const integrity = parts.integrity;
    const e2e500 = parts.endToEnd.find((step) => step.rate === 500);
    const e2eHighest = Math.max(0, ...parts.endToEnd.filter((step) => step.held).map((step) => step.rate));
    const oneWorkerDrains = parts.drains.filter((drain) => drain.workers === 1 && drain.after !== 'warm-up');
    const workerCpu = oneWorkerDrains.length ? round(median(oneWorkerDrains.map((drain) => (drain.cpuMsPerMessage['gatewayWorkers'] ?? 0) + (drain.cpuMsPerMessage['redis'] ?? 0))), 3) : null;
    const ledgerMs = parts.ledger.runs.length ? round(parts.ledger.fastestUsec / 1000, 3) : null;
    const per10kProcessed = parts.memory.queuedMessages > 0 ? memory.redisPer10kProcessedMb : null;
    const losses = integrity.errorCount + integrity.lost + integrity.refusedBySimulators;
    // issue 16's targets, restated for two shared cores
    const targets: Target[] = [
      { name: 'end-to-end p99 at 500 msg/s, api + 1 worker (ms)', target: '<= 50', measured: e2e500?.endToEnd.p99 ?? null, met: e2e500 !== undefined && e2e500.endToEnd.p99 <= 50 && e2e500.answered === e2e500.accepted },
      { name: 'highest end-to-end rate held with p99 <= 100 ms (msg/s)', target: '>= 750', measured: parts.endToEnd.length ? e2eHighest : null, met: e2eHighest >= 750 },
      { name: 'saturated ingest / Express + BullMQ baseline', target: '>= 0.5', measured: ratiosBull.length ? ratioBull : null, met: ratiosBull.length > 0 && ratioBull >= 0.5 },
      { name: 'CPU a message, worker + its Redis, backlog drained by 1 worker (ms)', target: '<= 0.6', measured: workerCpu, met: workerCpu !== null && workerCpu <= 0.6 },
      { name: 'Redis time of one ledger decision, decide.lua alone (ms, fastest of 7)', target: '<= 0.06', measured: ledgerMs, met: ledgerMs !== null && ledgerMs <= 0.06 },
      { name: 'Redis memory per 10,000 messages processed and retained (MB)', target: '<= 20', measured: per10kProcessed, met: per10kProcessed !== null && per10kProcessed <= 20 },
      { name: 'api RSS at the 2,000 msg/s step (MB)', target: '<= 150', measured: step2000?.apiRssPeakMb ?? null, met: step2000 !== undefined && step2000.apiRssPeakMb <= 150 },
      { name: 'worker RSS, peak of the run, no heap cap (MB)', target: '<= 200', measured: workerRssPeak > 0 ? workerRssPeak : null, met: workerRssPeak > 0 && workerRssPeak <= 200 },
      { name: 'errors and losses', target: '0', measured: losses, met: losses === 0 },
    ];
    return {
      date: new Date(parts.startedAt).toISOString(),
      durationSeconds: round((now() - parts.startedAt) / 1000, 1),
      command: `node bench/run.ts ${process.argv.slice(2).join(' ')}`.trim(),
      machine: {
        cpus: cpus().length,
        cpuModel: cpus()[0]?.model ?? '?',
        memoryGb: round(totalmem() / 1024 ** 3, 1),
        node: process.version,
        redis: parts.redisVersion,
        note: 'generator, simulators, gateway processes, baselines and Redis all share these cores',
      },
      settings: {
        smoke: options.smoke,
        stepSeconds: options.stepSeconds,
        saturationSeconds: options.saturationSeconds,
        reps: options.reps,
        closedLoopConnections: options.connections,
        fixedRateMaxSockets: options.fixedConnections,
        changshaShare: options.changshaShare,
        gatewayRoot: options.gatewayRoot === ROOT ? '.' : options.gatewayRoot,
        profiled: options.profile,
        gatewayNodeArgs: [...readLaunchEnvironment().nodeOptions, ...options.nodeArgs].join(' '),
        workerNodeArgs: options.workerNodeArgs.join(' '),
        rateLimitsPerSecond: 1_000_000,
        redis: 'AOF appendfsync everysec, noeviction, automatic AOF rewrite off',
        workerConcurrency: 8,
      },
      ingest: {
        saturation: {
          runs: parts.saturation,
          median: { gateway, expressEcho: echo, expressBullmq: bull },
        },
        ladder: parts.ladder,
        highestRateHeldP99At50ms: parts.highest,
        at,
      },
      ratios: {
        gatewayToExpressEcho: round(median(ratiosEcho), 3),
        gatewayToExpressBullmq: ratioBull,
        perRepetition: { expressEcho: ratiosEcho, expressBullmq: ratiosBull },
        ofMedians: { expressEcho: echo > 0 ? round(gateway / echo, 3) : 0, expressBullmq: bull > 0 ? round(gateway / bull, 3) : 0 },
      },
      endToEnd: parts.endToEnd,
      endToEndHighestHeldP99At100ms: e2eHighest,
      ledger: { fastestUsec: round(parts.ledger.fastestUsec, 1), medianUsec: round(parts.ledger.usec, 1), cpuUsec: round(parts.ledger.cpuUsec, 1), ceilingPerSecond: parts.ledger.cpuUsec > 0 ? Math.floor(1_000_000 / parts.ledger.cpuUsec) : 0, decisionsPerRun: options.ledgerDecisions },
      memory,
      scaling: {
        drains: parts.drains,
        oneWorker: round(median(byWorkers(1)), 1),
        twoWorkers: round(median(byWorkers(2)), 1),
      },
      integrity,
      targets,
    };
  }
}

function errorText(errors: Record<string, number>): string {
  const entries = Object.entries(errors);
  return entries.length ? `, ERRORS ${entries.map(([key, count]) => `${key}×${count}`).join(' ')}` : '';
}

function stamp(): string {
  return new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
}

// ---------------------------------------------------------------- main

const options = parseOptions(process.argv.slice(2));
const bench = new Bench(options);
let interrupted = false;
process.on('SIGINT', () => {
  if (interrupted) process.exit(130);
  interrupted = true;
  say('interrupted: stopping the processes');
  void bench.stop().finally(() => process.exit(130));
});

let exitCode = 1;
try {
  const results = await bench.run();
  process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
  if (options.write) {
    mkdirSync(options.outDir, { recursive: true });
    // a later run of the same day takes the next free name: results already written (and committed) stay as they were
    const date = results.date.slice(0, 10);
    let day = date;
    for (let run = 2; existsSync(join(options.outDir, `${day}.json`)) || existsSync(join(options.outDir, `${day}.md`)); run++) day = `${date}-${run}`;
    writeFileSync(join(options.outDir, `${day}.json`), `${JSON.stringify(results, null, 2)}\n`);
    writeFileSync(join(options.outDir, `${day}.md`), renderMarkdown(results));
    say(`wrote ${join(options.outDir, `${day}.json`)} and ${day}.md`);
  }
  const measured = (!options.parts.has('saturation') || results.ingest.saturation.median.gateway > 0) && results.ingest.ladder.every((step) => step.ok > 0) && results.endToEnd.every((step) => step.answered > 0);
  const clean = results.integrity.lost === 0 && results.integrity.errorCount === 0 && results.integrity.refusedBySimulators === 0;
  for (const target of results.targets) say(`target ${target.met ? 'met    ' : 'NOT met'} ${target.name}: ${target.measured ?? '—'} (${target.target})`);
  exitCode = measured && clean ? 0 : 1;
  if (!measured) say('FAILED: a run measured nothing');
  if (!clean) say(`FAILED: ${results.integrity.lost} lost, ${results.integrity.errorCount} errors, ${results.integrity.refusedBySimulators} refused by the simulators`);
} catch (error) {
  say(`FAILED: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
} finally {
  await bench.stop().catch((error: unknown) => say(`stopping: ${String(error)}`));
}
process.exit(exitCode);
