/**
 * The checker, in the manner of Jepsen's total-queue checker: it reads the
 * load generator's own history (every message, every attempt, which were
 * acknowledged), what reached the partner simulators, and what Redis holds
 * at the end (ledger, dead letters, queues, intake records), and says what
 * was lost, repeated, double-booked or left stuck.
 */
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { GatewayConfig } from '../config/index.ts';
import { Keys } from '../kernel/redis/keys.ts';
import { HOST_PARTNER, RoomLedger, type Booking } from '../ledger/index.ts';
import type { DeadLetter } from '../stores/dead-letters.ts';
import { INBOUND_QUEUE, outboundQueue, PERIODIC_QUEUE } from '../queues/names.ts';
import type { Answer, AnswerLog, FaultWindow, Operation, PartnerKind } from './history.ts';

/** Delayed jobs that are meant to wait past the run: hold expiries and held-original timeouts. */
const SCHEDULED_JOB_NAMES = new Set(['hold-expiry', 'held-timeout']);
const STUCK_STATES = ['waiting', 'active', 'prioritized', 'waiting-children'] as const;
const PARTNERS: readonly PartnerKind[] = ['province', 'changsha'];

export interface LostMessage {
  kind: PartnerKind;
  id: string;
  messageKey: string;
  trackingNo: string;
  ackedAt: string;
  /** intake record state in Redis, or `missing` when Redis no longer has the record */
  record: string;
  /** the ledger's state of the request, or `none` */
  ledger: string;
  deadLetter?: string;
}

export interface CheckResult {
  valid: boolean;
  /** what failed, in words; empty when valid */
  violations: string[];
  counts: {
    /** messages the generator created */
    attempted: number;
    /** HTTP attempts, first sends and repeats together */
    httpAttempts: number;
    /** acknowledged by the gateway (200 / 202 with a tracking number) */
    acknowledged: number;
    /** acknowledged and answered at the partner */
    answered: number;
    /** acknowledged, not answered, in the dead letters because the partner refused the answer */
    refusedByPartner: number;
    /** acknowledged and neither answered nor refused by the partner: must be 0 */
    lost: number;
    /** never acknowledged (still unanswered or refused by the gateway when the run ended) */
    unacknowledged: number;
    /** of those, answered anyway (the gateway had recorded an attempt whose answer was lost): allowed */
    recovered: number;
    /** answers beyond the first for one request (at-least-once repeats) */
    duplicatedAnswers: number;
    /** requests that got more than one answer */
    requestsAnsweredMoreThanOnce: number;
    /** requests whose answers carried different message ids or contents: must be 0 */
    conflictingAnswers: number;
    /** answers for requests never sent: must be 0 */
    unexpectedAnswers: number;
    approved: number;
    rejected: number;
    offered: number;
    declined: number;
  };
  ledger: {
    bookings: number;
    /** two bookings of one room or seat that overlap: must be 0 */
    doubleBookings: number;
    /** two bookings closer than the turnover buffer: must be 0 */
    bufferViolations: number;
    /** a host evaluation's change hold beside its own booking, overlapping or within the buffer (ledger rule 7): allowed */
    makeBeforeBreak: number;
    /** a request booked in more than one room: must be 0 */
    requestsInSeveralRooms: number;
    /** answers that disagree with the ledger (approved without a booking, rejected with one, other room or seats): must be 0 */
    answerLedgerMismatches: number;
    examples: string[];
  };
  stuck: {
    /** jobs waiting, active, paused or delayed (other than scheduled hold expiries and held timeouts) per queue */
    jobs: Record<string, number>;
    scheduledJobs: number;
    /** intake records by state */
    records: Record<string, number>;
    /** records still `received` or `queued`: must be 0 */
    stuckRecords: number;
    /** of those, records whose inbound job completed all the same (the state was written back after processing) */
    stuckRecordsProcessed: number;
    examples: string[];
  };
  deadLetters: {
    total: number;
    byReason: Record<string, number>;
    /** dead letters that are not a partner's refusal: must be 0 */
    notRefusals: number;
    /** jobs failed for good without a dead letter: must be 0 */
    failedWithoutDeadLetter: number;
  };
  lost: LostMessage[];
  /** answers the partner simulators refused for their signature or form (must be 0) */
  badSignatures: number;
}

export interface CheckInput {
  operations: readonly Operation[];
  answers: AnswerLog;
  redis: Redis;
  config: Readonly<GatewayConfig>;
  badSignatures: number;
}

function reasonCode(reason: string): string {
  return reason.split(':')[0]?.trim() || 'unknown';
}

async function allDeadLetters(redis: Redis, keys: Keys): Promise<DeadLetter[]> {
  const ids = await redis.zrange(keys.deadLetters.byTime, '0', '-1');
  const letters: DeadLetter[] = [];
  for (let i = 0; i < ids.length; i += 500) {
    const pipeline = redis.pipeline();
    for (const id of ids.slice(i, i + 500)) pipeline.hget(keys.deadLetters.entry(id), 'json');
    for (const [, json] of (await pipeline.exec()) ?? []) if (typeof json === 'string') letters.push(JSON.parse(json) as DeadLetter);
  }
  return letters;
}

/** Intake record state by tracking number, for both partners. */
async function recordStates(redis: Redis, keys: Keys): Promise<Map<string, string>> {
  const states = new Map<string, string>();
  for (const partner of PARTNERS) {
    const intake = keys.intake(partner);
    const trackingNos = await redis.zrange(intake.byTime, '0', '-1');
    for (let i = 0; i < trackingNos.length; i += 500) {
      const batch = trackingNos.slice(i, i + 500);
      const pipeline = redis.pipeline();
      for (const trackingNo of batch) pipeline.hget(intake.record(trackingNo), 'state');
      const results = (await pipeline.exec()) ?? [];
      batch.forEach((trackingNo, n) => {
        const state = results[n]?.[1];
        states.set(trackingNo, typeof state === 'string' ? state : 'missing');
      });
    }
  }
  return states;
}

function overlaps(a: Booking, b: Booking, margin = 0): boolean {
  return a.start < b.end + margin && b.start < a.end + margin;
}

/** `host:<evaluation>` or `host:<evaluation>:C<n>`: the evaluation and its change (0 for its first plan); undefined for any other owner. */
function hostOwnerParts(owner: string): { evaluationId: string; change: number } | undefined {
  const match = new RegExp(`^${HOST_PARTNER}:([^:]+)(?::C([1-9][0-9]*))?$`).exec(owner);
  if (!match?.[1]) return undefined;
  return { evaluationId: match[1], change: match[2] === undefined ? 0 : Number(match[2]) };
}

/**
 * Whether two owners on one resource are make before break (ledger rule 7):
 * a host evaluation's change hold (`host:<evaluation>:C<n>`) beside that same
 * evaluation's own booking (`host:<evaluation>`, or another of its changes).
 * Its old booking counts as free for the change, so the two may overlap; the
 * owners of two evaluations, or of any partner, may not.
 */
export function isMakeBeforeBreak(a: string, b: string): boolean {
  const first = hostOwnerParts(a);
  const second = hostOwnerParts(b);
  if (!first || !second || first.evaluationId !== second.evaluationId) return false;
  return first.change !== second.change && (first.change > 0 || second.change > 0);
}

export interface LedgerClashes {
  /** pairs overlapping on one resource, make before break aside */
  doubleBookings: number;
  /** pairs closer than the buffer, make before break aside */
  bufferViolations: number;
  /** pairs of a host evaluation's change hold and its own booking overlapping or within the buffer: allowed */
  makeBeforeBreak: number;
  examples: string[];
}

/** Bookings of one resource that overlap, or come closer than the turnover buffer. */
export function ledgerClashes(bookings: readonly Booking[], bufferMs: number): LedgerClashes {
  const byResource = new Map<string, Booking[]>();
  for (const booking of bookings) byResource.set(booking.resource, [...(byResource.get(booking.resource) ?? []), booking]);
  const result: LedgerClashes = { doubleBookings: 0, bufferViolations: 0, makeBeforeBreak: 0, examples: [] };
  for (const [resource, list] of byResource) {
    list.sort((a, b) => a.start - b.start);
    for (let i = 0; i < list.length; i++) {
      for (let j = i + 1; j < list.length; j++) {
        const a = list[i] as Booking;
        const b = list[j] as Booking;
        if (b.start >= a.end + bufferMs) break;
        if (!overlaps(a, b, bufferMs)) continue;
        if (isMakeBeforeBreak(a.owner, b.owner)) {
          result.makeBeforeBreak++;
        } else if (overlaps(a, b)) {
          result.doubleBookings++;
          if (result.examples.length < 10) result.examples.push(`${resource} booked twice: ${a.owner} and ${b.owner}`);
        } else {
          result.bufferViolations++;
          if (result.examples.length < 10) result.examples.push(`${resource}: ${a.owner} and ${b.owner} closer than the buffer`);
        }
      }
    }
  }
  return result;
}

/** Jobs left in each queue, and failed jobs that never reached the dead letters. */
async function queueState(redis: Redis, keys: Keys, letters: readonly DeadLetter[]) {
  const names = [INBOUND_QUEUE, outboundQueue('province'), outboundQueue('changsha'), PERIODIC_QUEUE];
  const jobs: Record<string, number> = {};
  let scheduledJobs = 0;
  let failedWithoutDeadLetter = 0;
  const lettered = new Set(letters.map((letter) => `${letter.queue}/${letter.jobId}`));
  const examples: string[] = [];
  for (const name of names) {
    const queue = new Queue(name, { connection: redis, prefix: keys.queuePrefix });
    try {
      const counts = await queue.getJobCounts(...STUCK_STATES);
      let stuck = STUCK_STATES.reduce((sum, state) => sum + (counts[state] ?? 0), 0);
      for (const job of await queue.getJobs(['delayed'])) {
        if (name === INBOUND_QUEUE && SCHEDULED_JOB_NAMES.has(job.name)) scheduledJobs++;
        else stuck++;
      }
      jobs[name] = stuck;
      for (const job of await queue.getJobs(['failed'])) {
        if (!lettered.has(`${name}/${job.id ?? ''}`)) {
          failedWithoutDeadLetter++;
          if (examples.length < 5) examples.push(`${name} job ${job.id ?? '?'} failed (${job.failedReason}) without a dead letter`);
        }
      }
    } finally {
      await queue.close();
    }
  }
  return { jobs, scheduledJobs, failedWithoutDeadLetter, examples };
}

export async function check(input: CheckInput): Promise<CheckResult> {
  const { operations, answers, redis, config } = input;
  const keys = new Keys(config.redis.namespace);
  const ledger = new RoomLedger(redis, keys, config.ledger.rooms, config.ledger.bufferMinutes);
  const violations: string[] = [];
  const letters = await allDeadLetters(redis, keys);
  const states = await recordStates(redis, keys);
  const bookings = await ledger.bookings();
  const queues = await queueState(redis, keys, letters);

  // --- every acknowledged message answered, or refused by its partner
  const lettersByTrackingNo = new Map<string, DeadLetter[]>();
  for (const letter of letters) {
    const list = lettersByTrackingNo.get(letter.trackingNo) ?? [];
    list.push(letter);
    lettersByTrackingNo.set(letter.trackingNo, list);
  }
  const sent = new Map<string, Operation>();
  for (const operation of operations) sent.set(`${operation.kind}:${operation.id}`, operation);
  const lost: LostMessage[] = [];
  let acknowledged = 0;
  let answered = 0;
  let refusedByPartner = 0;
  let unacknowledged = 0;
  let recovered = 0;
  for (const operation of operations) {
    const got = answers[operation.kind].get(operation.id) ?? [];
    if (operation.ackedAt === undefined) {
      unacknowledged++;
      if (got.length > 0) recovered++;
      continue;
    }
    acknowledged++;
    if (got.length > 0) {
      answered++;
      continue;
    }
    const trackingNo = operation.trackingNo ?? '';
    const own = lettersByTrackingNo.get(trackingNo) ?? [];
    if (own.some((letter) => letter.reason.startsWith('DELIVERY_REFUSED'))) {
      refusedByPartner++;
      continue;
    }
    const decided = await ledger.describe(operation.kind, operation.id);
    lost.push({
      kind: operation.kind,
      id: operation.id,
      messageKey: operation.messageKey,
      trackingNo,
      ackedAt: new Date(operation.ackedAt).toISOString(),
      record: states.get(trackingNo) ?? 'missing',
      ledger: decided?.state ?? 'none',
      ...(own[0] ? { deadLetter: own[0].reason } : {}),
    });
  }
  if (lost.length > 0) violations.push(`${lost.length} acknowledged message(s) lost`);

  // --- answers: repeats carry the same id and say the same; none for unknown requests
  let duplicatedAnswers = 0;
  let requestsAnsweredMoreThanOnce = 0;
  let conflictingAnswers = 0;
  let unexpectedAnswers = 0;
  const outcomes: Record<string, number> = { approved: 0, rejected: 0, offered: 0, declined: 0 };
  const conflictExamples: string[] = [];
  for (const kind of PARTNERS) {
    for (const [id, list] of answers[kind]) {
      if (!sent.has(`${kind}:${id}`)) unexpectedAnswers += list.length;
      const first = list[0] as Answer;
      outcomes[first.outcome] = (outcomes[first.outcome] ?? 0) + 1;
      if (list.length > 1) {
        requestsAnsweredMoreThanOnce++;
        duplicatedAnswers += list.length - 1;
      }
      const same = (a: Answer) => a.messageId === first.messageId && a.outcome === first.outcome && a.room === first.room && a.seats.join() === first.seats.join();
      if (!list.every(same)) {
        conflictingAnswers++;
        if (conflictExamples.length < 5) conflictExamples.push(`${kind} ${id}: ${list.map((a) => `${a.messageId} ${a.outcome} ${a.room}`).join(' | ')}`);
      }
    }
  }
  if (conflictingAnswers > 0) violations.push(`${conflictingAnswers} request(s) answered with different message ids or contents: ${conflictExamples.join('; ')}`);
  if (unexpectedAnswers > 0) violations.push(`${unexpectedAnswers} answer(s) for requests never sent`);

  // --- the ledger: no resource booked twice, no request in two rooms, answers agree with it
  // a host evaluation's change hold beside its own booking is make before break (ledger rule 7), not a clash
  const { doubleBookings, bufferViolations, makeBeforeBreak, examples } = ledgerClashes(bookings, config.ledger.bufferMinutes * 60 * 1000);
  const byOwner = new Map<string, Booking[]>();
  for (const booking of bookings) byOwner.set(booking.owner, [...(byOwner.get(booking.owner) ?? []), booking]);
  const roomOf = (resource: string) => config.ledger.rooms.find((room) => resource === room.id || resource.startsWith(`${room.id}-`))?.id ?? resource;
  let requestsInSeveralRooms = 0;
  for (const [owner, list] of byOwner) {
    const rooms = new Set(list.map((booking) => roomOf(booking.resource)));
    if (rooms.size > 1) {
      requestsInSeveralRooms++;
      if (examples.length < 10) examples.push(`${owner} booked in ${[...rooms].join(' and ')}`);
    }
  }
  let answerLedgerMismatches = 0;
  for (const kind of PARTNERS) {
    for (const [id, list] of answers[kind]) {
      const first = list[0] as Answer;
      const own = byOwner.get(`${kind}:${id}`) ?? [];
      const booked = first.outcome === 'approved' || first.outcome === 'offered';
      const room = config.ledger.rooms.find((r) => r.id === first.room);
      const expected = booked ? (room?.kind === 'room' ? [first.room] : first.seats) : [];
      const actual = own.map((booking) => booking.resource);
      if (expected.slice().sort().join() !== actual.slice().sort().join()) {
        answerLedgerMismatches++;
        if (examples.length < 10) examples.push(`${kind} ${id} answered ${first.outcome} ${first.room} but the ledger holds [${actual.join(', ')}]`);
      }
    }
  }
  if (doubleBookings > 0) violations.push(`${doubleBookings} double booking(s)`);
  if (bufferViolations > 0) violations.push(`${bufferViolations} booking(s) closer than the turnover buffer`);
  if (requestsInSeveralRooms > 0) violations.push(`${requestsInSeveralRooms} request(s) booked in several rooms`);
  if (answerLedgerMismatches > 0) violations.push(`${answerLedgerMismatches} answer(s) disagree with the ledger`);

  // --- nothing stuck
  const records: Record<string, number> = {};
  for (const state of states.values()) records[state] = (records[state] ?? 0) + 1;
  const stuckRecords = (records['received'] ?? 0) + (records['queued'] ?? 0);
  const stuckExamples: string[] = [];
  let stuckRecordsProcessed = 0;
  const inbound = new Queue(INBOUND_QUEUE, { connection: redis, prefix: keys.queuePrefix });
  try {
    const answeredTrackingNos = new Map(operations.filter((operation) => operation.trackingNo !== undefined).map((operation) => [operation.trackingNo ?? '', operation]));
    for (const [trackingNo, state] of states) {
      if (state !== 'received' && state !== 'queued') continue;
      const jobState = await inbound.getJobState(trackingNo);
      if (jobState === 'completed') stuckRecordsProcessed++;
      const operation = answeredTrackingNos.get(trackingNo);
      const answeredAt = operation ? answers[operation.kind].get(operation.id)?.[0]?.at : undefined;
      if (stuckExamples.length < 10) {
        stuckExamples.push(`record ${trackingNo} (${operation ? `${operation.kind} ${operation.id}` : 'no acknowledged message'}) is ${state}; its inbound job is ${jobState}; ${answeredAt === undefined ? 'not answered' : 'answered'}`);
      }
    }
  } finally {
    await inbound.close();
  }
  const stuckJobs = Object.values(queues.jobs).reduce((sum, n) => sum + n, 0);
  if (stuckJobs > 0) violations.push(`${stuckJobs} job(s) still waiting, active or delayed: ${JSON.stringify(queues.jobs)}`);
  if (stuckRecords > 0) violations.push(`${stuckRecords} intake record(s) still received or queued (${stuckRecordsProcessed} of them with their inbound job completed): ${stuckExamples.slice(0, 3).join('; ')}`);

  // --- dead letters hold only what the partners refused
  const byReason: Record<string, number> = {};
  let notRefusals = 0;
  for (const letter of letters) {
    const code = reasonCode(letter.reason);
    byReason[code] = (byReason[code] ?? 0) + 1;
    if (code !== 'DELIVERY_REFUSED') notRefusals++;
  }
  if (notRefusals > 0) violations.push(`${notRefusals} dead letter(s) that are not a partner's refusal: ${JSON.stringify(byReason)}`);
  if (queues.failedWithoutDeadLetter > 0) violations.push(`${queues.failedWithoutDeadLetter} job(s) failed without a dead letter: ${queues.examples.join('; ')}`);
  if (input.badSignatures > 0) violations.push(`${input.badSignatures} answer(s) refused by a partner for their signature or form`);

  return {
    valid: violations.length === 0,
    violations,
    counts: {
      attempted: operations.length,
      httpAttempts: operations.reduce((sum, operation) => sum + operation.attempts.length, 0),
      acknowledged,
      answered,
      refusedByPartner,
      lost: lost.length,
      unacknowledged,
      recovered,
      duplicatedAnswers,
      requestsAnsweredMoreThanOnce,
      conflictingAnswers,
      unexpectedAnswers,
      approved: outcomes['approved'] ?? 0,
      rejected: outcomes['rejected'] ?? 0,
      offered: outcomes['offered'] ?? 0,
      declined: outcomes['declined'] ?? 0,
    },
    ledger: { bookings: bookings.length, doubleBookings, bufferViolations, makeBeforeBreak, requestsInSeveralRooms, answerLedgerMismatches, examples },
    stuck: { jobs: queues.jobs, scheduledJobs: queues.scheduledJobs, records, stuckRecords, stuckRecordsProcessed, examples: stuckExamples },
    deadLetters: { total: letters.length, byReason, notRefusals, failedWithoutDeadLetter: queues.failedWithoutDeadLetter },
    lost,
    badSignatures: input.badSignatures,
  };
}

/** How one fault went, from the history: what partners saw, and how long until things were answered again. */
export interface FaultReport {
  name: string;
  description: string;
  windowSeconds: number;
  notes: string[];
  /** messages first sent while the fault lasted */
  sentDuring: number;
  /** HTTP answers other than 200/202 while it lasted, by status (transport errors by code) */
  errorsDuring: Record<string, number>;
  /** the same, in the 10 s after the heal (or until the next fault, if sooner) */
  errorsAfter: Record<string, number>;
  /** acknowledged in the window */
  acknowledgedDuring: number;
  /** repeated answers (same message id) that reached a partner from the injection until the next fault */
  repeatedAnswers: number;
  /** first answers that booked (approved, offered) from the injection until the next fault: the ledger was in use */
  bookingsAnswered: number;
  /** the longest a message first sent in the window waited for its acknowledgement (retries included) */
  longestAckWaitSeconds: number | null;
  /** from the heal until the gateway acknowledged a message again */
  firstAckSeconds: number | null;
  /** from the heal until the first message acknowledged after it was answered at its partner (the recovery time) */
  recoverSeconds: number | null;
  /** from the injection until the last answer (repeats included) to a message acknowledged before it: work in flight finished or taken over */
  inFlightDoneSeconds: number | null;
  /** from the heal until every message acknowledged before the heal was answered (backlog cleared) */
  caughtUpSeconds: number | null;
}

/** `nextInjectedAt`: when the next fault began, which bounds what is counted after this one's heal. */
export function faultReport(window: FaultWindow, operations: readonly Operation[], answers: AnswerLog, nextInjectedAt = Number.POSITIVE_INFINITY): FaultReport {
  const answersOf = (operation: Operation) => answers[operation.kind].get(operation.id) ?? [];
  const firstAnswer = (operation: Operation) => answersOf(operation)[0]?.at;
  const during = (at: number) => at >= window.injectedAt && at < window.healedAt;
  const seconds = (ms: number) => Math.round(Math.max(0, ms) / 100) / 10;
  const errorsDuring: Record<string, number> = {};
  const errorsAfter: Record<string, number> = {};
  const afterHeal = (at: number) => at >= window.healedAt && at < Math.min(window.healedAt + 10_000, nextInjectedAt);
  let sentDuring = 0;
  let acknowledgedDuring = 0;
  let longestAckWait: number | null = null;
  let firstAckAfter = Number.POSITIVE_INFINITY;
  for (const operation of operations) {
    if (during(operation.firstSentAt)) {
      sentDuring++;
      if (operation.ackedAt !== undefined) longestAckWait = Math.max(longestAckWait ?? 0, operation.ackedAt - operation.firstSentAt);
    }
    if (operation.ackedAt !== undefined && during(operation.ackedAt)) acknowledgedDuring++;
    if (operation.ackedAt !== undefined && operation.ackedAt >= window.healedAt) firstAckAfter = Math.min(firstAckAfter, operation.ackedAt);
    for (const attempt of operation.attempts) {
      if (attempt.status === 200 || attempt.status === 202) continue;
      const key = attempt.status === 0 ? (attempt.error ?? 'no answer') : String(attempt.status);
      if (during(attempt.at)) errorsDuring[key] = (errorsDuring[key] ?? 0) + 1;
      if (afterHeal(attempt.at)) errorsAfter[key] = (errorsAfter[key] ?? 0) + 1;
    }
  }
  let repeatedAnswers = 0;
  let bookingsAnswered = 0;
  const inPeriod = (at: number) => at >= window.injectedAt && at < nextInjectedAt;
  for (const log of [answers.province, answers.changsha]) {
    for (const list of log.values()) {
      const [first, ...repeats] = list;
      if (first && inPeriod(first.at) && (first.outcome === 'approved' || first.outcome === 'offered')) bookingsAnswered++;
      for (const answer of repeats) if (inPeriod(answer.at)) repeatedAnswers++;
    }
  }
  // the first message sent after the heal and acknowledged: its answer marks the recovery
  const after = operations
    .filter((operation) => operation.firstSentAt >= window.healedAt && operation.ackedAt !== undefined && firstAnswer(operation) !== undefined)
    .sort((a, b) => a.firstSentAt - b.firstSentAt)[0];
  const afterAnswer = after ? firstAnswer(after) : undefined;
  let inFlightDone = window.injectedAt;
  let caughtUp = window.healedAt;
  for (const operation of operations) {
    if (operation.ackedAt === undefined) continue;
    const list = answersOf(operation);
    if (operation.ackedAt < window.injectedAt) for (const answer of list) inFlightDone = Math.max(inFlightDone, answer.at);
    const first = list[0]?.at;
    if (operation.ackedAt < window.healedAt && first !== undefined) caughtUp = Math.max(caughtUp, first);
  }
  return {
    name: window.name,
    description: window.description,
    windowSeconds: seconds(window.healedAt - window.injectedAt),
    notes: window.notes,
    sentDuring,
    errorsDuring,
    errorsAfter,
    acknowledgedDuring,
    repeatedAnswers,
    bookingsAnswered,
    longestAckWaitSeconds: longestAckWait === null ? null : seconds(longestAckWait),
    firstAckSeconds: Number.isFinite(firstAckAfter) ? seconds(firstAckAfter - window.healedAt) : null,
    recoverSeconds: afterAnswer === undefined ? null : seconds(afterAnswer - window.healedAt),
    inFlightDoneSeconds: seconds(inFlightDone - window.injectedAt),
    caughtUpSeconds: seconds(caughtUp - window.healedAt),
  };
}
