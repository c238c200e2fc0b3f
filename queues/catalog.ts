import type { JobsOptions } from 'bullmq';
import type { PartnerId } from '../adapters/types.ts';

/** Every job the gateway runs, by queue and name; each worker handles all of its entries. */
export interface InboundJobs {
  /** decode a recorded message and act on it */
  process: { partner: PartnerId; trackingNo: string };
  /** a change or cancel still waiting for its original goes to operators */
  'held-timeout': { partner: PartnerId; trackingNo: string; requestId: string; replaces: string };
  /** an offered hold lapses unless confirmed by then */
  'hold-expiry': { partner: PartnerId; trackingNo: string; requestId: string; offerId: string };
}

export interface PeriodicJobs {
  /** fetch a partner's availability and keep it for the dashboard */
  'availability-poll': { partner: PartnerId };
  /** send Zhuzhou's availability to every partner that exchanges it */
  'availability-publish': { reason: string };
  /** release holds whose delayed expiry job did not run (the safety net) */
  'hold-sweep': Record<string, never>;
  'stranded-sweep': Record<string, never>;
  /** host evaluations due: a deadline, a Changsha hold's confirm margin, an outbox a stopped process left */
  'host-sweep': Record<string, never>;
  /** compare the province's schedule with the ledger over the coming working days */
  reconciliation: { reason: string };
  /** purge records, traces and dead letters older than the retention period */
  retention: Record<string, never>;
}

export interface OutboundJobs {
  /**
   * attemptsBefore: attempts made before the job was queued (a worker's direct first attempt);
   * firstAttemptAt: when the message was first tried or queued (the gateway's clock, ms), from
   * which its retry horizon runs; a job queued before it was kept counts from its own add time
   */
  deliver: {
    partner: PartnerId;
    operation: string;
    messageId: string;
    body: Record<string, unknown>;
    trackingNo: string;
    attemptsBefore?: number;
    firstAttemptAt?: number;
    /** a host application: its answer (the partner's id of it) goes back to this evaluation */
    answerTo?: { evaluationId: string; change?: number; cancel?: boolean };
  };
}

/** When a delivery's retry horizon started: its first attempt or queueing, else (a job from before it was kept) the job's add time. */
export function firstAttemptAt(job: { data?: unknown; timestamp?: number }): number | undefined {
  const kept = (job.data as { firstAttemptAt?: unknown } | undefined)?.firstAttemptAt;
  return typeof kept === 'number' ? kept : job.timestamp;
}

export type InboundJobName = keyof InboundJobs;

export const PERIODIC_JOB_OPTIONS: JobsOptions = {
  attempts: 3,
  backoff: { type: 'exponential', delay: 5000, jitter: 0.5 },
  removeOnComplete: { age: 24 * 3600, count: 10_000 },
  removeOnFail: { age: 7 * 24 * 3600 },
};

/**
 * How long a completed job stays, by its id. An add with the id of a kept job is
 * ignored; the adds that count on it come within minutes of the first: a repeat
 * that read its record as `received` just before its job finished, a retried job
 * queueing its answer or resuming a held message again (retries end within
 * minutes, 8 attempts from 1 s). A repeat after that finds its record
 * `processed` and adds nothing. An hour covers them, and the overview's last
 * 15 minutes of completed jobs; a day cost about 750 bytes a message of Redis
 * memory for nothing (issue 16).
 */
export const COMPLETED_JOB_SECONDS = 3600;

/** Failed ones go to the dead-letter store too. */
export const INBOUND_JOB_OPTIONS: JobsOptions = {
  attempts: 8,
  backoff: { type: 'exponential', delay: 1000, jitter: 0.5 },
  removeOnComplete: { age: COMPLETED_JOB_SECONDS, count: 100_000 },
  removeOnFail: { age: 7 * 24 * 3600 },
};

/**
 * BullMQ wants a number of attempts; the retry horizon (`retryHours`) is what
 * ends a delivery, so this count is only a bound it never reaches: every
 * retry but the one at the horizon waits at least half the first delay, and
 * waiting for an open circuit spends no attempt.
 */
export function outboundJobOptions(delivery: { backoffBaseMs: number; backoffMaxMs: number; retryHours: number }): JobsOptions {
  const shortestDelayMs = Math.max(1, Math.min(delivery.backoffBaseMs, delivery.backoffMaxMs) / 2);
  return {
    attempts: Math.ceil((delivery.retryHours * 3_600_000) / shortestDelayMs) + 10,
    // the worker's backoff strategy honours Retry-After and applies jitter
    backoff: { type: 'partner' },
    removeOnComplete: { age: COMPLETED_JOB_SECONDS, count: 100_000 },
    removeOnFail: { age: 7 * 24 * 3600 },
  };
}
