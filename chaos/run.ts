/**
 * `npm run chaos`: the gateway under steady signed load from both partner
 * simulators while faults are applied in turn, then a check of everything
 * that was acknowledged (chaos/checker.ts). See docs/reliability.md.
 *
 *   node chaos/run.ts [--smoke] [--json] [--minute] [--window <s>] [--rate <msg/s>]
 *                     [--faults a,b,...] [--appendfsync everysec|always] [--keep]
 *
 * --smoke    three faults (worker kill -9, Redis kill -9, province 500s) of 5 s each
 * --json     progress on stderr, one JSON summary on stdout
 * --minute   the province faults (500, timeout, slow) last a full minute
 * --window   seconds each fault lasts (default 12; smoke 5)
 * --faults   which faults, in order (default: all but redis-host-crash, which emulates a
 *            host crash by cutting the last second off the AOF and so loses data by design)
 * --appendfsync  always: Redis fsyncs before it answers (set with CONFIG SET after each start)
 * --keep     keep the run's directory (Redis data, process logs, history) even when it passed
 *
 * Exit status: 0 when the check passed; 1 when it found a violation (in smoke
 * mode: a lost message, a double booking, or conflicting or unexpected
 * answers — the properties that do not depend on the machine's speed); 2 when
 * the run itself failed.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { loadConfig } from '../config/index.ts';
import { Keys } from '../kernel/redis/keys.ts';
import { INBOUND_QUEUE, outboundQueue, PERIODIC_QUEUE } from '../queues/names.ts';
import { testEnv } from '../test/helpers/gateway.ts';
import { check, faultReport, type CheckResult, type FaultReport } from './checker.ts';
import { DEFAULT_FAULTS, FAULTS, MINUTE_FAULTS, SMOKE_FAULTS, type FaultContext } from './faults.ts';
import type { FaultWindow, Operation } from './history.ts';
import { LoadGenerator } from './load.ts';
import { Partners } from './partners.ts';
import { sleep, System } from './system.ts';

const { values: args } = parseArgs({
  options: {
    smoke: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
    minute: { type: 'boolean', default: false },
    window: { type: 'string' },
    rate: { type: 'string', default: '20' },
    faults: { type: 'string' },
    appendfsync: { type: 'string', default: 'everysec' },
    keep: { type: 'boolean', default: false },
  },
});

const windowSeconds = Number(args.window ?? (args.smoke ? 5 : 12));
const rate = Number(args.rate);
const appendfsync = args.appendfsync === 'always' ? 'always' : 'everysec';
const chosen = args.faults ? args.faults.split(',') : args.smoke ? SMOKE_FAULTS : DEFAULT_FAULTS;
const faults = chosen.map((name) => {
  const fault = FAULTS.find((candidate) => candidate.name === name);
  if (!fault) throw new Error(`unknown fault ${name}; known: ${FAULTS.map((f) => f.name).join(', ')}`);
  return fault;
});
/** steady load before each fault, and after the last */
const LEAD_MS = args.smoke ? 2000 : 3000;
/** how long the run waits for everything acknowledged to be answered, between faults and at the end */
const SETTLE_MS = 45_000;
const QUIESCE_MS = 60_000;

const startedAt = Date.now();
function log(line: string): void {
  process.stderr.write(`[chaos ${((Date.now() - startedAt) / 1000).toFixed(1).padStart(6)}s] ${line}\n`);
}

const dir = mkdtempSync(join(tmpdir(), 'zzgw-chaos-'));
const namespace = 'chaos';
const partners = await new Partners().start();
const system = new System({ dir, env: {}, appendfsync, log });
try {
  await system.startRedis();
} catch (error) {
  log(`Redis did not start (redis-server must be installed: npm run chaos installs it when missing): ${error instanceof Error ? error.message : JSON.stringify(error)}`);
  await partners.stop();
  process.exit(2);
}
const env: Record<string, string> = {
  ...testEnv(namespace, partners.province.url, system.redisUrl, partners.changshaUrl),
  LOG_LEVEL: 'warn',
  // a dead worker's job is taken over within 3 s (production: 10 s + 5 s)
  WORKER_LOCK_DURATION_MS: '2000',
  WORKER_STALLED_INTERVAL_MS: '1000',
  // a province that hangs is a timeout after 2 s
  PROVINCE_TIMEOUT_MS: '2000',
  CHANGSHA_TIMEOUT_MS: '2000',
  // retries: 0.25 s doubling to 4 s, for the 24 h retry horizon (the attempts setting only caps the doublings)
  PROVINCE_BACKOFF_BASE_MS: '250',
  PROVINCE_BACKOFF_MAX_MS: '4000',
  PROVINCE_DELIVERY_ATTEMPTS: '60',
  PROVINCE_BREAKER_HALF_OPEN_MS: '2000',
  CHANGSHA_BACKOFF_BASE_MS: '250',
  CHANGSHA_BACKOFF_MAX_MS: '4000',
  CHANGSHA_DELIVERY_ATTEMPTS: '60',
  CHANGSHA_BREAKER_HALF_OPEN_MS: '2000',
  CHANGSHA_AVAILABILITY_DEBOUNCE_MS: '1000',
  SHUTDOWN_TIMEOUT_MS: '10000',
  // the scheduler's sweep finds, within seconds, acknowledged messages whose jobs were removed (board-remove)
  STRANDED_SWEEP_CRON: '*/2 * * * * *',
  STRANDED_AFTER_MINUTES: '0.25',
};
Object.assign(system.options.env, env);
const config = loadConfig({ env });
const load = new LoadGenerator({ rate, retryWithoutHintMs: 1000, requestTimeoutMs: 10_000 });
const windows: FaultWindow[] = [];

let stopping = false;
async function shutdown(): Promise<void> {
  load.stop();
  await load.abandon();
  await system.stopAll();
  await partners.stop();
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) process.exit(130);
    stopping = true;
    log(`${signal}: stopping`);
    void shutdown().finally(() => process.exit(130));
  });
}

const observer = new Redis(system.redisUrl, { maxRetriesPerRequest: 1 });
observer.on('error', () => undefined);

/** Acknowledged messages not yet answered at their partner nor dead-lettered. */
async function unanswered(): Promise<Operation[]> {
  const open = load.operations.filter((operation) => operation.ackedAt !== undefined && !partners.answers[operation.kind].has(operation.id));
  if (open.length === 0) return open;
  try {
    const keys = new Keys(namespace);
    const ids = await observer.zrange(keys.deadLetters.byTime, '0', '-1');
    if (ids.length === 0) return open;
    const letters = await Promise.all(ids.map((id) => observer.hget(keys.deadLetters.entry(id), 'json')));
    const lettered = new Set(letters.map((json) => (json ? (JSON.parse(json) as { trackingNo: string }).trackingNo : '')));
    return open.filter((operation) => !lettered.has(operation.trackingNo ?? ''));
  } catch {
    return open;
  }
}

/**
 * Waits until everything acknowledged is answered (or dead-lettered) and no
 * message has waited more than a second for its acknowledgement, at most
 * `boundMs`: the next fault then begins on a system that has recovered.
 */
async function settle(boundMs: number): Promise<number> {
  const deadline = Date.now() + boundMs;
  for (;;) {
    const waiting = load.operations.filter((operation) => operation.ackedAt === undefined && operation.refusedStatus === undefined && operation.firstSentAt < Date.now() - 1000).length;
    const open = (await unanswered()).length + waiting;
    if (open === 0 || Date.now() >= deadline) return open;
    await sleep(250);
  }
}

/** Jobs still to run: waiting, active, delayed (other than hold expiries and held timeouts). */
async function pendingJobs(): Promise<number> {
  const keys = new Keys(namespace);
  let total = 0;
  try {
    for (const name of [INBOUND_QUEUE, outboundQueue('province'), outboundQueue('changsha'), PERIODIC_QUEUE]) {
      const queue = new Queue(name, { connection: observer, prefix: keys.queuePrefix });
      const counts = await queue.getJobCounts('waiting', 'active', 'prioritized', 'waiting-children');
      total += Object.values(counts).reduce((sum, n) => sum + n, 0);
      const delayed = await queue.getJobs(['delayed']);
      total += delayed.filter((job) => !(name === INBOUND_QUEUE && (job.name === 'hold-expiry' || job.name === 'held-timeout'))).length;
      await queue.close();
    }
  } catch {
    return Number.POSITIVE_INFINITY;
  }
  return total;
}

let check_: CheckResult | undefined;
let reports: FaultReport[] = [];
let runError: unknown;
try {
  log(`run directory ${dir}; Redis ${system.redisUrl} (AOF, appendfsync ${appendfsync})`);
  await system.start('worker-1', 'worker');
  await system.start('worker-2', 'worker');
  await system.start('api-1', 'api');
  await system.start('api-2', 'api');
  await system.start('scheduler-1', 'scheduler');
  load.setTargets(system.apiUrls());
  log(`load: ${rate} msg/s, province applies and Changsha slot.requested in turn, over ${load.days.length} open days`);
  load.start();
  // one refusal from each partner, so that the dead letters hold what the partners refused
  partners.province.failNext('refuse');
  partners.changsha.failNext('http-400');
  await sleep(LEAD_MS);

  const context: FaultContext = {
    system,
    partners,
    load,
    namespace,
    log,
    windowMs: (name) => 1000 * (args.minute && MINUTE_FAULTS.includes(name) ? 60 : windowSeconds),
  };
  for (const fault of faults) {
    if (stopping) break;
    const open = await settle(SETTLE_MS);
    if (open > 0) log(`${open} message(s) still unacknowledged or unanswered after ${SETTLE_MS / 1000} s; going on`);
    await sleep(LEAD_MS);
    log(`fault ${fault.name}: ${fault.description}`);
    const window = await fault.run(context);
    windows.push(window);
    log(`fault ${fault.name} healed after ${((window.healedAt - window.injectedAt) / 1000).toFixed(1)} s`);
  }
  await settle(SETTLE_MS);
  await sleep(LEAD_MS);
  load.stop();
  log(`load stopped after ${load.operations.length} messages; waiting for quiescence (at most ${QUIESCE_MS / 1000} s)`);
  const quiesceBy = Date.now() + QUIESCE_MS;
  for (;;) {
    const open = (await unanswered()).length;
    const jobs = await pendingJobs();
    if ((load.inFlight === 0 && open === 0 && jobs === 0) || Date.now() >= quiesceBy) {
      log(`quiescence: ${load.inFlight} message(s) still being sent, ${open} acknowledged unanswered, ${jobs} job(s) pending`);
      break;
    }
    await sleep(500);
  }
  await load.abandon();
  check_ = await check({ operations: load.operations, answers: partners.answers, redis: observer, config, badSignatures: partners.badAnswers });
  reports = windows.map((window, n) => faultReport(window, load.operations, partners.answers, windows[n + 1]?.injectedAt));
} catch (error) {
  runError = error;
  log(`the run failed: ${error instanceof Error ? (error.stack ?? error.message) : JSON.stringify(error)}`);
} finally {
  observer.disconnect();
  await shutdown().catch(() => undefined);
}

const safetyViolated = check_ === undefined || check_.counts.lost > 0 || check_.ledger.doubleBookings > 0 || check_.counts.conflictingAnswers > 0 || check_.counts.unexpectedAnswers > 0;
const exitCode = runError !== undefined || check_ === undefined ? 2 : (args.smoke ? safetyViolated : !check_.valid) ? 1 : 0;
const summary = {
  mode: args.smoke ? 'smoke' : 'full',
  valid: check_?.valid ?? false,
  exitCode,
  ...(runError === undefined ? {} : { error: runError instanceof Error ? runError.message : JSON.stringify(runError) }),
  date: new Date(startedAt).toISOString(),
  durationSeconds: Math.round((Date.now() - startedAt) / 1000),
  settings: { rate, windowSeconds, minute: args.minute, appendfsync, faults: faults.map((fault) => fault.name), gatewayEnv: Object.fromEntries(Object.entries(env).filter(([name]) => !/SECRET|KEY|URL/.test(name))) },
  acknowledged: check_?.counts.acknowledged ?? 0,
  lost: check_?.counts.lost ?? 0,
  duplicatedAnswers: check_?.counts.duplicatedAnswers ?? 0,
  check: check_,
  faults: reports,
  partners: { otherMessages: partners.otherMessages, changshaRejected: partners.changshaRejected, refusedTokenCalls: partners.refusedTokenCalls, provinceCalls: partners.provinceCalls },
  directory: dir,
};
const keep = args.keep || exitCode !== 0;
Object.assign(summary, { latency: latencies() });
writeFileSync(join(dir, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
// the history itself, for a second look: every message with its attempts, every answer, every fault window
writeFileSync(
  join(dir, 'history.json'),
  JSON.stringify({ operations: load.operations, answers: { province: [...partners.answers.province.values()].flat(), changsha: [...partners.answers.changsha.values()].flat() }, windows }),
);
if (!keep) rmSync(dir, { recursive: true, force: true });
if (args.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
else process.stdout.write(renderText(summary.check, reports, keep ? dir : undefined));
process.exit(exitCode);

/** Milliseconds: an accepted attempt's answer (200/202), and from acknowledgement to the first answer at the partner. */
function latencies() {
  const percentile = (values: number[], q: number) => {
    const sorted = [...values].sort((a, b) => a - b);
    return sorted.length === 0 ? null : Math.round(sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? 0);
  };
  const acks = load.operations.flatMap((operation) => operation.attempts.filter((attempt) => attempt.status === 200 || attempt.status === 202).map((attempt) => attempt.ms));
  const answersAfterAck = load.operations.flatMap((operation) => {
    const first = partners.answers[operation.kind].get(operation.id)?.[0]?.at;
    return operation.ackedAt === undefined || first === undefined ? [] : [first - operation.ackedAt];
  });
  return {
    ackMs: { p50: percentile(acks, 0.5), p99: percentile(acks, 0.99), max: percentile(acks, 1) },
    answerAfterAckMs: { p50: percentile(answersAfterAck, 0.5), p99: percentile(answersAfterAck, 0.99), max: percentile(answersAfterAck, 1) },
  };
}

function renderText(result: CheckResult | undefined, faultReports: FaultReport[], keptIn: string | undefined): string {
  const lines: string[] = [];
  if (result) {
    const c = result.counts;
    lines.push(
      '',
      `acknowledged        ${c.acknowledged} of ${c.attempted} messages (${c.httpAttempts} HTTP attempts; ${c.unacknowledged} never acknowledged, ${c.recovered} of them answered anyway)`,
      `answered            ${c.answered} (approved ${c.approved}, rejected ${c.rejected}, offered ${c.offered}, declined ${c.declined})`,
      `refused by partner  ${c.refusedByPartner} (in the dead letters)`,
      `lost                ${c.lost}${c.lost > 0 ? '   <-- must be 0' : ''}`,
      `duplicated answers  ${c.duplicatedAnswers} over ${c.requestsAnsweredMoreThanOnce} request(s), all with the same message id: ${c.conflictingAnswers === 0 ? 'yes' : `no, ${c.conflictingAnswers} conflicting`}`,
      `double bookings     ${result.ledger.doubleBookings} over ${result.ledger.bookings} bookings (buffer violations ${result.ledger.bufferViolations}, answers disagreeing with the ledger ${result.ledger.answerLedgerMismatches})`,
      `stuck               jobs ${JSON.stringify(result.stuck.jobs)}, records ${result.stuck.stuckRecords} (scheduled hold expiries left: ${result.stuck.scheduledJobs})`,
      `dead letters        ${result.deadLetters.total} ${JSON.stringify(result.deadLetters.byReason)}`,
      '',
      'fault              window  sent  errors seen by the partners      longest ack  first ack  recover  in-flight done  caught up  repeats  bookings',
    );
    for (const report of faultReports) {
      const list = (errors: Record<string, number>) => Object.entries(errors).map(([status, count]) => `${status}×${count}`).join(' ');
      const errors = [list(report.errorsDuring), Object.keys(report.errorsAfter).length > 0 ? `then ${list(report.errorsAfter)}` : ''].filter(Boolean).join(', ') || '-';
      const s = (value: number | null) => (value === null ? '-' : `${value.toFixed(1)} s`);
      lines.push(
        `${report.name.padEnd(18)} ${`${report.windowSeconds.toFixed(1)} s`.padStart(6)} ${String(report.sentDuring).padStart(5)}  ${errors.padEnd(30)} ${s(report.longestAckWaitSeconds).padStart(11)} ${s(report.firstAckSeconds).padStart(10)} ${s(report.recoverSeconds).padStart(8)} ${s(report.inFlightDoneSeconds).padStart(15)} ${s(report.caughtUpSeconds).padStart(10)} ${String(report.repeatedAnswers).padStart(8)} ${String(report.bookingsAnswered).padStart(9)}`,
      );
      for (const note of report.notes) lines.push(`${''.padEnd(19)}${note}`);
    }
    const latency = latencies();
    lines.push('', `latency             acknowledgement p50 ${latency.ackMs.p50 ?? '-'} ms, p99 ${latency.ackMs.p99 ?? '-'} ms; answer after acknowledgement p50 ${latency.answerAfterAckMs.p50 ?? '-'} ms, p99 ${latency.answerAfterAckMs.p99 ?? '-'} ms, max ${latency.answerAfterAckMs.max ?? '-'} ms`);
    lines.push('', result.valid ? 'check: passed' : `check: FAILED\n  ${result.violations.join('\n  ')}`);
    for (const item of result.lost.slice(0, 20)) lines.push(`  lost ${item.kind} ${item.id} (${item.messageKey}, ${item.trackingNo}) acknowledged ${item.ackedAt}: record ${item.record}, ledger ${item.ledger}${item.deadLetter ? `, dead letter ${item.deadLetter}` : ''}`);
    for (const example of [...result.ledger.examples, ...result.stuck.examples]) lines.push(`  ${example}`);
  } else {
    lines.push('', 'check: not run (the run failed)');
  }
  if (keptIn) lines.push(`run directory kept: ${keptIn}`);
  return `${lines.join('\n')}\n`;
}
