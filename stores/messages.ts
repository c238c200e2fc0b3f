import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import type { FieldCipher } from '../kernel/crypto/field-cipher.ts';
import type { RedisCommand } from '../kernel/redis/client.ts';
import type { Keys } from '../kernel/redis/keys.ts';
import { scanKeys } from '../kernel/redis/scan.ts';
import { openBody, sealBody } from './message-body.ts';

const recordScript = readFileSync(join(import.meta.dirname, 'record.lua'), 'utf8');
/** Deletes a replaced-by claim only while it is still this claimant's: a later change may have claimed it since. */
const RELEASE_CLAIM = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;
/** Deletes message-id keys (KEYS) whose record (ARGV[1] + the tracking number they name) is gone; returns how many. */
const DROP_ORPHANS = `local dropped = 0
for _, key in ipairs(KEYS) do
  local trackingNo = redis.call('GET', key)
  if trackingNo and redis.call('EXISTS', ARGV[1] .. trackingNo) == 0 then
    redis.call('DEL', key)
    dropped = dropped + 1
  end
end
return dropped`;

/**
 * `received` until a worker has processed it; `held` while it waits for its
 * original; `dead-lettered` when its job was handed to operators.
 */
export type MessageState = 'received' | 'processed' | 'held' | 'dead-lettered';

/** Records read a page at a time by the stranded sweep. */
const SCAN_PAGE = 500;

/** What record() found: a new message, a repeat of a known one, or a refusal. */
export type RecordVerdict = 'new' | 'repeat' | 'conflict' | 'replaced-elsewhere';

/** A message as the partner sent it, checked, ready to be recorded. */
export interface NewMessage {
  partner: string;
  trackingNo: string;
  operation: string;
  receivedAt: number;
  /** the body's bytes as received, stored deflated and encrypted */
  rawBody: string;
  /** the partner's message id: a repeat of it is answered, not recorded again */
  messageKey: string;
  /** the request the message is about, with a digest of its content (a known id with other content is a conflict) */
  request?: { id: string; contentDigest: string } | undefined;
  /** the request this message replaces (a change), claimed by one message only */
  replaces?: string | undefined;
  searchIds: Record<string, string>;
}

export interface RecordResult {
  verdict: RecordVerdict;
  /** the new tracking number, or that of the known message */
  trackingNo: string;
  /** the known message's state (repeat), or `received` (new) */
  state: string;
  /** the writes that go with a new record but could not be made by the script (Redis Cluster): the caller sends them */
  unwritten: readonly RedisCommand[];
}

/** A record without its body. */
export interface MessageSummary {
  trackingNo: string;
  partner: string;
  operation: string | null;
  state: string | null;
  /** ISO 8601 */
  receivedAt: string | null;
  requestId: string | null;
  ids: Record<string, string>;
}

/** What a worker needs to decode a recorded message. */
export interface StoredMessage {
  operation: string;
  receivedAt: number;
  body: unknown;
}

const SUMMARY_FIELDS = ['partner', 'operation', 'state', 'receivedAt', 'requestId', 'searchIds'] as const;

function parseIds(json: string | null | undefined): Record<string, string> {
  if (!json) return {};
  try {
    const parsed = JSON.parse(json) as unknown;
    if (typeof parsed !== 'object' || parsed === null) return {};
    return Object.fromEntries(Object.entries(parsed).filter(([, value]) => typeof value === 'string'));
  } catch {
    return {};
  }
}

const isoOf = (ms: number) => (Number.isFinite(ms) ? new Date(ms).toISOString() : null);

/**
 * The partners' messages as received: one hash a message (body encrypted at
 * rest), its idempotency keys (message id, request id, replaced id) and the
 * time index retention walks, all under the partner's `{in:<partner>}` tag.
 * The one owner of those keys.
 */
export class MessageStore {
  readonly #redis: Redis;
  readonly #keys: Keys;
  readonly #cipher: FieldCipher;

  constructor(redis: Redis, keys: Keys, cipher: FieldCipher) {
    this.#redis = redis;
    this.#keys = keys;
    this.#cipher = cipher;
    // the key count varies (numkeys is the first argument): see record.lua
    if (!('recordMessage' in redis)) redis.defineCommand('recordMessage', { lua: recordScript });
    if (!('releaseReplacedClaim' in redis)) redis.defineCommand('releaseReplacedClaim', { numberOfKeys: 1, lua: RELEASE_CLAIM });
    if (!('dropOrphanedMessageIds' in redis)) redis.defineCommand('dropOrphanedMessageIds', { lua: DROP_ORPHANS });
  }

  /** Whether a request id of the partner's has been recorded. */
  async requestKnown(partner: string, requestId: string): Promise<boolean> {
    return (await this.#redis.exists(this.#keys.intake(partner).requestId(requestId))) > 0;
  }

  /** Whether a message id of the partner's has been recorded (a repeat gets its first answer). */
  async messageKnown(partner: string, messageKey: string): Promise<boolean> {
    return (await this.#redis.exists(this.#keys.intake(partner).messageId(messageKey))) > 0;
  }

  /**
   * What `record` would answer for these keys, read only (the message lab): the
   * same order of checks as record.lua, nothing written. `new` when none holds;
   * `claimant` is the request id that already names `replaces`.
   */
  async preview(partner: string, keys: { messageKey: string; request?: { id: string; contentDigest: string }; replaces?: string }): Promise<{ verdict: RecordVerdict; trackingNo?: string; claimant?: string }> {
    const intake = this.#keys.intake(partner);
    const known = await this.#redis.get(intake.messageId(keys.messageKey));
    if (known) return { verdict: 'repeat', trackingNo: known };
    if (keys.request !== undefined) {
      const [trackingNo, digest] = await this.#redis.hmget(intake.requestId(keys.request.id), 'trackingNo', 'digest');
      if (trackingNo) return { verdict: digest === keys.request.contentDigest ? 'repeat' : 'conflict', trackingNo };
    }
    if (keys.replaces !== undefined && keys.replaces !== '') {
      const claimant = await this.#redis.get(intake.replacedBy(keys.replaces));
      if (claimant && claimant !== (keys.request?.id ?? '')) return { verdict: 'replaced-elsewhere', claimant };
    }
    return { verdict: 'new' };
  }

  /**
   * Records a new message, or recognises a repeat or a conflict, in one step.
   * `withNew` are the writes (RPUSH or SADD) that belong with a new record: the
   * script makes them itself where it may touch their keys (not on Redis
   * Cluster, where they are in other slots: they come back as `unwritten`).
   */
  async record(message: NewMessage, withNew: readonly RedisCommand[]): Promise<RecordResult> {
    const keys = this.#keys.intake(message.partner);
    const fields = [
      'partner', message.partner,
      'operation', message.operation,
      'receivedAt', String(message.receivedAt),
      'state', 'received',
      'body', sealBody(this.#cipher, message.rawBody),
      // what retention must undo when the record goes
      'messageKey', message.messageKey,
      'requestId', message.request?.id ?? '',
      'replaces', message.replaces ?? '',
      'searchIds', JSON.stringify(message.searchIds),
    ];
    // the script takes each as (command, key, value); a ZADD's score is 0, as the search index writes it
    type Arg = RedisCommand[1] | undefined;
    const scriptable = withNew.map(([command, key, ...rest]): [command: string, key: Arg, value: Arg] | undefined => {
      if (command === 'zadd' && rest.length === 2 && rest[0] === 0) return [command, key, rest[1]];
      return rest.length === 1 ? [command, key, rest[0]] : undefined;
    });
    const inScript = this.#redis.isCluster || scriptable.some((write) => write === undefined) ? [] : scriptable.filter((write) => write !== undefined);
    const scripted = this.#redis as unknown as { recordMessage(...args: (string | number | Buffer)[]): Promise<[RecordVerdict, string, string]> };
    const [verdict, trackingNo, state] = await scripted.recordMessage(
      5 + inScript.length,
      keys.messageId(message.messageKey),
      keys.requestId(message.request?.id ?? '-'),
      keys.replacedBy(message.replaces ?? '-'),
      keys.record(message.trackingNo),
      keys.byTime,
      ...inScript.map(([, key]) => String(key)),
      message.trackingNo,
      message.request?.id ?? '',
      message.request?.contentDigest ?? '',
      message.replaces ?? '',
      String(message.receivedAt),
      inScript.length,
      ...inScript.flatMap(([command, , value]) => [command.toUpperCase(), Buffer.isBuffer(value) ? value : String(value ?? '')]),
      ...fields,
    );
    return { verdict, trackingNo, state, unwritten: verdict === 'new' && inScript.length === 0 ? withNew : [] };
  }

  /**
   * A change or cancel that was refused (rejected, or `NOT_IN_FORCE`) no longer
   * names the request it replaced (province.md, *Order and chains*): a later
   * change or cancel may name it again. Returns whether the claim was released.
   */
  async releaseClaim(partner: string, replaced: string, claimant: string): Promise<boolean> {
    const scripted = this.#redis as unknown as { releaseReplacedClaim(key: string, claimant: string): Promise<number> };
    return (await scripted.releaseReplacedClaim(this.#keys.intake(partner).replacedBy(replaced), claimant)) === 1;
  }

  /** The body's text as received, decrypted; undefined without a record. */
  async rawBody(partner: string, trackingNo: string): Promise<string | undefined> {
    const body = await this.#redis.hgetBuffer(this.#keys.intake(partner).record(trackingNo), 'body');
    return body === null ? undefined : openBody(this.#cipher, body);
  }

  /** The body as received, decrypted and parsed; undefined without a record, `[unreadable]` when it cannot be read. */
  async body(partner: string, trackingNo: string): Promise<unknown> {
    const sealed = await this.#redis.hgetBuffer(this.#keys.intake(partner).record(trackingNo), 'body');
    if (sealed === null) return undefined;
    try {
      return JSON.parse(openBody(this.#cipher, sealed)) as unknown;
    } catch {
      return '[unreadable]';
    }
  }

  /** What a worker decodes; undefined when there is no record. */
  async load(partner: string, trackingNo: string): Promise<StoredMessage | undefined> {
    // read as bytes, since the body is binary (sealBody)
    const [operation, receivedAt, body] = await this.#redis.hmgetBuffer(this.#keys.intake(partner).record(trackingNo), 'operation', 'receivedAt', 'body');
    if (operation === null || operation === undefined || body === null || body === undefined) return undefined;
    return { operation: operation.toString('utf8'), receivedAt: Number(receivedAt?.toString('utf8') ?? 0), body: JSON.parse(openBody(this.#cipher, body)) as unknown };
  }

  async state(partner: string, trackingNo: string): Promise<string | null> {
    return this.#redis.hget(this.#keys.intake(partner).record(trackingNo), 'state');
  }

  /** the command that sets a record's state, for callers that send it with others */
  stateCommand(partner: string, trackingNo: string, state: MessageState): RedisCommand {
    return ['hset', this.#keys.intake(partner).record(trackingNo), 'state', state];
  }

  /** The record of a message, whichever of `partners` sent it, without its body. */
  async summary(partners: readonly string[], trackingNo: string): Promise<MessageSummary | undefined> {
    const found = await Promise.all(partners.map((partner) => this.#redis.hmget(this.#keys.intake(partner).record(trackingNo), ...SUMMARY_FIELDS)));
    for (const [partner, operation, state, receivedAt, requestId, searchIds] of found) {
      if (!partner) continue;
      return { trackingNo, partner, operation: operation ?? null, state: state ?? null, receivedAt: isoOf(Number(receivedAt)), requestId: requestId || null, ids: parseIds(searchIds) };
    }
    return undefined;
  }

  /** The ids a message carries, by kind (codes and numbers, no personal data). */
  async searchIds(partner: string, trackingNo: string): Promise<Record<string, string>> {
    return parseIds(await this.#redis.hget(this.#keys.intake(partner).record(trackingNo), 'searchIds'));
  }

  /** Tracking numbers received in [from, to], newest first, at most `limit`, with their receipt time. */
  async receivedBetween(partner: string, from: number, to: number, limit: number): Promise<{ trackingNo: string; at: number }[]> {
    const flat = await this.#redis.zrevrangebyscore(this.#keys.intake(partner).byTime, String(to), String(from), 'WITHSCORES', 'LIMIT', 0, limit);
    const pairs: { trackingNo: string; at: number }[] = [];
    for (let n = 0; n + 1 < flat.length; n += 2) pairs.push({ trackingNo: flat[n] as string, at: Number(flat[n + 1]) });
    return pairs;
  }

  /**
   * Records received in [from, to] that are still `received` (not processed,
   * held or dead-lettered), oldest first, at most `limit`: what the stranded
   * sweep checks for a lost job.
   */
  async stillReceived(partner: string, from: number, to: number, limit: number): Promise<string[]> {
    const keys = this.#keys.intake(partner);
    const found: string[] = [];
    for (let offset = 0; found.length < limit; offset += SCAN_PAGE) {
      const page = await this.#redis.zrangebyscore(keys.byTime, String(from), String(to), 'LIMIT', offset, SCAN_PAGE);
      if (page.length === 0) break;
      const reads = this.#redis.pipeline();
      for (const trackingNo of page) reads.hget(keys.record(trackingNo), 'state');
      const states = (await reads.exec()) ?? [];
      page.forEach((trackingNo, index) => {
        if (states[index]?.[1] === 'received') found.push(trackingNo);
      });
      if (page.length < SCAN_PAGE) break;
    }
    return found.slice(0, limit);
  }

  /**
   * Removes message-id keys whose record is gone; returns how many. A repeat
   * under a new message id (a province DATAUUID) of a known request is answered
   * by a message-id key naming the first message, which the record does not
   * list, so purgeBatch cannot find it: once that record is purged, the key
   * names nothing. A SCAN over the partner's message-id keys, `batch` a page,
   * finds them, on gateways that wrote them before this purge existed too;
   * each page is checked and deleted in one script on the partner's slot, so a
   * key is never deleted while its record exists, whoever runs it at once.
   */
  async purgeOrphanedMessageIds(partner: string, batch: number): Promise<number> {
    const keys = this.#keys.intake(partner);
    const scripted = this.#redis as unknown as { dropOrphanedMessageIds(numberOfKeys: number, ...args: string[]): Promise<number> };
    let dropped = 0;
    await scanKeys(this.#redis, keys.messageId('*'), batch, async (found) => {
      dropped += await scripted.dropOrphanedMessageIds(found.length, ...found, keys.record(''));
    });
    return dropped;
  }

  /**
   * Removes up to `batch` records received before `cutoffMs` with their
   * idempotency keys; returns them with the ids they were indexed by, so that
   * the caller can remove their traces and index entries. The time index goes
   * last: a purge cut short is picked up by the next run.
   */
  async purgeBatch(partner: string, cutoffMs: number, batch: number, removeTogether: (purged: { trackingNo: string; searchIds: Record<string, string> }[]) => Promise<void>): Promise<number> {
    const keys = this.#keys.intake(partner);
    const trackingNos = await this.#redis.zrangebyscore(keys.byTime, '-inf', String(cutoffMs), 'LIMIT', 0, batch);
    if (trackingNos.length === 0) return 0;
    const records = await Promise.all(trackingNos.map((trackingNo) => this.#redis.hmget(keys.record(trackingNo), 'messageKey', 'requestId', 'replaces', 'searchIds')));
    // one pipeline per hash tag: on Redis Cluster a pipeline must stay on one node
    const unlinks = this.#redis.pipeline();
    const purged = trackingNos.map((trackingNo, index) => {
      const [messageKey, requestId, replaces, searchIds] = records[index] ?? [];
      unlinks.unlink(keys.record(trackingNo));
      if (messageKey) unlinks.unlink(keys.messageId(messageKey));
      if (requestId) unlinks.unlink(keys.requestId(requestId));
      if (replaces) unlinks.unlink(keys.replacedBy(replaces));
      return { trackingNo, searchIds: parseIds(searchIds) };
    });
    await removeTogether(purged);
    unlinks.zrem(keys.byTime, ...trackingNos);
    await unlinks.exec();
    return trackingNos.length;
  }
}
