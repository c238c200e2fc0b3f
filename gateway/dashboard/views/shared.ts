import type { NextFunction, Request, Response } from 'express';
import type { Queue } from 'bullmq';
import type { PartnerId } from '../../../adapters/types.ts';
import type { Runtime } from '../../../usecases/runtime.ts';

/**
 * What every page's data shares: the thresholds and limits, health and its
 * reasons, query parsing, the dashboard's queues, and the JSON handler.
 */

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


export function partnerNames(partner: string | null | undefined): { zh: string; en: string } {
  return PARTNER_NAMES[partner ?? ''] ?? { zh: partner ?? '', en: partner ?? '' };
}

export function worst(reasons: readonly Reason[]): Health {
  if (reasons.some((reason) => reason.health === 'red')) return 'red';
  if (reasons.length > 0) return 'amber';
  return 'green';
}

// ---------------------------------------------------------------- query parsing

export function text(req: Request, name: string, max = 200): string | undefined {
  const value = (req.query as Record<string, unknown>)[name];
  if (typeof value !== 'string') return undefined;
  const trimmed = value.trim();
  return trimmed === '' ? undefined : trimmed.slice(0, max);
}

export function integer(req: Request, name: string, fallback: number, min: number, max: number): number {
  const value = Number(text(req, name, 20));
  return Number.isFinite(value) ? Math.min(max, Math.max(min, Math.floor(value))) : fallback;
}

/** An instant given as epoch ms or ISO 8601 (a bare date-time is Beijing time). */
export function instant(req: Request, name: string): number | undefined {
  const value = text(req, name, 40);
  if (value === undefined) return undefined;
  if (/^\d{10,16}$/.test(value)) return Number(value);
  const withZone = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/.test(value) ? `${value}+08:00` : value;
  const ms = Date.parse(withZone);
  return Number.isFinite(ms) ? ms : undefined;
}

export const iso = (ms: number | undefined | null) => (ms === undefined || ms === null || !Number.isFinite(ms) ? null : new Date(ms).toISOString());

// ---------------------------------------------------------------- queues

export type QueueKind = 'inbound' | 'outbound' | 'periodic';

export interface NamedQueue {
  queue: Queue;
  kind: QueueKind;
  partner?: PartnerId;
}

export function dashboardQueues(runtime: Runtime): NamedQueue[] {
  return [
    { queue: runtime.inboundQueue, kind: 'inbound' },
    ...(Object.entries(runtime.outboundQueues) as [PartnerId, Queue][]).map(([partner, queue]) => ({ queue, kind: 'outbound' as const, partner })),
    { queue: runtime.periodicQueue, kind: 'periodic' },
  ];
}

type Handler = (req: Request, res: Response) => Promise<void>;

/** Express 5 forwards a rejected promise to the error handler; this only adds `no-store`. */
export function json(handler: Handler) {
  return async (req: Request, res: Response, next: NextFunction) => {
    res.set('Cache-Control', 'no-store');
    try {
      await handler(req, res);
    } catch (error) {
      next(error);
    }
  };
}
