import { redact } from '../kernel/pii.ts';
import { sendTogether, type RedisCommand } from '../kernel/redis/client.ts';
import { scanKeys } from '../kernel/redis/scan.ts';
import { RedisStore } from './redis-store.ts';
import { packTraceWrites, unpackTraceElement } from './trace-packing.ts';

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

  /**
   * the commands index() sends: one member a message in its kind's sorted set.
   * A set a value (before issue 16) cost about 270 bytes an entry in Redis, a
   * member about 170: most values name one message.
   */
  indexCommands(trackingNo: string, ids: Partial<Record<SearchKind, string>>): RedisCommand[] {
    return Object.entries(ids)
      .filter(([, value]) => value)
      .map(([kind, value]): RedisCommand => ['zadd', this.keys.indexOf(kind), 0, indexMember(value, trackingNo)]);
  }

  /** index entries and trace entries of one message in one write; several entries of one trace go as one element (packTraceWrites) */
  async write(commands: readonly RedisCommand[]): Promise<void> {
    await sendTogether(this.redis, packTraceWrites(commands, this.keys.trace('')));
  }

  async find(kind: SearchKind, value: string): Promise<string[]> {
    if (kind === 'trackingNo') return (await this.redis.exists(this.keys.trace(value))) ? [value] : [];
    const prefix = indexMember(value, '');
    const [members, before] = await Promise.all([
      // every member that starts with `<value>\0`: from there up to, not including, `<value>\x01`
      this.redis.zrangebylex(this.keys.indexOf(kind), `[${prefix}`, `(${value}\u0001`),
      // entries written before the sorted sets, until retention has purged them
      this.redis.smembers(this.keys.index(kind, value)),
    ]);
    const found = members.map((member) => member.slice(prefix.length)).filter((trackingNo) => !trackingNo.includes('\u0000'));
    return [...new Set([...found, ...before])].sort();
  }

  /** the first entry of a message's trace (what it was), if it has one */
  async first(trackingNo: string): Promise<TraceEntry | undefined> {
    const [first] = await this.redis.lrangeBuffer(this.keys.trace(trackingNo), 0, 0);
    return first === undefined ? undefined : (unpackTraceElement(first)[0] as TraceEntry | undefined);
  }

  /**
   * Removes messages' traces and their index entries (retention): the ids the
   * message carried (`searchIds`), its own tracking number (intake indexed it
   * until issue 16; records of before then still have the entry), and the ids
   * of the answers sent for it, which only the trace names (its `messageId` details).
   */
  async remove(messages: readonly { trackingNo: string; searchIds: Record<string, string> }[]): Promise<void> {
    // traces are spread over the cluster: one command each
    const traces = await Promise.all(messages.map(({ trackingNo }) => this.redis.lrangeBuffer(this.keys.trace(trackingNo), 0, -1)));
    const index = this.redis.pipeline();
    messages.forEach(({ trackingNo, searchIds }, n) => {
      const ids = Object.entries(searchIds);
      for (const messageId of messageIdsOf(traces[n] ?? [])) ids.push(['messageId', messageId]);
      for (const [kind, value] of ids) index.zrem(this.keys.indexOf(kind), indexMember(value, trackingNo));
      // and the sets of before the sorted sets
      const before = new Set(ids.map(([kind, value]) => this.keys.index(kind, value)));
      before.add(this.keys.index('trackingNo', trackingNo));
      for (const key of before) index.srem(key, trackingNo);
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
      const lasts = await Promise.all(keys.map((key) => this.redis.lindexBuffer(key, -1)));
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
    const elements = await this.redis.lrangeBuffer(this.keys.trace(trackingNo), 0, -1);
    return elements.flatMap((element) => unpackTraceElement(element) as TraceEntry[]);
  }
}

/** A message's member in the sorted set of an id's kind: the id, a NUL, the tracking number. */
function indexMember(value: string, trackingNo: string): string {
  return `${value}\u0000${trackingNo}`;
}

/** The entries of an element, none when it cannot be read. */
function readableEntries(element: Buffer): unknown[] {
  try {
    return unpackTraceElement(element);
  } catch {
    return [];
  }
}

/** The ids of the answers a trace records (`answer-queued`, `answer-sent`, attempts). */
function messageIdsOf(elements: readonly Buffer[]): Set<string> {
  const ids = new Set<string>();
  for (const entry of elements.flatMap(readableEntries)) {
    const messageId = (entry as { messageId?: unknown } | null)?.messageId;
    if (typeof messageId === 'string' && messageId) ids.add(messageId);
  }
  return ids;
}

/** The time of the last entry an element holds (epoch ms), undefined when unreadable. */
function entryTime(element: Buffer | null | undefined): number | undefined {
  if (!element) return undefined;
  const at = Date.parse(String((readableEntries(element).at(-1) as { at?: unknown } | null | undefined)?.at));
  return Number.isFinite(at) ? at : undefined;
}
