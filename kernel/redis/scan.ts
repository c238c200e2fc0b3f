import type { Cluster, Redis } from 'ioredis';

/**
 * Walks the keys matching `pattern` with SCAN, `count` at a time, handing each
 * page to `visit` before asking for the next: SCAN never blocks Redis the way
 * KEYS would, and a page is at most about `count` keys. On Redis Cluster, SCAN
 * reaches one node only, so every master is walked in turn. Keys may be seen
 * twice (SCAN's guarantee): `visit` must be idempotent.
 */
export async function scanKeys(redis: Redis, pattern: string, count: number, visit: (keys: string[]) => Promise<void>): Promise<void> {
  const nodes: Redis[] = redis.isCluster ? (redis as unknown as Cluster).nodes('master') : [redis];
  for (const node of nodes) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', count);
      cursor = next;
      if (keys.length > 0) await visit(keys);
    } while (cursor !== '0');
  }
}
