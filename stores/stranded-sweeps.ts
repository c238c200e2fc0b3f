import { RedisStore } from './redis-store.ts';

/** What the sweeps for stranded messages have found, for the overview and /metrics. */
export interface StrandedSweepSummary {
  /** messages queued again since the gateway first swept */
  requeuedTotal: number;
  /** epoch ms, or undefined before the first sweep */
  lastSweepAt: number | undefined;
  /** epoch ms of the last sweep that queued something again */
  lastRequeuedAt: number | undefined;
  /** how many that sweep queued again */
  lastRequeued: number;
}

const asTime = (value: string | undefined) => (value === undefined || value === '' ? undefined : Number(value));

/** One small hash: the sweeps' totals and times. */
export class StrandedSweepStore extends RedisStore {
  async record(requeued: number): Promise<void> {
    const at = String(this.now());
    const writes = this.redis.multi().hset(this.keys.strandedSweeps, 'lastSweepAt', at);
    if (requeued > 0) writes.hincrby(this.keys.strandedSweeps, 'requeuedTotal', requeued).hset(this.keys.strandedSweeps, 'lastRequeuedAt', at, 'lastRequeued', String(requeued));
    await writes.exec();
  }

  async summary(): Promise<StrandedSweepSummary> {
    const fields = await this.redis.hgetall(this.keys.strandedSweeps);
    return {
      requeuedTotal: Number(fields['requeuedTotal'] ?? 0),
      lastSweepAt: asTime(fields['lastSweepAt']),
      lastRequeuedAt: asTime(fields['lastRequeuedAt']),
      lastRequeued: Number(fields['lastRequeued'] ?? 0),
    };
  }
}
