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
  /** compare the province's schedule with the ledger over the coming working days */
  reconciliation: { reason: string };
  /** purge records, traces and dead letters older than the retention period */
  retention: Record<string, never>;
}

export interface OutboundJobs {
  /** attemptsBefore: attempts made before the job was queued (a worker's direct first attempt) */
  deliver: { partner: PartnerId; operation: string; messageId: string; body: Record<string, unknown>; trackingNo: string; attemptsBefore?: number };
}

export type InboundJobName = keyof InboundJobs;

export const PERIODIC_JOB_OPTIONS: JobsOptions = {
  attempts: 3,
  backoff: { type: 'exponential', delay: 5000, jitter: 0.5 },
  removeOnComplete: { age: 24 * 3600, count: 10_000 },
  removeOnFail: { age: 7 * 24 * 3600 },
};

/** Completed jobs are kept a day (dedupe by job id); failed ones go to the dead-letter store too. */
export const INBOUND_JOB_OPTIONS: JobsOptions = {
  attempts: 8,
  backoff: { type: 'exponential', delay: 1000, jitter: 0.5 },
  removeOnComplete: { age: 24 * 3600, count: 100_000 },
  removeOnFail: { age: 7 * 24 * 3600 },
};

export function outboundJobOptions(delivery: { attempts: number }): JobsOptions {
  return {
    attempts: delivery.attempts,
    // the worker's backoff strategy honours Retry-After and applies jitter
    backoff: { type: 'partner' },
    removeOnComplete: { age: 24 * 3600, count: 100_000 },
    removeOnFail: { age: 7 * 24 * 3600 },
  };
}
