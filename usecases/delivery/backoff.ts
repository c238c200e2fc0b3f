import { firstAttemptAt } from '../../queues/catalog.ts';

export interface BackoffBounds {
  /** the delay doubles for this many attempts at most, then stays (the `*_DELIVERY_ATTEMPTS` setting) */
  doublings?: number;
  /** the retry horizon: no retry is put off past it (`*_RETRY_HOURS`) */
  horizonMs?: number;
  /** the clock `firstAttemptAt` was taken by */
  now?: () => number;
}

/** A partner's retry horizon in milliseconds. */
export function retryHorizonMs(delivery: { retryHours: number }): number {
  return Math.round(delivery.retryHours * 3_600_000);
}

/** When a delivery job's retry horizon runs out; a job that says nothing of its start has none. */
export function retryDeadline(job: { data?: unknown; timestamp?: number }, horizonMs: number): number {
  const start = firstAttemptAt(job);
  return start === undefined ? Infinity : start + horizonMs;
}

/**
 * Exponential backoff with full jitter, never shorter than the partner's
 * Retry-After, up to `maxMs` even when the partner asks for longer: a partner
 * that answers a year would otherwise park the message out of sight (the
 * attempt counts the answers it clamps, usecases/delivery/attempt.ts). A job
 * that carries `attemptsBefore` (its first attempt was made directly)
 * continues that count. With a horizon, the last retry is made at the horizon
 * rather than after it, so a message is handed to operators when its time is
 * up, not up to a whole delay later.
 */
export function partnerBackoff(baseMs: number, maxMs: number, random: () => number = Math.random, bounds: BackoffBounds = {}) {
  return (attemptsMade: number, _type?: string, error?: Error, job?: { data?: unknown; timestamp?: number }): number => {
    const before = (job?.data as { attemptsBefore?: unknown } | undefined)?.attemptsBefore;
    const attempts = Math.min(attemptsMade + (typeof before === 'number' ? before : 0), bounds.doublings ?? Infinity);
    const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempts - 1));
    const jittered = Math.round(ceiling / 2 + random() * (ceiling / 2));
    const retryAfter = (error as { retryAfterMs?: unknown } | undefined)?.retryAfterMs;
    const delay = typeof retryAfter === 'number' ? Math.max(Math.min(retryAfter, maxMs), jittered) : jittered;
    if (bounds.horizonMs === undefined || bounds.now === undefined || job === undefined) return delay;
    return Math.max(0, Math.min(delay, retryDeadline(job, bounds.horizonMs) - bounds.now()));
  };
}
