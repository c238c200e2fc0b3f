/** What the bench reads from Redis: INFO fields, dead letters, queue counts. */
import type { Redis } from 'ioredis';
import type { Keys } from '../../kernel/redis/keys.ts';

export async function info(redis: Redis, section: string): Promise<Record<string, string>> {
  const text = await redis.info(section);
  const fields: Record<string, string> = {};
  for (const line of text.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0 && !line.startsWith('#')) fields[line.slice(0, colon)] = line.slice(colon + 1);
  }
  return fields;
}

export async function usedMemoryMb(redis: Redis): Promise<number> {
  return Number((await info(redis, 'memory'))['used_memory'] ?? 0) / 1024 / 1024;
}

/** Redis's own CPU seconds (user + system), which also counts the scripts it ran. */
export async function redisCpuSeconds(redis: Redis): Promise<number> {
  const cpu = await info(redis, 'cpu');
  return Number(cpu['used_cpu_user'] ?? 0) + Number(cpu['used_cpu_sys'] ?? 0);
}

/** Calls and microseconds by command since the server started (`INFO commandstats`). */
export async function commandStats(redis: Redis): Promise<Record<string, { calls: number; usec: number }>> {
  const stats: Record<string, { calls: number; usec: number }> = {};
  for (const [field, value] of Object.entries(await info(redis, 'commandstats'))) {
    const calls = /(?:^|,)calls=(\d+)/.exec(value);
    const usec = /(?:^|,)usec=(\d+)/.exec(value);
    if (calls && usec) stats[field.replace(/^cmdstat_/, '')] = { calls: Number(calls[1]), usec: Number(usec[1]) };
  }
  return stats;
}

/**
 * What Redis did per message between two `commandStats`: the commands that took
 * the most of its time, with calls and microseconds a message. Commands run by
 * scripts count under their own names as well as under EVALSHA.
 */
export function commandsPerMessage(
  before: Record<string, { calls: number; usec: number }>,
  after: Record<string, { calls: number; usec: number }>,
  messages: number,
  top = 12,
): Record<string, { calls: number; usec: number }> {
  if (messages <= 0) return {};
  const rows = Object.entries(after).map(([command, { calls, usec }]) => {
    const earlier = before[command] ?? { calls: 0, usec: 0 };
    return { command, calls: (calls - earlier.calls) / messages, usec: (usec - earlier.usec) / messages };
  });
  rows.sort((a, b) => b.usec - a.usec);
  return Object.fromEntries(
    rows.filter((row) => row.calls > 0).slice(0, top).map((row) => [row.command, { calls: Math.round(row.calls * 100) / 100, usec: Math.round(row.usec * 10) / 10 }]),
  );
}

/**
 * Which scripts take Redis's time: logs every command for `ms` in the slow log
 * (threshold 0), then groups the EVALSHA entries by script and key count,
 * named by their first key's last part. A diagnostic (`--script-costs`): the
 * slow log costs Redis time of its own while it records everything.
 */
export async function sampleScriptCosts(redis: Redis, ms: number): Promise<string> {
  const config = await redis.config('GET', 'slowlog-*');
  await redis.slowlog('RESET');
  await redis.config('SET', 'slowlog-max-len', '200000', 'slowlog-log-slower-than', '0');
  await new Promise((resolve) => setTimeout(resolve, ms));
  await redis.config('SET', 'slowlog-log-slower-than', '-1');
  const entries = (await redis.slowlog('GET', '-1')) as [number, number, number, string[]][];
  const restore = Object.fromEntries(config.flatMap((value, index, all) => (index % 2 === 0 ? [[value, all[index + 1] ?? '']] : [])));
  await redis.config('SET', 'slowlog-log-slower-than', restore['slowlog-log-slower-than'] ?? '10000', 'slowlog-max-len', restore['slowlog-max-len'] ?? '128');
  await redis.slowlog('RESET');
  // by script (its sha), named by the last part of the first key it was first seen with
  const groups = new Map<string, { name: string; calls: number; usec: number }>();
  let total = 0;
  for (const [, , usec, args] of entries) {
    total += usec;
    if ((args[0] ?? '').toLowerCase() !== 'evalsha') continue;
    const sha = args[1] ?? '?';
    const group = groups.get(sha) ?? { name: `${(args[3] ?? '').split(':').slice(-1)[0] ?? '?'}/${args[2] ?? '?'} keys`, calls: 0, usec: 0 };
    group.calls += 1;
    group.usec += usec;
    groups.set(sha, group);
  }
  const rows = [...groups.values()].sort((a, b) => b.usec - a.usec).slice(0, 10);
  return `${entries.length} commands, ${Math.round(total / 1000)} ms; ` + rows.map(({ name, calls, usec }) => `${name}: ${calls}× ${Math.round(usec / calls)} µs (${Math.round((usec / Math.max(1, total)) * 100)}%)`).join(', ');
}

export async function aofRewrites(redis: Redis): Promise<number> {
  return Number((await info(redis, 'persistence'))['aof_rewrites'] ?? 0);
}

export interface DeadLetterSummary {
  trackingNos: Set<string>;
  reasons: Record<string, number>;
}

/** Every dead letter of the namespace: tracking numbers and reasons (first word). */
export async function deadLetters(redis: Redis, keys: Keys): Promise<DeadLetterSummary> {
  const ids = await redis.zrange(keys.deadLetters.byTime, '0', '-1');
  const trackingNos = new Set<string>();
  const reasons: Record<string, number> = {};
  for (let i = 0; i < ids.length; i += 500) {
    const pipeline = redis.pipeline();
    for (const id of ids.slice(i, i + 500)) pipeline.hget(keys.deadLetters.entry(id), 'json');
    for (const [, json] of (await pipeline.exec()) ?? []) {
      if (typeof json !== 'string') continue;
      const letter = JSON.parse(json) as { trackingNo?: string; reason?: string };
      if (letter.trackingNo) trackingNos.add(letter.trackingNo);
      const reason = (letter.reason ?? '').split(/[:\s]/)[0] || 'unknown';
      reasons[reason] = (reasons[reason] ?? 0) + 1;
    }
  }
  return { trackingNos, reasons };
}

/** Removes every key under `prefix` (the baselines' queue between runs). */
export async function unlinkPrefix(redis: Redis, prefix: string): Promise<number> {
  let cursor = '0';
  let removed = 0;
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    if (found.length > 0) removed += await redis.unlink(...found);
  } while (cursor !== '0');
  return removed;
}
