import { redact } from '../kernel/pii.ts';
import { sendTogether, type RedisCommand } from '../kernel/redis/client.ts';
import { RedisStore } from './redis-store.ts';

export interface TraceEntry {
  at: string;
  stage: string;
  [detail: string]: unknown;
}

/** Searchable ids of a message, by kind, in the order a search names them. */
export const SEARCH_KINDS = ['trackingNo', 'dataUuid', 'series', 'section', 'messageId', 'eventId', 'requestId'] as const;
export type SearchKind = (typeof SEARCH_KINDS)[number];

/**
 * Every message's story: raw as received, canonical, ledger decision, every
 * delivery attempt. Details are redacted before they are written.
 */
export class TraceStore extends RedisStore {
  async append(trackingNo: string, stage: string, detail: Record<string, unknown> = {}): Promise<void> {
    await this.redis.call(...this.appendCommand(trackingNo, stage, detail));
  }

  /** the command append() sends, for callers that send it together with others (sendTogether) */
  appendCommand(trackingNo: string, stage: string, detail: Record<string, unknown> = {}): RedisCommand {
    const entry = { at: new Date(this.now()).toISOString(), stage, ...(redact(detail) as Record<string, unknown>) };
    return ['rpush', this.keys.trace(trackingNo), JSON.stringify(entry)];
  }

  async index(trackingNo: string, ids: Partial<Record<SearchKind, string>>): Promise<void> {
    await sendTogether(this.redis, this.indexCommands(trackingNo, ids));
  }

  /** the commands index() sends */
  indexCommands(trackingNo: string, ids: Partial<Record<SearchKind, string>>): RedisCommand[] {
    return Object.entries(ids)
      .filter(([, value]) => value)
      .map(([kind, value]): RedisCommand => ['sadd', this.keys.index(kind, value), trackingNo]);
  }

  /** index entries and trace entries of one message in one write */
  async write(commands: readonly RedisCommand[]): Promise<void> {
    await sendTogether(this.redis, commands);
  }

  async find(kind: SearchKind, value: string): Promise<string[]> {
    if (kind === 'trackingNo') return (await this.redis.exists(this.keys.trace(value))) ? [value] : [];
    return (await this.redis.smembers(this.keys.index(kind, value))).sort();
  }

  /** the first entry of a message's trace (what it was), if it has one */
  async first(trackingNo: string): Promise<TraceEntry | undefined> {
    const [first] = await this.redis.lrange(this.keys.trace(trackingNo), 0, 0);
    return first === undefined ? undefined : (JSON.parse(first) as TraceEntry);
  }

  /** Removes messages' traces and their index entries (retention). */
  async remove(messages: readonly { trackingNo: string; searchIds: Record<string, string> }[]): Promise<void> {
    const index = this.redis.pipeline();
    for (const { trackingNo, searchIds } of messages) {
      for (const [kind, value] of Object.entries(searchIds)) index.srem(this.keys.index(kind, value), trackingNo);
    }
    await index.exec();
    // traces are spread over the cluster: one command each
    await Promise.all(messages.map(({ trackingNo }) => this.redis.unlink(this.keys.trace(trackingNo))));
  }

  async read(trackingNo: string): Promise<TraceEntry[]> {
    const entries = await this.redis.lrange(this.keys.trace(trackingNo), 0, -1);
    return entries.map((entry) => JSON.parse(entry) as TraceEntry);
  }
}
