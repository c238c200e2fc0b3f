import type { Job } from 'bullmq';
import type { CircuitBreakerPolicy } from 'cockatiel';
import type { PartnerId } from '../adapters/types.ts';
import type { Logger } from '../kernel/logger.ts';
import { createMetrics, type GatewayMetrics } from './metrics.ts';
import { breakerStateName, Statistics, type BreakerStateName, type DeliveryOutcome, type InboundAnswer, type StatisticsDependencies } from './statistics.ts';

const BREAKER_VALUE: Record<BreakerStateName, number> = { closed: 0, 'half-open': 1, open: 2 };

export interface BreakerWatch {
  /** stops following the breakers and withdraws this process's report */
  stop(): Promise<void>;
}

/**
 * What the gateway tells about itself, one call per event: each call counts
 * the event in this process's Prometheus series and in the statistics every
 * process shares in Redis (the dashboard's figures). Never throws and never
 * makes the caller wait for Redis: a partner's answer must not fail, nor
 * wait, because a statistic could not be written.
 */
export class Telemetry {
  readonly metrics: GatewayMetrics;
  readonly statistics: Statistics;
  readonly #logger: Logger;

  constructor(dependencies: StatisticsDependencies) {
    this.metrics = createMetrics();
    this.statistics = new Statistics(dependencies);
    this.#logger = dependencies.logger;
  }

  /** An answer given to a partner; the returned promise (security events written) never rejects. */
  answered(answer: InboundAnswer): Promise<void> {
    try {
      this.metrics.requests.inc({ partner: answer.partner, status: String(answer.status), code: answer.code });
    } catch (error) {
      this.#logger.debug('answer not counted', { error: error instanceof Error ? error.message : String(error) });
    }
    return this.statistics.answered(answer);
  }

  /** A delivery attempt's outcome, and how long the partner took to answer it (ms). */
  delivered(partner: PartnerId, outcome: DeliveryOutcome, latencyMs?: number): void {
    this.metrics.deliveries.inc({ partner, outcome });
    this.statistics.delivered(latencyMs === undefined ? { partner, outcome } : { partner, outcome, latencyMs });
  }

  /** A partner asked, with Retry-After, for a longer wait than the backoff maximum, and was given the maximum. */
  retryAfterClamped(partner: PartnerId): void {
    this.metrics.retryAfterClamped.inc({ partner });
  }

  /** An answer to a partner by the path of its first attempt (usecases/delivery/direct.ts). */
  answerPath(partner: PartnerId, path: 'direct' | 'queued'): void {
    this.metrics.answerPaths.inc({ partner, path });
  }

  /** How long a job attempt took, from BullMQ's own stamps. */
  jobFinished(job: Job, outcome: 'completed' | 'failed'): void {
    if (!job.processedOn) return;
    // a failed attempt that will be retried may not carry finishedOn
    const finishedOn = job.finishedOn ?? Date.now();
    this.metrics.jobDuration.observe({ queue: job.queueName, name: job.name, outcome }, Math.max(0, finishedOn - job.processedOn) / 1000);
  }

  /** Follows this process's breakers: their state in /metrics (this process) and in Redis (every process, for the dashboard). */
  watchBreakers(breakers: Partial<Record<PartnerId, CircuitBreakerPolicy>>): BreakerWatch {
    const gauge = this.metrics.breakerState;
    const disposers = (Object.entries(breakers) as [PartnerId, CircuitBreakerPolicy][]).map(([partner, breaker]) => {
      gauge.set({ partner }, BREAKER_VALUE[breakerStateName(breaker.state)]);
      return breaker.onStateChange((state) => gauge.set({ partner }, BREAKER_VALUE[breakerStateName(state)]));
    });
    const reporting = this.statistics.startBreakerReporting(breakers);
    return {
      async stop() {
        for (const disposer of disposers) disposer.dispose();
        await reporting.stop();
      },
    };
  }
}
