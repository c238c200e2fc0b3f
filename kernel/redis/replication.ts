import type { Redis } from 'ioredis';
import { GatewayError } from '../errors.ts';

/** The sessions of some connections at one moment: a WAIT only vouches for its own session's master. */
export type ReplicationMark = ReadonlyMap<Redis, number>;

/** what mark() hands out when no replica is waited for: nothing to allocate on every request */
const NOTHING_MARKED: ReplicationMark = new Map();

export interface ReplicationSettings {
  waitReplicas: number;
  waitTimeoutMs: number;
}

/**
 * Makes writes wait for the replicas before anyone outside hears of them.
 * Redis replicates asynchronously: without this, a Sentinel failover loses
 * whatever the promoted replica had not received, answered messages included.
 *
 * `WAIT` covers the master's replication stream up to its own connection's
 * last write, so each connection that wrote sends a write of its own (`INCR`
 * of one key) and then the WAIT: acknowledged, everything that master took
 * before is on the replicas, whoever wrote it. It vouches for the right master
 * only if the connections kept their session from `mark()` (before the writes)
 * to the answer: after a reconnect ioredis resends what was unanswered, maybe
 * to a new master. So `mark()` notes the connections' close counts, and any
 * close in between fails the confirmation (the partner gets 503 and retries;
 * a job is retried).
 */
export class ReplicaAcknowledgement {
  readonly replicas: number;
  readonly timeoutMs: number;
  readonly #barrierKey: string;
  readonly #retryAfterMs: number;
  readonly #closes = new WeakMap<Redis, number>();
  readonly #rounds = new WeakMap<Redis, { running?: Promise<number>; next?: Promise<number> }>();

  /** barrierKey: the key each WAIT's preceding write increments; retryAfterMs: what a partner is told to wait after a 503 */
  constructor(settings: ReplicationSettings, connections: readonly Redis[], options: { barrierKey: string; retryAfterMs: number }) {
    this.replicas = settings.waitReplicas;
    this.timeoutMs = settings.waitTimeoutMs;
    this.#barrierKey = options.barrierKey;
    this.#retryAfterMs = options.retryAfterMs;
    if (this.replicas === 0) return;
    for (const connection of connections) {
      this.#closes.set(connection, 0);
      connection.on('close', () => this.#closes.set(connection, (this.#closes.get(connection) ?? 0) + 1));
    }
  }

  /** Call before the writes that `confirm` is to vouch for, naming the connections they go through. */
  mark(...connections: Redis[]): ReplicationMark {
    if (this.replicas === 0) return NOTHING_MARKED;
    return new Map(connections.map((connection) => [connection, this.#sessionOf(connection)]));
  }

  /** Resolves once `replicas` replicas hold every write made on the marked connections since `mark`; else STORE_UNAVAILABLE. */
  async confirm(mark: ReplicationMark): Promise<void> {
    if (this.replicas === 0) return;
    const counts = await Promise.all([...mark.keys()].map((connection) => this.#nextRound(connection)));
    for (const [connection, session] of mark) {
      if (this.#sessionOf(connection) !== session) throw this.#unconfirmed('a Redis connection was lost before the replicas acknowledged');
    }
    const fewest = Math.min(...counts);
    if (fewest < this.replicas) throw this.#unconfirmed(`${fewest} of ${this.replicas} replicas acknowledged within ${this.timeoutMs} ms`);
  }

  /**
   * The acknowledgement of the next barrier on `connection` not yet sent. A WAIT
   * holds its connection until it is answered, so one at a time: callers that
   * come meanwhile share the round after it (sent after their writes, so it
   * covers them), instead of each queueing a WAIT of its own behind it.
   */
  #nextRound(connection: Redis): Promise<number> {
    let rounds = this.#rounds.get(connection);
    if (!rounds) {
      rounds = {};
      this.#rounds.set(connection, rounds);
    }
    const state = rounds;
    if (state.next) return state.next;
    const previous = state.running;
    const acknowledged = (async () => {
      // always a tick first: callers of this tick join this round before it is sent
      await (previous ?? Promise.resolve(0)).catch(() => 0);
      // sent now: whoever comes next needs the round after it
      state.next = undefined;
      return this.#barrier(connection);
    })();
    state.next = acknowledged;
    state.running = acknowledged;
    void acknowledged
      .finally(() => {
        if (state.running === acknowledged) state.running = undefined;
      })
      .catch(() => undefined);
    return acknowledged;
  }

  async #barrier(connection: Redis): Promise<number> {
    let results: [Error | null, unknown][] | null;
    try {
      results = await connection.pipeline().incr(this.#barrierKey).wait(this.replicas, this.timeoutMs).exec();
    } catch (error) {
      throw this.#unconfirmed('the WAIT for the replicas failed', error);
    }
    const failed = results?.find(([error]) => error !== null)?.[0];
    if (failed || results?.[1] === undefined) throw this.#unconfirmed('the WAIT for the replicas failed', failed ?? undefined);
    return Number(results[1][1]);
  }

  #sessionOf(connection: Redis): number {
    const closes = this.#closes.get(connection);
    if (closes === undefined) throw new Error('ReplicaAcknowledgement: connection not watched');
    return closes;
  }

  #unconfirmed(reason: string, cause?: unknown): GatewayError {
    return new GatewayError('STORE_UNAVAILABLE', reason, { retryAfterMs: this.#retryAfterMs, ...(cause === undefined ? {} : { cause }) });
  }
}

/** Replicas connected to the master behind `redis`, as the master counts them (INFO replication). */
export async function connectedReplicas(redis: Redis): Promise<number> {
  return Number(/^connected_slaves:(\d+)/m.exec(await redis.info('replication'))?.[1] ?? 0);
}
