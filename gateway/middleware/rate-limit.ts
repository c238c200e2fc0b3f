import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { Runtime } from '../../usecases/runtime.ts';
import type { PartnerAdapter } from '../../adapters/types.ts';
import { GatewayError } from '../../kernel/errors.ts';

/**
 * Per-partner limit kept in Redis, so it holds across every api process.
 * Charged only for requests whose signature holds: a stranger's junk must not
 * spend the partner's budget and turn its real pushes into 429s.
 */
export function createPartnerLimiter(runtime: Runtime, adapter: PartnerAdapter): () => Promise<void> {
  const limiter = new RateLimiterRedis({
    storeClient: runtime.redis,
    keyPrefix: runtime.keys.intake(adapter.id).rate,
    points: adapter.rateLimitPerSecond,
    duration: 1,
  });
  return async () => {
    try {
      await limiter.consume(adapter.id, 1);
    } catch (rejection) {
      if (rejection instanceof RateLimiterRes) {
        throw new GatewayError('RATE_LIMITED', undefined, { retryAfterMs: Math.max(1000, rejection.msBeforeNext) });
      }
      throw new GatewayError('STORE_UNAVAILABLE', undefined, { retryAfterMs: runtime.config.intake.retryAfterSeconds * 1000, cause: rejection });
    }
  };
}

/**
 * Per source address, before anything is checked. Kept in this process's
 * memory, not Redis: a flood of unsigned requests then costs Redis nothing,
 * and the limit holds per api process.
 */
export function createSourceLimiter(runtime: Runtime): (source: string) => Promise<void> {
  const limiter = new RateLimiterMemory({ points: runtime.config.intake.sourceRateLimitPerSecond, duration: 1 });
  return async (source) => {
    try {
      await limiter.consume(source, 1);
    } catch (rejection) {
      if (rejection instanceof RateLimiterRes) throw new GatewayError('SOURCE_RATE_LIMITED', undefined, { retryAfterMs: Math.max(1000, rejection.msBeforeNext) });
      throw rejection;
    }
  };
}
