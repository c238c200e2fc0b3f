import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import type { Job, Queue } from 'bullmq';
import { isPartnerId } from '../../adapters/registry.ts';
import type { PartnerId } from '../../adapters/types.ts';
import { matches, type DeadLetter, type DeadLetterFilter } from '../../stores/dead-letters.ts';
import type { ReconciliationRun } from '../../stores/reconciliation-runs.ts';
import { DAY_MS, beijingDate } from '../../kernel/beijing-time.ts';
import { redact } from '../../kernel/pii.ts';
import type { Runtime } from '../../usecases/runtime.ts';
import { connectedReplicas } from '../../kernel/redis/replication.ts';
import { waitingAnswers, waitingSince } from '../../queues/waiting.ts';
import { SEARCH_KINDS, type SearchKind, type TraceEntry } from '../../stores/traces.ts';
import type { OpsAuth } from './auth.ts';
import { SECURITY_KINDS, type PartnerBreakerStates, type PartnerStats } from '../../telemetry/statistics.ts';
import { problem } from '../problem.ts';

/**
 * The dashboard's data: read-only JSON for every page, for any logged-in
 * operator (viewer and up). Personal data leaves masked (pii.ts `redact`), and
 * every answer is bounded: lists have limits, scans have caps, and a capped
 * figure says so.
 */

const MINUTE_MS = 60_000;

/** What the overview calls a stuck queue. */
export const THRESHOLDS = {
  /** the oldest waiting job has waited this long: amber, then red */
  oldestWaitingAmberSeconds: 60,
  oldestWaitingRedSeconds: 300,
  /** error rate of answers to a partner over 15 minutes (with at least `errorRateMinAnswers`) */
  errorRateAmber: 0.2,
  errorRateRed: 0.5,
  errorRateMinAnswers: 5,
  /** the oldest answer waiting for a partner has waited this long: amber; past this share of the retry horizon: red */
  answersWaitingAmberSeconds: 600,
  answersWaitingRedShareOfHorizon: 0.5,
} as const;

/** How far the dashboard reads, at most. */
export const LIMITS = {
  /** dead letters read (newest first) to count and filter */
  deadLetterScan: 2000,
  deadLetters: 500,
  messages: 200,
  traceEntries: 500,
  securityEvents: 1000,
  roomBoardDays: 14,
  roomBoardItems: 3000,
  reconciliationRuns: 50,
  /** elements of a reconciliation run's lists */
  runListItems: 100,
  periodicJobs: 20,
  /** characters of a periodic job's return value */
  returnValueChars: 600,
  /** an outbound queue's jobs read per state to find its oldest waiting answer */
  waitingAnswersScan: 1000,
} as const;


export type Health = 'green' | 'amber' | 'red';

/** Why something is not green, in words, in both languages of the dashboard. */
export interface Reason {
  scope: string;
  code: string;
  health: Exclude<Health, 'green'>;
  zh: string;
  en: string;
}

const PARTNER_NAMES: Record<string, { zh: string; en: string }> = {
  province: { zh: '省平台', en: 'the province' },
  changsha: { zh: '长沙', en: 'Changsha' },
};

function partnerNames(partner: string | null | undefined): { zh: string; en: string } {
  return PARTNER_NAMES[partner ?? ''] ?? { zh: partner ?? '', en: partner ?? '' };
}

function worst(reasons: readonly Reason[]): Health {
  if (reasons.some((reason) => reason.health === 'red')) return 'red';
  if (reasons.length > 0) return 'amber';
  return 'green';
}


// ---------------------------------------------------------------- query parsing

function text(req: Request, name: string, max = 200): string | undefined {
  const value = (req.query as Record<string, unknown>)[name];
  if (typeof value !== 'string') return undefined;
  const trimmed = value.trim();
  return trimmed === '' ? undefined : trimmed.slice(0, max);
}

function integer(req: Request, name: string, fallback: number, min: number, max: number): number {
  const value = Number(text(req, name, 20));
  return Number.isFinite(value) ? Math.min(max, Math.max(min, Math.floor(value))) : fallback;
}

/** An instant given as epoch ms or ISO 8601 (a bare date-time is Beijing time). */
function instant(req: Request, name: string): number | undefined {
  const value = text(req, name, 40);
  if (value === undefined) return undefined;
  if (/^\d{10,16}$/.test(value)) return Number(value);
  const withZone = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/.test(value) ? `${value}+08:00` : value;
  const ms = Date.parse(withZone);
  return Number.isFinite(ms) ? ms : undefined;
}

function deadLetterFilter(req: Request): DeadLetterFilter {
  const status = text(req, 'status');
  const partner = text(req, 'partner', 40);
  const queue = text(req, 'queue', 80);
  const reason = text(req, 'reason');
  return {
    ...(partner ? { partner } : {}),
    ...(queue ? { queue } : {}),
    ...(reason ? { reason } : {}),
    ...(status === 'pending' || status === 'replayed' || status === 'discarded' ? { status } : {}),
  };
}

const iso = (ms: number | undefined | null) => (ms === undefined || ms === null || !Number.isFinite(ms) ? null : new Date(ms).toISOString());

// ---------------------------------------------------------------- queues

type QueueKind = 'inbound' | 'outbound' | 'periodic';

interface NamedQueue {
  queue: Queue;
  kind: QueueKind;
  partner?: PartnerId;
}

function dashboardQueues(runtime: Runtime): NamedQueue[] {
  return [
    { queue: runtime.inboundQueue, kind: 'inbound' },
    ...(Object.entries(runtime.outboundQueues) as [PartnerId, Queue][]).map(([partner, queue]) => ({ queue, kind: 'outbound' as const, partner })),
    { queue: runtime.periodicQueue, kind: 'periodic' },
  ];
}

export interface QueueView {
  name: string;
  kind: QueueKind;
  partner: string | null;
  counts: { waiting: number; active: number; delayed: number; failed: number; prioritized: number; completed: number };
  /** jobs finished in the window, counted by their finish time */
  completedLast5m: number;
  completedLast15m: number;
  failedLast15m: number;
  /** completed per minute over the last 5 minutes */
  ratePerMinute: number;
  oldestWaitingSeconds: number | null;
  /** live worker connections in any process; null when Redis would not say (CLIENT LIST refused) */
  workers: number | null;
  paused: boolean;
  health: Health;
  reasons: Reason[];
}

async function finishedSince(runtime: Runtime, key: string, since: number): Promise<number> {
  return runtime.redis.zcount(key, String(since), '+inf');
}

/**
 * One queue's depth, rate, age and workers. The rate counts the queue's
 * completed set by finish time (BullMQ scores it by finishedOn): exact, one
 * ZCOUNT, and it needs nothing of the workers (`getMetrics` would need metrics
 * enabled on every worker, and only has minute buckets of its own).
 */
async function queueView(runtime: Runtime, { queue, kind, partner }: NamedQueue): Promise<QueueView> {
  // BullMQ stamps jobs with the wall clock of the process that ran them
  const now = Date.now();
  const [counts, oldest, workers, paused, completed5, completed15, failed15] = await Promise.all([
    queue.getJobCounts('waiting', 'active', 'delayed', 'failed', 'prioritized', 'completed'),
    queue.getJobs(['wait'], 0, 0, true),
    queue.getWorkersCount().then(
      (count) => count,
      () => null,
    ),
    queue.isPaused(),
    finishedSince(runtime, queue.keys['completed'] ?? '', now - 5 * MINUTE_MS),
    finishedSince(runtime, queue.keys['completed'] ?? '', now - 15 * MINUTE_MS),
    finishedSince(runtime, queue.keys['failed'] ?? '', now - 15 * MINUTE_MS),
  ]);
  const count = (state: string) => counts[state] ?? 0;
  const view: QueueView = {
    name: queue.name,
    kind,
    partner: partner ?? null,
    counts: { waiting: count('waiting'), active: count('active'), delayed: count('delayed'), failed: count('failed'), prioritized: count('prioritized'), completed: count('completed') },
    completedLast5m: completed5,
    completedLast15m: completed15,
    failedLast15m: failed15,
    ratePerMinute: Math.round((completed5 / 5) * 10) / 10,
    oldestWaitingSeconds: oldest[0] ? Math.max(0, Math.round((now - waitingSince(oldest[0])) / 1000)) : null,
    workers,
    paused,
    health: 'green',
    reasons: [],
  };
  view.reasons = queueReasons(view);
  view.health = worst(view.reasons);
  return view;
}

function queueReasons(view: QueueView): Reason[] {
  const scope = `queue:${view.name}`;
  const reasons: Reason[] = [];
  const add = (code: string, health: Reason['health'], zh: string, en: string) => reasons.push({ scope, code, health, zh, en });
  const { waiting, active, delayed, prioritized } = view.counts;
  const pending = waiting + active + prioritized + delayed;
  if (view.workers === 0 && pending > 0) {
    add('NO_WORKER_WITH_JOBS', 'red', `队列 ${view.name} 没有存活的工作进程，${pending} 个任务无人处理`, `no worker alive for ${view.name} while ${pending} job(s) wait`);
  } else if (view.workers === 0) {
    add('NO_WORKER', 'amber', `队列 ${view.name} 没有存活的工作进程`, `no worker alive for ${view.name}`);
  } else if (view.workers === null) {
    add('WORKERS_UNKNOWN', 'amber', `无法获知队列 ${view.name} 的工作进程（Redis 拒绝 CLIENT LIST）`, `workers of ${view.name} unknown (Redis refused CLIENT LIST)`);
  }
  if (view.paused) {
    add('PAUSED', waiting > 0 ? 'red' : 'amber', `队列 ${view.name} 已暂停`, `${view.name} is paused`);
  }
  const age = view.oldestWaitingSeconds;
  if (age !== null && age >= THRESHOLDS.oldestWaitingAmberSeconds) {
    const minutes = Math.floor(age / 60);
    add(
      'WAITING_TOO_LONG',
      age >= THRESHOLDS.oldestWaitingRedSeconds ? 'red' : 'amber',
      `队列 ${view.name} 最早的等待任务已等待 ${minutes > 0 ? `${minutes} 分钟` : `${age} 秒`}`,
      `oldest waiting job of ${view.name} has waited ${minutes > 0 ? `${minutes} min` : `${age} s`}`,
    );
  }
  if (view.failedLast15m > 0) {
    add('RECENT_FAILURES', 'amber', `队列 ${view.name} 最近 15 分钟有 ${view.failedLast15m} 个任务最终失败`, `${view.failedLast15m} job(s) of ${view.name} failed for good in the last 15 min`);
  }
  // outbound jobs in `delayed` are deliveries waiting for their next retry
  if (view.kind === 'outbound' && delayed > 0) {
    add('RETRYING', 'amber', `${delayed} 条发往${partnerNames(view.partner).zh}的消息在等待重试`, `${delayed} message(s) to ${partnerNames(view.partner).en} waiting to be retried`);
  }
  return reasons;
}

// ---------------------------------------------------------------- partners

/** The answers to a partner not delivered yet (its outbound queue), the oldest by its first attempt. */
export interface WaitingAnswersView {
  count: number;
  oldestSince: string | null;
  oldestSeconds: number | null;
  /** more waited than were read: the oldest is that of those read */
  capped: boolean;
  /** the partner's retry horizon: an answer still waiting then goes to the dead letters */
  retryHours: number;
}

async function waitingAnswersView(runtime: Runtime, partner: PartnerId): Promise<WaitingAnswersView> {
  const waiting = await waitingAnswers(runtime.outboundQueues[partner], LIMITS.waitingAnswersScan);
  // first attempts are stamped by the gateway's clock
  const now = runtime.clock.now();
  return {
    count: waiting.count,
    oldestSince: iso(waiting.oldestSince),
    oldestSeconds: waiting.oldestSince === null ? null : Math.max(0, Math.round((now - waiting.oldestSince) / 1000)),
    capped: waiting.capped,
    retryHours: runtime.config.partners[partner].delivery.retryHours,
  };
}

/** "3 小时 5 分钟" / "3 h 5 min" */
function spokenDuration(seconds: number): { zh: string; en: string } {
  const minutes = Math.floor(seconds / 60);
  if (minutes < 1) return { zh: `${seconds} 秒`, en: `${seconds} s` };
  if (minutes < 60) return { zh: `${minutes} 分钟`, en: `${minutes} min` };
  return { zh: `${Math.floor(minutes / 60)} 小时 ${minutes % 60} 分钟`, en: `${Math.floor(minutes / 60)} h ${minutes % 60} min` };
}

export interface PartnerView extends PartnerStats {
  waitingAnswers: WaitingAnswersView | null;
  breaker: PartnerBreakerStates | null;
  /** closed, half-open, open, or unknown when no worker process reports */
  circuit: 'closed' | 'half-open' | 'open' | 'unknown';
  health: Health;
  reasons: Reason[];
}

function partnerView(stats: PartnerStats, breaker: PartnerBreakerStates | undefined, waiting: WaitingAnswersView | undefined): PartnerView {
  const scope = `partner:${stats.partner}`;
  const name = partnerNames(stats.partner);
  const reasons: Reason[] = [];
  const add = (code: string, health: Reason['health'], zh: string, en: string) => reasons.push({ scope, code, health, zh, en });
  const processes = breaker?.processes.length ?? 0;
  const circuit = processes === 0 ? 'unknown' : breaker && breaker.open > 0 ? 'open' : breaker && breaker.halfOpen > 0 ? 'half-open' : 'closed';
  if (circuit === 'open') {
    add('CIRCUIT_OPEN', 'red', `到${name.zh}的断路器已打开（${breaker?.open ?? 0}/${processes} 个进程）：暂停投递`, `circuit to ${name.en} is open (${breaker?.open ?? 0} of ${processes} process(es)): deliveries are paused`);
  } else if (circuit === 'half-open') {
    add('CIRCUIT_HALF_OPEN', 'amber', `到${name.zh}的断路器半开：正在试探`, `circuit to ${name.en} is half-open: trying again`);
  }
  const { total } = stats.last15m.answers;
  const rate = stats.last15m.errorRate;
  if (rate !== null && total >= THRESHOLDS.errorRateMinAnswers && rate >= THRESHOLDS.errorRateAmber) {
    const percent = Math.round(rate * 100);
    add('ERROR_RATE', rate >= THRESHOLDS.errorRateRed ? 'red' : 'amber', `最近 15 分钟对${name.zh}的应答错误率 ${percent}%（共 ${total} 次）`, `error rate of answers to ${name.en} is ${percent}% over 15 min (${total} answers)`);
  }
  const deliveries = stats.last15m.deliveries;
  if (deliveries.refused > 0) {
    add('DELIVERY_REFUSED', 'amber', `最近 15 分钟${name.zh}拒收 ${deliveries.refused} 条消息`, `${name.en} refused ${deliveries.refused} message(s) in the last 15 min`);
  }
  if (deliveries.retry > 0 && deliveries.delivered === 0) {
    add('DELIVERIES_FAILING', 'amber', `最近 15 分钟向${name.zh}的投递全部失败（${deliveries.retry} 次重试）`, `every delivery to ${name.en} failed in the last 15 min (${deliveries.retry} retries)`);
  }
  const oldest = waiting?.oldestSeconds ?? null;
  if (waiting && waiting.count > 0 && oldest !== null && oldest >= THRESHOLDS.answersWaitingAmberSeconds) {
    const age = spokenDuration(oldest);
    const late = oldest >= waiting.retryHours * 3600 * THRESHOLDS.answersWaitingRedShareOfHorizon;
    add(
      'ANSWERS_WAITING',
      late ? 'red' : 'amber',
      `${waiting.count} 条发往${name.zh}的应答等待送达，最早一条已等待 ${age.zh}${late ? `（${waiting.retryHours} 小时后仍未送达即转入死信）` : ''}`,
      `${waiting.count} answer(s) to ${name.en} waiting to be delivered, the oldest for ${age.en}${late ? ` (still undelivered after ${waiting.retryHours} h, they go to the dead letters)` : ''}`,
    );
  }
  return { ...stats, waitingAnswers: waiting ?? null, breaker: breaker ?? null, circuit, health: worst(reasons), reasons };
}

// ---------------------------------------------------------------- dead letters

export function deadLetterStatus(letter: DeadLetter): 'pending' | 'replayed' | 'discarded' {
  return letter.discarded ? 'discarded' : letter.replayedAt ? 'replayed' : 'pending';
}

/** A dead letter as listed: everything but the job payload. */
function letterSummary(letter: DeadLetter) {
  return {
    id: letter.id,
    at: letter.at,
    queue: letter.queue,
    jobName: letter.jobName,
    jobId: letter.jobId,
    partner: letter.partner,
    trackingNo: letter.trackingNo,
    reason: redact(letter.reason) as string,
    attempts: letter.attempts,
    status: deadLetterStatus(letter),
    replayedAt: letter.replayedAt ?? null,
    replayJobId: letter.replayJobId ?? null,
    discarded: letter.discarded ? (redact(letter.discarded) as DeadLetter['discarded']) : null,
  };
}

// ---------------------------------------------------------------- scheduler

function runSummary(run: ReconciliationRun) {
  const reasons: Reason[] = [];
  const scope = `reconciliation:${run.partner}`;
  if (run.errors.length > 0) {
    reasons.push({ scope, code: 'RECONCILIATION_ERRORS', health: 'amber', zh: `与${partnerNames(run.partner).zh}对账有 ${run.errors.length} 个错误`, en: `reconciliation with ${partnerNames(run.partner).en} had ${run.errors.length} error(s)` });
  }
  const differences = run.missed.length + run.different.length + run.extra.length;
  if (differences > 0) {
    reasons.push({
      scope,
      code: 'RECONCILIATION_DIFFERENCES',
      health: 'amber',
      zh: `与${partnerNames(run.partner).zh}对账：补收 ${run.missed.length}，不一致 ${run.different.length}，仅本地 ${run.extra.length}`,
      en: `reconciliation with ${partnerNames(run.partner).en}: ${run.missed.length} missed, ${run.different.length} different, ${run.extra.length} only here`,
    });
  }
  return {
    runId: run.runId,
    reason: run.reason,
    partner: run.partner,
    startedAt: run.startedAt,
    finishedAt: run.finishedAt,
    days: run.days.length,
    missed: run.missed.length,
    different: run.different.length,
    extra: run.extra.length,
    pending: run.pending.length,
    errors: run.errors.length,
    errorSamples: run.errors.slice(0, 3),
    health: worst(reasons),
    reasons,
  };
}

function isRun(value: unknown): value is ReconciliationRun {
  return typeof value === 'object' && value !== null && 'runId' in value && Array.isArray((value as ReconciliationRun).missed);
}

/** A job's return value for the page: a reconciliation as its counts, anything else cut to a bounded JSON text. */
function returnSummary(value: unknown): unknown {
  if (Array.isArray(value) && value.every(isRun)) {
    return value.map((run) => ({ partner: run.partner, missed: run.missed.length, different: run.different.length, extra: run.extra.length, pending: run.pending.length, errors: run.errors.length }));
  }
  const json = JSON.stringify(redact(value ?? null)) ?? 'null';
  return json.length <= LIMITS.returnValueChars ? (JSON.parse(json) as unknown) : `${json.slice(0, LIMITS.returnValueChars)}…`;
}

function periodicJob(job: Job, outcome: 'completed' | 'failed') {
  return {
    id: job.id ?? '',
    name: job.name,
    outcome,
    addedAt: iso(job.timestamp),
    startedAt: iso(job.processedOn),
    finishedAt: iso(job.finishedOn),
    durationMs: job.processedOn && job.finishedOn ? job.finishedOn - job.processedOn : null,
    attempts: job.attemptsMade,
    ...(outcome === 'completed' ? { returnValue: returnSummary(job.returnvalue) } : { failedReason: redact(job.failedReason ?? '') as string }),
  };
}

// ---------------------------------------------------------------- messages

/** a message's record, or what its trace says of a message without one */
interface RecordSummary {
  trackingNo: string;
  partner: string | null;
  operation: string | null;
  state: string | null;
  receivedAt: string | null;
  requestId: string | null;
  ids: Record<string, string>;
}

/** A message or trace found by id: its record when it has one, else what its first trace entry says. */
async function messageSummary(runtime: Runtime, trackingNo: string): Promise<RecordSummary | undefined> {
  const record = await runtime.messages.summary(Object.keys(runtime.adapters), trackingNo);
  if (record) return record;
  const entry = await runtime.traces.first(trackingNo);
  if (entry === undefined) return undefined;
  return {
    trackingNo,
    partner: typeof entry['partner'] === 'string' ? entry['partner'] : null,
    operation: typeof entry['operation'] === 'string' ? entry['operation'] : entry.stage,
    state: null,
    receivedAt: entry.at,
    requestId: null,
    ids: {},
  };
}

async function searchById(runtime: Runtime, value: string, kinds: readonly SearchKind[]): Promise<string[]> {
  const found = await Promise.all(kinds.map((kind) => runtime.traces.find(kind, value)));
  return [...new Set(found.flat())];
}

async function searchByTime(runtime: Runtime, partners: readonly string[], from: number, to: number, limit: number): Promise<string[]> {
  const lists = await Promise.all(partners.map((partner) => runtime.messages.receivedBetween(partner, from, to, limit)));
  return lists
    .flat()
    .sort((a, b) => b.at - a.at || b.trackingNo.localeCompare(a.trackingNo))
    .slice(0, limit)
    .map((pair) => pair.trackingNo);
}

/**
 * A message as an operator sees it: its record, the raw body with personal
 * data masked (as GET /api/v1/messages), the trace, the ledger's decision on
 * its request, its dead letters, and what may be done about it.
 */
async function messageDetail(runtime: Runtime, trackingNo: string) {
  const record = await runtime.messages.summary(Object.keys(runtime.adapters), trackingNo);
  const traceAll = await runtime.traces.read(trackingNo);
  const seatRequest = record ? undefined : await runtime.seatRequests.get(trackingNo);
  if (!record && traceAll.length === 0 && !seatRequest) return undefined;

  const raw = record ? redact((await runtime.messages.body(record.partner, trackingNo)) ?? '[unreadable]') : null;

  let ledger = null;
  if (record?.partner && record.requestId) {
    const [decision, window] = await Promise.all([runtime.ledger.lookup(record.partner, record.requestId), runtime.ledger.describe(record.partner, record.requestId)]);
    if (decision || window) {
      ledger = {
        requestId: record.requestId,
        state: window?.state ?? decision?.state ?? null,
        start: iso(window?.start),
        end: iso(window?.end),
        seats: window?.seats ?? null,
        roomId: decision?.roomId || window?.roomId || null,
        seatIds: decision?.seatIds ?? [],
        outcome: decision?.outcome ?? null,
        reason: decision?.reason ?? null,
        kind: decision?.kind ?? null,
        decidedAt: decision?.decidedAt ?? null,
        holdUntil: iso(decision?.holdUntil),
        decidedBy: decision?.trackingNo ?? null,
      };
    }
  }

  // the trace names every dead letter the message went to
  const letterIds = [...new Set(traceAll.map((entry) => entry['deadLetter']).filter((id): id is string => typeof id === 'string'))];
  const letters = await Promise.all(letterIds.map((id) => runtime.deadLetters.get(id)));
  const deadLetters = letters.filter((letter): letter is DeadLetter => letter !== undefined).map(letterSummary);
  const trace = traceAll.slice(-LIMITS.traceEntries).map((entry) => redact(entry) as TraceEntry);
  const seriesNumber = record?.partner === 'province' && record.requestId && /^(SQ|BG)\d{20}$/.test(record.requestId) ? record.requestId : null;
  return {
    trackingNo,
    partner: record?.partner ?? seatRequest?.partner ?? null,
    operation: record?.operation ?? (seatRequest ? 'seat-request' : null),
    state: record?.state ?? seatRequest?.state ?? null,
    receivedAt: record?.receivedAt ?? seatRequest?.createdAt ?? null,
    requestId: record?.requestId ?? seatRequest?.requestId ?? null,
    ids: record?.ids ?? {},
    raw: raw ?? (seatRequest ? redact(seatRequest) : null),
    trace,
    traceTotal: traceAll.length,
    ledger,
    deadLetters,
    // an exception goes to the province about a booked request of its own
    exception: { possible: seriesNumber !== null && ledger?.state === 'in-force', seriesNumber },
  };
}

// ---------------------------------------------------------------- room board

const DATE = /^\d{4}-\d{2}-\d{2}$/;

function dayStart(date: string): number {
  return Date.parse(`${date}T00:00:00+08:00`);
}

/** Resources of the board: a single-project room is one row, a hall one row per seat. */
function boardRows(runtime: Runtime) {
  return runtime.config.ledger.rooms.map((room) => ({
    id: room.id,
    kind: room.kind,
    seats: room.seats,
    address: room.address,
    resources: room.kind === 'room' ? [room.id] : Array.from({ length: room.seats }, (_, n) => `${room.id}-${String(n + 1).padStart(2, '0')}`),
  }));
}

async function roomBoard(runtime: Runtime, from: string, days: number) {
  const start = dayStart(from);
  const end = start + days * DAY_MS;
  const dates = Array.from({ length: days }, (_, n) => beijingDate(start + n * DAY_MS + 12 * 3600 * 1000));
  const inWindow = (await runtime.ledger.bookings({ from: start, to: end })).sort((a, b) => a.start - b.start || a.resource.localeCompare(b.resource));
  const capped = inWindow.length > LIMITS.roomBoardItems;
  const bookings = inWindow.slice(0, LIMITS.roomBoardItems);

  // one read of the ledger per request (a hall request covers several seats)
  const owners = [...new Set(bookings.map((booking) => booking.owner))];
  const requests = await runtime.ledger.requestStates(owners);
  // the ids of the message that made each decision (no personal data: codes and numbers)
  const ids = new Map<string, Record<string, string>>();
  await Promise.all(
    owners.map(async (owner) => {
      const partner = owner.slice(0, owner.indexOf(':'));
      const trackingNo = requests.get(owner)?.trackingNo;
      if (!trackingNo || !isPartnerId(runtime.adapters, partner)) return;
      ids.set(owner, await runtime.messages.searchIds(partner, trackingNo));
    }),
  );

  const now = runtime.clock.now();
  return {
    from,
    days,
    generatedAt: new Date(now).toISOString(),
    openingHours: runtime.config.ledger.openingHours,
    bufferMinutes: runtime.config.ledger.bufferMinutes,
    rooms: boardRows(runtime),
    dates: dates.map((date) => ({
      date,
      weekday: new Date(`${date}T12:00:00+08:00`).getUTCDay(),
      closed: runtime.calendar.isClosed(date),
      // no State Council notice for that year yet: Monday to Friday is assumed
      provisional: !runtime.calendar.isPublished(Number(date.slice(0, 4))),
    })),
    bookings: bookings.map((booking) => {
      const colon = booking.owner.indexOf(':');
      const request = requests.get(booking.owner);
      const state = request?.state ?? 'unknown';
      const holdUntil = request?.holdUntil;
      return {
        resource: booking.resource,
        owner: booking.owner,
        partner: booking.owner.slice(0, colon),
        requestId: booking.owner.slice(colon + 1),
        start: new Date(booking.start).toISOString(),
        end: new Date(booking.end).toISOString(),
        kind: state === 'held' ? 'hold' : 'booking',
        state,
        holdUntil: state === 'held' ? iso(holdUntil) : null,
        holdExpired: state === 'held' && holdUntil !== undefined && holdUntil <= now,
        seats: request?.seats ?? null,
        roomId: request?.roomId ?? null,
        trackingNo: request?.trackingNo ?? null,
        ids: ids.get(booking.owner) ?? {},
        // the host's evaluation (Zhuzhou as guest), and the end as booked when its end freed the room earlier
        lifecycle: request?.lifecycle ? { status: request.lifecycle.status, at: new Date(request.lifecycle.at).toISOString() } : null,
        bookedEnd: iso(request?.bookedEnd),
      };
    }),
    capped,
  };
}

// ---------------------------------------------------------------- routes

type Handler = (req: Request, res: Response) => Promise<void>;

/** Express 5 forwards a rejected promise to the error handler; this only adds `no-store`. */
function json(handler: Handler) {
  return async (req: Request, res: Response, next: NextFunction) => {
    res.set('Cache-Control', 'no-store');
    try {
      await handler(req, res);
    } catch (error) {
      next(error);
    }
  };
}

/** the periodic jobs as the overview's Chinese reasons name them (the page itself: i18n.js) */
const PERIODIC_JOB_NAMES_ZH: Record<string, string> = {
  'availability-poll': '拉取长沙空闲席位',
  'availability-publish': '发布株洲空闲席位',
  'hold-sweep': '保留到期清理',
  'stranded-sweep': '失联消息补排',
  reconciliation: '与省平台对账',
  retention: '过期数据清理',
};

/** With REDIS_WAIT_REPLICAS, a master short of replicas makes every partner message a 503. */
async function replicaReasons(runtime: Runtime): Promise<Reason[]> {
  const required = runtime.config.redis.waitReplicas;
  if (required === 0) return [];
  const connected = await connectedReplicas(runtime.redis).catch(() => undefined);
  if (connected !== undefined && connected >= required) return [];
  const count = connected === undefined ? '?' : String(connected);
  return [
    {
      scope: 'redis',
      code: 'REPLICAS_MISSING',
      health: 'red',
      zh: `Redis 副本不足（${count} / ${required}）：合作方的每条消息都将得到 503，直到副本连上`,
      en: `Redis has ${count} of the ${required} replica(s) REDIS_WAIT_REPLICAS asks for: every partner message gets 503 until they connect`,
    },
  ];
}

export async function overview(runtime: Runtime) {
  const [queues, stats, breakers, deadLetters, runs, lastRun, completedPeriodic, failedPeriodic, storeReasons, waiting, stranded] = await Promise.all([
    Promise.all(dashboardQueues(runtime).map((named) => queueView(runtime, named))),
    runtime.telemetry.statistics.partnerStats(),
    runtime.telemetry.statistics.breakerStates(),
    runtime.deadLetters.newest(LIMITS.deadLetterScan),
    runtime.reconciliations.recent(6),
    runtime.reconciliations.last(),
    runtime.periodicQueue.getJobs(['completed'], 0, 9),
    runtime.periodicQueue.getJobs(['failed'], 0, 4),
    replicaReasons(runtime),
    Promise.all((Object.keys(runtime.outboundQueues) as PartnerId[]).map(async (partner) => [partner, await waitingAnswersView(runtime, partner)] as const)),
    runtime.strandedSweeps.summary(),
  ]);
  const waitingByPartner = new Map<string, WaitingAnswersView>(waiting);
  const partners = stats.map((partner) => partnerView(partner, breakers.find((entry) => entry.partner === partner.partner), waitingByPartner.get(partner.partner)));

  const pending = deadLetters.letters.filter((letter) => deadLetterStatus(letter) === 'pending');
  const deadLetterReasons: Reason[] =
    pending.length > 0
      ? [{ scope: 'dead-letters', code: 'DEAD_LETTERS_PENDING', health: 'red', zh: `${pending.length} 条死信待处理（重放或丢弃）`, en: `${pending.length} dead letter(s) waiting for an operator (replay or discard)` }]
      : [];

  const now = runtime.clock.now();
  const schedulerReasons: Reason[] = [];
  const catchUpMs = runtime.config.periodic.catchUpAfterHours * 3600 * 1000;
  if (lastRun === undefined) {
    schedulerReasons.push({ scope: 'scheduler', code: 'RECONCILIATION_NEVER', health: 'amber', zh: '尚未与省平台对账', en: 'no reconciliation with the province has run yet' });
  } else if (now - lastRun > catchUpMs) {
    const hours = Math.floor((now - lastRun) / 3600_000);
    schedulerReasons.push({ scope: 'scheduler', code: 'RECONCILIATION_OVERDUE', health: 'amber', zh: `上次对账在 ${hours} 小时前`, en: `last reconciliation finished ${hours} h ago` });
  }
  const summaries = runs.map(runSummary);
  // the latest run of each partner speaks for it
  const latestByPartner = new Map<string, ReturnType<typeof runSummary>>();
  for (const run of summaries) if (!latestByPartner.has(run.partner)) latestByPartner.set(run.partner, run);
  for (const run of latestByPartner.values()) schedulerReasons.push(...run.reasons);
  // a message that lost its job means someone removed queue entries: worth a look even though it was queued again
  if (stranded.lastRequeuedAt !== undefined && now - stranded.lastRequeuedAt < DAY_MS) {
    schedulerReasons.push({
      scope: 'scheduler',
      code: 'STRANDED_REQUEUED',
      health: 'amber',
      zh: `最近 24 小时有已受理消息失去队列任务，已自动重新入队（最近一次 ${stranded.lastRequeued} 条，累计 ${stranded.requeuedTotal} 条）`,
      en: `accepted messages lost their queue jobs in the last 24 h and were queued again (${stranded.lastRequeued} last time, ${stranded.requeuedTotal} in all)`,
    });
  }
  const recentFailures = failedPeriodic.filter((job) => (job.finishedOn ?? 0) > Date.now() - DAY_MS);
  if (recentFailures.length > 0) {
    schedulerReasons.push({
      scope: 'scheduler',
      code: 'PERIODIC_FAILED',
      health: 'amber',
      zh: `最近 24 小时有 ${recentFailures.length} 个定时任务失败（${[...new Set(recentFailures.map((job) => PERIODIC_JOB_NAMES_ZH[job.name] ?? job.name))].join('、')}）`,
      en: `${recentFailures.length} periodic job(s) failed in the last 24 h (${[...new Set(recentFailures.map((job) => job.name))].join(', ')})`,
    });
  }
  // the calendar must know this year and the reach of availability
  const calendarReasons: Reason[] = [];
  const horizon = runtime.config.partners.changsha.availability.horizonDays;
  for (const year of new Set([beijingDate(now), beijingDate(now + horizon * DAY_MS)].map((date) => Number(date.slice(0, 4))))) {
    if (!runtime.calendar.isPublished(year)) {
      calendarReasons.push({ scope: 'calendar', code: 'CALENDAR_PROVISIONAL', health: 'amber', zh: `${year} 年节假日安排尚未收录：按周一至周五（除元旦）计算`, en: `no holiday notice for ${year} in the calendar: Monday to Friday (minus 1 January) assumed` });
    }
  }

  const reasons = [...storeReasons, ...partners.flatMap((partner) => partner.reasons), ...queues.flatMap((queue) => queue.reasons), ...deadLetterReasons, ...schedulerReasons, ...calendarReasons];
  return {
    generatedAt: new Date(now).toISOString(),
    health: worst(reasons),
    reasons,
    thresholds: THRESHOLDS,
    partners,
    queues,
    deadLetters: {
      pending: pending.length,
      oldestPendingAt: pending.at(-1)?.at ?? null,
      total: deadLetters.total,
      scanned: deadLetters.letters.length,
      capped: deadLetters.total > deadLetters.letters.length,
      health: worst(deadLetterReasons),
      reasons: deadLetterReasons,
    },
    stranded: { requeuedTotal: stranded.requeuedTotal, lastSweepAt: iso(stranded.lastSweepAt), lastRequeuedAt: iso(stranded.lastRequeuedAt), lastRequeued: stranded.lastRequeued },
    scheduler: {
      lastReconciliationAt: iso(lastRun),
      reconciliations: summaries,
      periodic: [...completedPeriodic.map((job) => periodicJob(job, 'completed')), ...failedPeriodic.map((job) => periodicJob(job, 'failed'))]
        .sort((a, b) => (b.finishedAt ?? '').localeCompare(a.finishedAt ?? ''))
        .slice(0, LIMITS.periodicJobs),
      health: worst(schedulerReasons),
      reasons: schedulerReasons,
    },
    calendar: { health: worst(calendarReasons), reasons: calendarReasons },
  };
}

/** GET /ops/api/{meta,overview,rooms,messages,dead-letters,security,reconciliations}: the pages' data. */
export function opsViewRoutes(runtime: Runtime, auth: OpsAuth): Router {
  const router = express.Router();
  const viewer = auth.requireRole('viewer');
  const partners = () => Object.keys(runtime.adapters);

  router.get(
    '/ops/api/meta',
    viewer,
    json((req, res) => {
      res.json({
        user: req.session.operator,
        center: runtime.config.center,
        idleMinutes: runtime.config.ops.idleMinutes,
        partners: partners(),
        queues: dashboardQueues(runtime).map(({ queue, kind, partner }) => ({ name: queue.name, kind, partner: partner ?? null })),
        rooms: boardRows(runtime).map(({ id, kind, seats, address }) => ({ id, kind, seats, address })),
        openingHours: runtime.config.ledger.openingHours,
        securityKinds: SECURITY_KINDS,
        exceptionTypes: ['ROOM_FAULT', 'NETWORK_FAULT', 'EXPERT_ABSENT', 'OTHER'],
        searchKinds: SEARCH_KINDS,
        thresholds: THRESHOLDS,
        limits: LIMITS,
        today: beijingDate(runtime.clock.now()),
      });
      return Promise.resolve();
    }),
  );

  router.get(
    '/ops/api/overview',
    viewer,
    json(async (_req, res) => {
      res.json(await overview(runtime));
    }),
  );

  router.get(
    '/ops/api/rooms',
    viewer,
    json(async (req, res) => {
      const from = text(req, 'from', 10) ?? beijingDate(runtime.clock.now());
      if (!DATE.test(from) || !Number.isFinite(dayStart(from))) {
        problem(res, 400, '日期格式应为 yyyy-MM-dd / from: a date yyyy-MM-dd');
        return;
      }
      res.json(await roomBoard(runtime, from, integer(req, 'days', 1, 1, LIMITS.roomBoardDays)));
    }),
  );

  router.get(
    '/ops/api/messages',
    viewer,
    json(async (req, res) => {
      const limit = integer(req, 'limit', 50, 1, LIMITS.messages);
      const q = text(req, 'q', 128);
      const kindParam = text(req, 'kind', 20);
      const kind = SEARCH_KINDS.find((candidate) => candidate === kindParam);
      const partner = text(req, 'partner', 40);
      if (partner !== undefined && !isPartnerId(runtime.adapters, partner)) {
        problem(res, 400, '未知的合作方 / partner: unknown');
        return;
      }
      let trackingNos: string[];
      if (q !== undefined) {
        trackingNos = await searchById(runtime, q, kind ? [kind] : SEARCH_KINDS);
      } else {
        const to = instant(req, 'to') ?? runtime.clock.now();
        const from = instant(req, 'from') ?? to - DAY_MS;
        if (from > to) {
          problem(res, 400, '起始时间不能晚于结束时间 / from must not be after to');
          return;
        }
        trackingNos = await searchByTime(runtime, partner ? [partner] : partners(), from, to, limit);
      }
      const total = trackingNos.length;
      const summaries = await Promise.all(trackingNos.slice(0, limit).map((trackingNo) => messageSummary(runtime, trackingNo)));
      const items = summaries.filter((item): item is RecordSummary => item !== undefined && (partner === undefined || item.partner === partner));
      items.sort((a, b) => (b.receivedAt ?? '').localeCompare(a.receivedAt ?? ''));
      res.json({ items, total, capped: total > limit });
    }),
  );

  router.get(
    '/ops/api/messages/:trackingNo',
    viewer,
    json(async (req, res) => {
      const trackingNo = String(req.params['trackingNo']).slice(0, 128);
      const message = await messageDetail(runtime, trackingNo);
      if (!message) {
        problem(res, 404, '未找到消息 / No such message');
        return;
      }
      res.json(message);
    }),
  );

  router.get(
    '/ops/api/dead-letters',
    viewer,
    json(async (req, res) => {
      const filter = deadLetterFilter(req);
      const limit = integer(req, 'limit', 100, 1, LIMITS.deadLetters);
      const { letters, total } = await runtime.deadLetters.newest(LIMITS.deadLetterScan);
      const counts = { pending: 0, replayed: 0, discarded: 0 };
      for (const letter of letters) counts[deadLetterStatus(letter)] += 1;
      const matching = letters.filter((letter) => matches(letter, filter));
      res.json({
        filter,
        items: matching.slice(0, limit).map(letterSummary),
        matching: matching.length,
        counts,
        total,
        scanned: letters.length,
        capped: total > letters.length || matching.length > limit,
        queues: [...new Set([...dashboardQueues(runtime).map(({ queue }) => queue.name), ...letters.map((letter) => letter.queue)])],
      });
    }),
  );

  router.get(
    '/ops/api/dead-letters/:id',
    viewer,
    json(async (req, res) => {
      const letter = await runtime.deadLetters.get(String(req.params['id']).slice(0, 64));
      if (!letter) {
        problem(res, 404, '未找到死信 / No such dead letter');
        return;
      }
      res.json({ ...letterSummary(letter), data: redact(letter.data), message: await messageSummary(runtime, letter.trackingNo) ?? null });
    }),
  );

  router.get(
    '/ops/api/security',
    viewer,
    json(async (req, res) => {
      const partner = text(req, 'partner', 40);
      const kindParam = text(req, 'kind', 20);
      const kind = SECURITY_KINDS.find((candidate) => candidate === kindParam);
      const limit = integer(req, 'limit', 200, 1, LIMITS.securityEvents);
      const days = integer(req, 'days', 7, 1, 31);
      const [events, daily, stats] = await Promise.all([
        runtime.telemetry.statistics.securityEvents({ ...(partner ? { partner } : {}), ...(kind ? { kind } : {}), limit }),
        runtime.telemetry.statistics.securityDailyCounts({ days }),
        runtime.telemetry.statistics.partnerStats(),
      ]);
      res.json({
        events,
        daily,
        byPartner: stats.map((entry) => ({
          partner: entry.partner,
          last15m: { total: entry.last15m.answers.total, '4xx': entry.last15m.answers['4xx'], '5xx': entry.last15m.answers['5xx'], errorRate: entry.last15m.errorRate },
          last1h: { total: entry.last1h.answers.total, '4xx': entry.last1h.answers['4xx'], '5xx': entry.last1h.answers['5xx'], errorRate: entry.last1h.errorRate },
        })),
        kinds: SECURITY_KINDS,
      });
    }),
  );

  router.get(
    '/ops/api/reconciliations',
    viewer,
    json(async (req, res) => {
      const runs = await runtime.reconciliations.recent(integer(req, 'limit', 20, 1, LIMITS.reconciliationRuns));
      const cut = <T>(list: T[]) => list.slice(0, LIMITS.runListItems);
      res.json({
        items: runs.map((run) => ({
          ...runSummary(run),
          days: run.days,
          missed: cut(run.missed),
          different: cut(run.different),
          extra: cut(run.extra),
          pending: cut(run.pending),
          errors: cut(run.errors.map((error) => redact(error) as string)),
          counts: { missed: run.missed.length, different: run.different.length, extra: run.extra.length, pending: run.pending.length, errors: run.errors.length },
        })),
      });
    }),
  );

  return router;
}
