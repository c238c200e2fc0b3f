/** The Markdown page of one bench run (bench/results/<date>.md). */
import type { BenchResults } from './results.ts';

function n(value: number | null | undefined, digits = 0): string {
  if (value === null || value === undefined) return '—';
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function errors(record: Record<string, number>): string {
  const entries = Object.entries(record);
  return entries.length ? entries.map(([key, count]) => `${key}×${count}`).join(', ') : '0';
}

/** The Redis commands of one run as a table: calls and µs a message. */
function redisCommands(title: string, record: Record<string, { calls: number; usec: number }> | undefined): string[] {
  const rows = Object.entries(record ?? {});
  if (rows.length === 0) return [];
  return [
    '',
    `${title} (from \`INFO commandstats\`; commands run by scripts count under their own names and under EVALSHA):`,
    '',
    '| command | calls a message | µs a message |',
    '|---|---|---|',
    ...rows.map(([command, { calls, usec }]) => `| ${command} | ${n(calls, 2)} | ${n(usec, 1)} |`),
  ];
}

function cpu(record: Record<string, number>): string {
  return Object.entries(record)
    .filter(([, ms]) => ms >= 0.01)
    .map(([name, ms]) => `${name} ${ms.toFixed(2)}`)
    .join(', ');
}

export function renderMarkdown(results: BenchResults): string {
  const { machine, settings, ingest, ratios, endToEnd, memory, scaling, integrity, targets } = results;
  const lines: string[] = [];
  const push = (...more: string[]) => lines.push(...more);
  push(
    `# Gateway bench, ${results.date.slice(0, 10)}`,
    '',
    `\`${results.command}\` — ${n(results.durationSeconds)} s. Machine: ${machine['cpus']} × ${machine['cpuModel']}, ${machine['memoryGb']} GB, Node ${machine['node']}, Redis ${machine['redis']} (AOF everysec, noeviction). `
      + 'The load generator, the partner simulators, the gateway processes, the baselines and Redis all share the two cores: every figure is a lower bound for a process with a core of its own.',
    '',
    `Traffic: province applies (HMAC-SM3) and Changsha \`slot.requested\` (HMAC-SHA256) mixed ${Math.round((1 - Number(settings['changshaShare'])) * 100)}/${Math.round(Number(settings['changshaShare']) * 100)}, `
      + 'every request signed beforehand with its own DATAUUID or eventId, windows on open days of the next weeks. Rate limits raised to 1,000,000/s. '
      + `Fixed rates: open loop for ${settings['stepSeconds']} s, latency from the scheduled send. Saturation: closed loop, ${settings['closedLoopConnections']} connections, ${settings['saturationSeconds']} s, ${settings['reps']} repetitions interleaved with the baselines.`,
    '',
    '## Targets',
    '',
    '| target | required | measured | |',
    '|---|---|---|---|',
    ...targets.map((target) => `| ${target.name} | ${target.target} | ${target.measured === null ? '—' : n(target.measured, Number.isInteger(target.measured) ? 0 : target.measured < 10 ? 2 : 0)} | ${target.met ? 'met' : '**not met**'} |`),
    '',
    '## Ingest',
    '',
    `Highest fixed rate held with p99 ≤ 50 ms: **${n(ingest.highestRateHeldP99At50ms)} msg/s** (api process alone, workers stopped).`,
    '',
    '| offered msg/s | answered/s | p50 ms | p99 ms | max ms | errors | held | api RSS MB | CPU ms per request |',
    '|---|---|---|---|---|---|---|---|---|',
    ...ingest.ladder.map(
      (step) =>
        `| ${n(step.rate)} | ${n(step.throughput)} | ${n(step.latency.p50, 1)} | ${n(step.latency.p99, 1)} | ${n(step.latency.max, 0)} | ${errors(step.errors)} | ${step.held ? 'yes' : 'no'} | ${n(step.apiRssPeakMb)} | ${cpu(step.cpuMsPerRequest)} |`,
    ),
    '',
    '### Saturation beside the baselines',
    '',
    '| run | target | requests/s | p50 ms | p99 ms | errors | CPU ms per request |',
    '|---|---|---|---|---|---|---|',
    ...ingest.saturation.runs.map((run) => `| ${run.rep} | ${run.target} | ${n(run.throughput)} | ${n(run.latency.p50, 1)} | ${n(run.latency.p99, 1)} | ${errors(run.errors)} | ${cpu(run.cpuMsPerRequest)} |`),
    '',
    `Medians: gateway ${n(ingest.saturation.median.gateway)}/s, Express echo ${n(ingest.saturation.median.expressEcho)}/s, Express + BullMQ ${n(ingest.saturation.median.expressBullmq)}/s. `
      + `Ratio of the gateway to the echo: **${n(ratios.gatewayToExpressEcho, 2)}**; to Express + BullMQ: **${n(ratios.gatewayToExpressBullmq, 2)}** `
      + `(medians of the ratios within each repetition: ${ratios.perRepetition.expressBullmq.map((ratio) => n(ratio, 2)).join(', ')} to Express + BullMQ; ratio of the medians ${n(ratios.ofMedians.expressBullmq, 2)}).`,
    ...redisCommands('Redis per request, gateway saturated, last repetition', ingest.saturation.runs.filter((run) => run.target === 'gateway').at(-1)?.redisCommandsPerRequest),
    '',
    '## End to end',
    '',
    'From the partner\'s scheduled send to the answer (notify, or slot.offered / slot.declined) reaching the partner simulator; api and worker processes running together.',
    '',
    `Highest rate held with p99 ≤ 100 ms: **${n(results.endToEndHighestHeldP99At100ms)} msg/s** (a ladder: the first rates, then by 250 while a step holds, then halfway to the first that did not).`,
    '',
    'Each step starts its worker process afresh and sends at the step\'s rate for a few seconds before the step is measured: those first seconds (the JIT not done, no connection to a partner yet) are the cold start column, not in the step.',
    '',
    '| offered msg/s | workers | e2e p50 ms | e2e p99 ms | e2e max ms | ingest p99 ms | answered | held | tail after last send s | worker RSS MB | p99 ms by second of the step | cold start p99 ms |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...endToEnd.map(
      (step) =>
        `| ${n(step.rate)} | ${step.workers} | ${n(step.endToEnd.p50, 1)} | ${n(step.endToEnd.p99, 1)} | ${n(step.endToEnd.max)} | ${n(step.ingest.p99, 1)} | ${n(step.answered)}/${n(step.accepted)} | ${step.held ? 'yes' : 'no'} | ${n(step.tailSeconds, 1)} | ${n(step.workerRssPeakMb)} | ${step.bySecond.map((second) => n(second.p99, 0)).join(' ')} | ${step.coldStart ? `${n(step.coldStart.endToEnd.p99, 1)} (first ${step.coldStart.seconds} s)` : '—'} |`,
    ),
    '',
    'Where the slowest 1% of each step spent their time (mean ms between consecutive stages of their traces, from the scheduled send to the answer at the partner), with a sample of the others in brackets:',
    '',
    ...endToEnd.map((step) => `- ${n(step.rate)} msg/s: ${step.stages ? Object.entries(step.stages.slowest.meanMs).map(([stage, ms]) => `${stage} ${n(ms, 1)} (${step.stages?.typical.meanMs[stage] === undefined ? '—' : n(step.stages.typical.meanMs[stage], 1)})`).join('; ') : '—'}`),
    '',
    '## The ledger\'s script',
    '',
    `\`decide.lua\` alone on this run's Redis, ${n(results.ledger.decisionsPerRun)} decisions over 20 days (applies, changes, cancels; rooms full most of the time), one in flight, 7 repetitions: `
      + `**${n(results.ledger.fastestUsec, 1)} µs** of Redis's time a decision in the fastest, ${n(results.ledger.medianUsec, 1)} µs the median; ${n(results.ledger.cpuUsec, 1)} µs of its CPU with reading and answering each call, `
      + `so about ${n(results.ledger.ceilingPerSecond)} decisions a second on one Redis core.`,
    '',
    '## Workers: decide and deliver a backlog',
    '',
    '| after | worker processes | messages | seconds | messages/s | worker RSS MB | CPU ms per message |',
    '|---|---|---|---|---|---|---|',
    ...scaling.drains.map((drain) => `| ${drain.after} | ${drain.workers} | ${n(drain.messages)} | ${n(drain.seconds, 1)} | ${n(drain.throughput)} | ${n(drain.workerRssPeakMb)} | ${cpu(drain.cpuMsPerMessage)} |`),
    '',
    `Medians: one worker process ${n(scaling.oneWorker)}/s, two ${n(scaling.twoWorkers)}/s.`,
    ...redisCommands('Redis per message, last drain', scaling.drains.at(-1)?.redisCommandsPerMessage),
    '',
    '## Memory',
    '',
    '| measured | MB |',
    '|---|---|',
    `| api RSS at the 2,000 msg/s step | ${n(memory['apiRssAt2000Mb'])} |`,
    `| api RSS, peak of the run | ${n(memory['apiRssPeakMb'])} |`,
    `| worker RSS, peak of the run | ${n(memory['workerRssPeakMb'])} |`,
    `| Redis used_memory, peak under load | ${n(memory['redisUsedPeakMb'])} |`,
    `| Redis per 10,000 accepted requests held in the queue (not yet processed) | ${n(memory['redisPer10kQueuedMb'], 1)} |`,
    `| Redis per 10,000 requests processed and retained (records, traces, decisions, finished jobs) | ${n(memory['redisPer10kProcessedMb'], 1)} |`,
    '',
    `(per 10,000 measured over the ${n(memory['measuredOver'])} requests of the fixed-rate steps)`,
    '',
    '## Errors and losses',
    '',
    `Accepted ${n(integrity.accepted)}; answered at a partner ${n(integrity.answered)} (${errors(integrity.outcomes)}); in dead letters ${n(integrity.deadLettered)}; **lost ${n(integrity.lost)}**. `
      + `Non-2xx answers: ${errors(integrity.errors)}. Deliveries refused by the simulators (signature, token): ${n(integrity.refusedBySimulators)}. Repeated answers: ${n(integrity.repeatedAnswers)}. AOF rewrites during the run: ${n(integrity.aofRewrites)}.`,
    '',
  );
  return `${lines.join('\n')}\n`;
}
