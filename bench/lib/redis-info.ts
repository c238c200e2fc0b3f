/** What the bench reads from Redis: INFO fields, dead letters, queue counts. */
import type { Redis } from 'ioredis';
import type { Keys } from '../../gateway/core/keys.ts';

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
