import express, { type RequestHandler, type Router } from 'express';
import type { Job } from 'bullmq';
import type { PartnerId } from '../../../adapters/types.ts';
import type { ReconciliationRun } from '../../../stores/reconciliation-runs.ts';
import { DAY_MS, beijingDate } from '../../../kernel/beijing-time.ts';
import { redact } from '../../../kernel/pii.ts';
import type { Runtime } from '../../../usecases/runtime.ts';
import { connectedReplicas } from '../../../kernel/redis/replication.ts';
import { waitingAnswers, waitingSince } from '../../../queues/waiting.ts';
import { historyQueues } from '../../../usecases/history-sample.ts';
import type { PartnerBreakerStates, PartnerStats } from '../../../telemetry/statistics.ts';
import { deadLetterStatus, runSummary } from './summaries.ts';
import { LIMITS, THRESHOLDS, dashboardQueues, iso, json, partnerNames, worst, type Health, type NamedQueue, type QueueKind, type Reason } from './shared.ts';

/** The overview (#/overview): partners, queues, dead letters, the scheduler and the calendar, each with its health and why. */

const MINUTE_MS = 60_000;

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

/** GET /ops/api/overview, GET /ops/api/overview/history (the last 24 hours per minute: telemetry/history.ts) */
export function overviewRoutes(runtime: Runtime, viewer: RequestHandler): Router {
  const router = express.Router();

  router.get(
    '/ops/api/overview',
    viewer,
    json(async (_req, res) => {
      res.json(await overview(runtime));
    }),
  );

  router.get(
    '/ops/api/overview/history',
    viewer,
    json(async (_req, res) => {
      const queues = historyQueues(runtime).map((queue) => queue.name);
      res.json(await runtime.telemetry.statistics.history.read(Object.keys(runtime.adapters), queues));
    }),
  );

  return router;
}
