import { redact } from '../kernel/pii.ts';
import { sendTogether, type RedisCommand } from '../kernel/redis/client.ts';
import { scanKeys } from '../kernel/redis/scan.ts';
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

  /**
   * Removes messages' traces and their index entries (retention): the ids the
   * message carried (`searchIds`), its own tracking number (intake indexes it,
   * the record does not name it), and the ids of the answers sent for it, which
   * only the trace names (its `messageId` details).
   */
  async remove(messages: readonly { trackingNo: string; searchIds: Record<string, string> }[]): Promise<void> {
    // traces are spread over the cluster: one command each
    const traces = await Promise.all(messages.map(({ trackingNo }) => this.redis.lrange(this.keys.trace(trackingNo), 0, -1)));
    const index = this.redis.pipeline();
    messages.forEach(({ trackingNo, searchIds }, n) => {
      const ids = new Set(Object.entries(searchIds).map(([kind, value]) => this.keys.index(kind, value)));
      ids.add(this.keys.index('trackingNo', trackingNo));
      for (const messageId of messageIdsOf(traces[n] ?? [])) ids.add(this.keys.index('messageId', messageId));
      for (const key of ids) index.srem(key, trackingNo);
    });
    await index.exec();
    await Promise.all(messages.map(({ trackingNo }) => this.redis.unlink(this.keys.trace(trackingNo))));
  }

  /**
   * Removes traces that belong to no intake record (availability publications:
   * `trace:availability.<job>`), whose last entry is older than `cutoffMs`,
   * with their index entries; returns how many. They have no time index, and
   * need none: each entry carries its time, so a SCAN over their one key shape
   * finds them, a page at a time, on any number of processes at once.
   */
  async purgeStandalone(idPrefix: string, cutoffMs: number, batch: number): Promise<number> {
    let purged = 0;
    await scanKeys(this.redis, `${this.keys.trace(idPrefix)}*`, batch, async (keys) => {
      const prefix = this.keys.trace('');
      const lasts = await Promise.all(keys.map((key) => this.redis.lindex(key, -1)));
      const old = keys.filter((_, n) => {
        const at = entryTime(lasts[n]);
        return at !== undefined && at < cutoffMs;
      });
      await this.remove(old.map((key) => ({ trackingNo: key.slice(prefix.length), searchIds: {} })));
      purged += old.length;
    });
    return purged;
  }

  async read(trackingNo: string): Promise<TraceEntry[]> {
    const entries = await this.redis.lrange(this.keys.trace(trackingNo), 0, -1);
    return entries.map((entry) => JSON.parse(entry) as TraceEntry);
  }
}

/** The ids of the answers a trace records (`answer-queued`, `answer-sent`, attempts). */
function messageIdsOf(entries: readonly string[]): Set<string> {
  const ids = new Set<string>();
  for (const entry of entries) {
    try {
      const messageId = (JSON.parse(entry) as { messageId?: unknown }).messageId;
      if (typeof messageId === 'string' && messageId) ids.add(messageId);
    } catch {
      // an unreadable entry names nothing
    }
  }
  return ids;
}

/** The time of a trace entry (epoch ms), undefined when unreadable. */
function entryTime(entry: string | null | undefined): number | undefined {
  if (!entry) return undefined;
  try {
    const at = Date.parse(String((JSON.parse(entry) as { at?: unknown }).at));
    return Number.isFinite(at) ? at : undefined;
  } catch {
    return undefined;
  }
}
