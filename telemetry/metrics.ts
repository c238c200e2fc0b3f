import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * Prometheus series of one gateway process, counted as events happen.
 * Counters and histograms are this process's own (Prometheus sums them over
 * processes, each scraped as its own target: /metrics on PORT for api
 * processes, on METRICS_PORT for the others). Gauges read from Redis at scrape
 * time (queues, ledger) are registered beside them in api processes only, by
 * their /metrics route (gateway/probes.ts).
 */
export interface GatewayMetrics {
  readonly registry: Registry;
  readonly requests: Counter<'partner' | 'status' | 'code'>;
  readonly deliveries: Counter<'partner' | 'outcome'>;
  readonly answerPaths: Counter<'partner' | 'path'>;
  readonly jobDuration: Histogram<'queue' | 'name' | 'outcome'>;
  readonly breakerState: Gauge<'partner'>;
  readonly retryAfterClamped: Counter<'partner'>;
}

/**
 * A registry of its own, not prom-client's global one: tests run several
 * gateways in one process, and each must count only its own.
 */
export function createMetrics(): GatewayMetrics {
  const registry = new Registry();
  const registers = [registry];
  return {
    registry,
    requests: new Counter({
      name: 'zzgw_partner_requests_total',
      help: 'Answers to partner requests, by partner, HTTP status and code (error catalog code, ACCEPTED or REPEATED)',
      labelNames: ['partner', 'status', 'code'],
      registers,
    }),
    deliveries: new Counter({
      name: 'zzgw_deliveries_total',
      help: 'Delivery attempts to partners by outcome: delivered, retry, refused, circuit-open (not attempted)',
      labelNames: ['partner', 'outcome'],
      registers,
    }),
    answerPaths: new Counter({
      name: 'zzgw_answer_paths_total',
      help: "Answers a deciding worker sent, by their first attempt's path: direct (from the job itself) or queued (direct delivery off, the partner paused after a failed or slow attempt, its circuit open, or too many in flight)",
      labelNames: ['partner', 'path'],
      registers,
    }),
    jobDuration: new Histogram({
      name: 'zzgw_job_duration_seconds',
      help: 'Time a worker spent on a job attempt, by queue, job name and outcome (completed, failed)',
      labelNames: ['queue', 'name', 'outcome'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    }),
    breakerState: new Gauge({
      name: 'zzgw_breaker_state',
      help: 'Circuit breaker towards the partner in this process: 0 closed, 1 half-open, 2 open',
      labelNames: ['partner'],
      registers,
    }),
    retryAfterClamped: new Counter({
      name: 'zzgw_retry_after_clamped_total',
      help: "Partner answers whose Retry-After asked for longer than the backoff maximum (*_BACKOFF_MAX_MS): the retry waited the maximum",
      labelNames: ['partner'],
      registers,
    }),
  };
}
