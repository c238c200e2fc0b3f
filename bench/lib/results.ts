/**
 * What one bench run measured: written by bench/run.ts as bench/results/<date>.json
 * and rendered by bench/lib/report.ts as bench/results/<date>.md.
 */
import type { Summary } from './stats.ts';

export interface SaturationRun {
  target: 'gateway' | 'expressEcho' | 'expressBullmq';
  rep: number;
  throughput: number;
  latency: Summary;
  errors: Record<string, number>;
  /** CPU milliseconds per answered request, per process */
  cpuMsPerRequest: Record<string, number>;
  /** the Redis commands that took most of its time, calls and µs a request */
  redisCommandsPerRequest: Record<string, { calls: number; usec: number }>;
}

export interface LadderStep {
  rate: number;
  throughput: number;
  sent: number;
  ok: number;
  errors: Record<string, number>;
  latency: Summary;
  sendLag: Summary | null;
  held: boolean;
  apiRssPeakMb: number;
  redisUsedPeakMb: number;
  cpuMsPerRequest: Record<string, number>;
}

export interface DrainRun {
  workers: number;
  after: string;
  messages: number;
  seconds: number;
  throughput: number;
  workerRssPeakMb: number;
  cpuMsPerMessage: Record<string, number>;
  /** the Redis commands that took most of its time, calls and µs a message */
  redisCommandsPerMessage: Record<string, { calls: number; usec: number }>;
  outcomes: Record<string, number>;
}

export interface EndToEndStep {
  rate: number;
  workers: number;
  ingest: Summary;
  endToEnd: Summary;
  accepted: number;
  answered: number;
  errors: Record<string, number>;
  /** from the last send until the last answer reached its partner */
  tailSeconds: number;
  apiRssPeakMb: number;
  workerRssPeakMb: number;
  redisUsedPeakMb: number;
  /** the step's messages by the second they were due in */
  bySecond: (Summary & { second: number })[];
  /** every accepted message answered, no error, p99 ≤ 100 ms */
  held: boolean;
  /** the step's fresh worker under the same rate for its first seconds, before the step (not in it) */
  coldStart: { seconds: number; endToEnd: Summary } | null;
  /** the slowest 1% and a sample of the rest: mean ms between consecutive stages of their traces */
  stages: { slowest: { messages: number; meanMs: Record<string, number> }; typical: { messages: number; meanMs: Record<string, number> } } | null;
}

export interface Integrity {
  accepted: number;
  answered: number;
  deadLettered: number;
  deadLetterReasons: Record<string, number>;
  lost: number;
  lostSample: string[];
  errors: Record<string, number>;
  errorCount: number;
  repeatedAnswers: number;
  refusedBySimulators: number;
  outcomes: Record<string, number>;
  aofRewrites: number;
}

export interface Target {
  name: string;
  target: string;
  measured: number | null;
  met: boolean;
}

export interface BenchResults {
  date: string;
  durationSeconds: number;
  command: string;
  machine: Record<string, string | number>;
  settings: Record<string, string | number | boolean>;
  ingest: {
    saturation: { runs: SaturationRun[]; median: { gateway: number; expressEcho: number; expressBullmq: number } };
    ladder: LadderStep[];
    highestRateHeldP99At50ms: number;
    at: Record<string, { p50: number; p99: number; throughput: number; held: boolean }>;
  };
  /** medians of the ratios within each repetition; also each repetition's, and the ratio of the medians */
  ratios: {
    gatewayToExpressEcho: number;
    gatewayToExpressBullmq: number;
    perRepetition: { expressEcho: number[]; expressBullmq: number[] };
    ofMedians: { expressEcho: number; expressBullmq: number };
  };
  endToEnd: EndToEndStep[];
  endToEndHighestHeldP99At100ms: number;
  /** decide.lua alone on the run's Redis (bench/lib/ledger-cost.ts) */
  ledger: { fastestUsec: number; medianUsec: number; cpuUsec: number; ceilingPerSecond: number; decisionsPerRun: number };
  memory: Record<string, number | null>;
  scaling: { drains: DrainRun[]; oneWorker: number; twoWorkers: number };
  integrity: Integrity;
  targets: Target[];
}
