/**
 * Exponential backoff with full jitter, never shorter than the partner's
 * Retry-After. A job that carries `attemptsBefore` (its first attempt was made
 * directly) continues that count.
 */
export function partnerBackoff(baseMs: number, maxMs: number, random: () => number = Math.random) {
  return (attemptsMade: number, _type?: string, error?: Error, job?: { data?: unknown }): number => {
    const before = (job?.data as { attemptsBefore?: unknown } | undefined)?.attemptsBefore;
    const attempts = attemptsMade + (typeof before === 'number' ? before : 0);
    const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempts - 1));
    const jittered = Math.round(ceiling / 2 + random() * (ceiling / 2));
    const retryAfter = (error as { retryAfterMs?: unknown } | undefined)?.retryAfterMs;
    return typeof retryAfter === 'number' ? Math.max(retryAfter, jittered) : jittered;
  };
}
