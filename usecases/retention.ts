import type { Runtime } from '../server/runtime.ts';
import { isPartnerId } from '../adapters/registry.ts';
import { AuditLog } from '../stores/audit.ts';
import { DAY_MS } from '../kernel/beijing-time.ts';


export interface RetentionOutcome {
  cutoff: string;
  messages: number;
  deadLetters: number;
  bookings: number;
  auditEntries: number;
}

/**
 * Purges what is older than the retention period (never under six months, the
 * schema holds that): records with their idempotency keys, traces and search
 * index entries, dead letters, and past bookings. Batches of UNLINK, so Redis
 * is never blocked for long.
 */
export async function purgeExpired(runtime: Runtime): Promise<RetentionOutcome> {
  const { redis, keys, config } = runtime;
  const cutoffMs = runtime.clock.now() - config.periodic.retentionDays * DAY_MS;
  const batch = config.periodic.retentionBatchSize;
  let messages = 0;
  for (const partner of Object.keys(runtime.adapters)) {
    if (!isPartnerId(runtime.adapters, partner)) continue;
    const intake = keys.intake(partner);
    for (;;) {
      const trackingNos = await redis.zrangebyscore(intake.byTime, '-inf', String(cutoffMs), 'LIMIT', 0, batch);
      if (trackingNos.length === 0) break;
      const records = await Promise.all(trackingNos.map((trackingNo) => redis.hmget(intake.record(trackingNo), 'messageKey', 'requestId', 'replaces', 'searchIds')));
      // one pipeline per hash tag: on Redis Cluster a pipeline must stay on one node
      const intakeKeys = redis.pipeline();
      const indexKeys = redis.pipeline();
      trackingNos.forEach((trackingNo, index) => {
        const [messageKey, requestId, replaces, searchIds] = records[index] ?? [];
        intakeKeys.unlink(intake.record(trackingNo));
        if (messageKey) intakeKeys.unlink(intake.messageId(messageKey));
        if (requestId) intakeKeys.unlink(intake.requestId(requestId));
        if (replaces) intakeKeys.unlink(intake.replacedBy(replaces));
        for (const [kind, value] of Object.entries(JSON.parse(searchIds ?? '{}') as Record<string, string>)) indexKeys.srem(keys.index(kind, value), trackingNo);
      });
      await indexKeys.exec();
      // traces are spread over the cluster: one command each
      await Promise.all(trackingNos.map((trackingNo) => redis.unlink(keys.trace(trackingNo))));
      // the time index goes last, so a purge cut short is picked up by the next run
      intakeKeys.zrem(intake.byTime, ...trackingNos);
      await intakeKeys.exec();
      messages += trackingNos.length;
    }
  }

  let deadLetters = 0;
  for (;;) {
    const ids = await redis.zrangebyscore(keys.deadLetters.byTime, '-inf', String(cutoffMs), 'LIMIT', 0, batch);
    if (ids.length === 0) break;
    const pipeline = redis.pipeline();
    for (const id of ids) pipeline.unlink(keys.deadLetters.entry(id)).zrem(keys.deadLetters.byTime, id);
    await pipeline.exec();
    deadLetters += ids.length;
  }

  const bookings = await runtime.ledger.purgeBefore(cutoffMs);
  const auditEntries = await new AuditLog(redis, keys, () => runtime.clock.now()).purgeBefore(cutoffMs, batch);
  const outcome = { cutoff: new Date(cutoffMs).toISOString(), messages, deadLetters, bookings, auditEntries };
  runtime.logger.info('retention purge done', { ...outcome });
  return outcome;
}
