/**
 * Every Redis key the gateway owns, in one place, all under `<namespace>:`.
 * Keys written together (one script, one MULTI, one pipeline) share a hash tag,
 * so that they stay in one slot on Redis Cluster:
 * - `{bull}`: every BullMQ queue (its scripts touch many keys of one queue);
 * - `{in:<partner>}`: a partner's intake records, idempotency keys, time index, rate limit;
 * - `{ledger}`: the room ledger (one script decides over every room);
 * - `{ix}`: the search index (its entries once went in a pipeline of their own;
 *   sendTogether no longer needs one slot, but renaming keys means a migration);
 * - `{dlq}`: dead letters and their time index (one MULTI).
 * Untagged keys (traces, seat requests, availability snapshots, refused requests) are only ever
 * used one key per command, so they spread over the cluster.
 * The tags do not name the namespace: gateways sharing one cluster share slots.
 */
export class Keys {
  readonly namespace: string;

  constructor(namespace: string) {
    this.namespace = namespace;
  }

  /**
   * BullMQ's prefix for every queue of this gateway. BullMQ names a queue's keys
   * `<prefix>:<queue>:<suffix>` and its scripts touch several at once, so the
   * prefix carries the hash tag (BullMQ's advice for Redis Cluster).
   */
  get queuePrefix(): string {
    return `${this.namespace}:{bull}`;
  }

  intake(partner: string) {
    const base = `${this.namespace}:{in:${partner}}`;
    return {
      record: (trackingNo: string) => `${base}:msg:${trackingNo}`,
      messageId: (messageKey: string) => `${base}:mid:${messageKey}`,
      requestId: (requestKey: string) => `${base}:rid:${requestKey}`,
      replacedBy: (originalId: string) => `${base}:replaced:${originalId}`,
      /** tracking numbers by receipt time, for retention */
      byTime: `${base}:by-time`,
      rate: `${base}:rate`,
    };
  }

  get ledger() {
    const base = `${this.namespace}:{ledger}`;
    return {
      base,
      request: (partner: string, requestId: string) => `${base}:req:${partner}:${requestId}`,
      /** a resource's bookings in a ledger from before the occupancy index (decide.lua builds the index from them) */
      occupancy: (resourceId: string) => `${base}:occ:${resourceId}`,
      /** every booking, one member `<start>:<end>:<owner>|<resource>,...` scored by its start (decide.lua derives the same keys) */
      occupancyIndex: `${base}:occ-index`,
      /** set once the index holds every booking */
      occupancyIndexBuilt: `${base}:occ-index:built`,
      waiting: (partner: string, originalId: string) => `${base}:wait:${partner}:${originalId}`,
      /** live holds by expiry (decide.lua derives the same key from `base`) */
      holds: `${base}:holds`,
    };
  }

  trace(trackingNo: string): string {
    return `${this.namespace}:trace:${trackingNo}`;
  }

  /**
   * lookup of tracking numbers by any id a message carries, one sorted set a
   * kind: members `<value>\0<trackingNo>`, all scored 0, read by lexical range
   * (TraceStore.indexCommands)
   */
  indexOf(kind: string): string {
    return `${this.namespace}:{ix}:${kind}`;
  }

  /** a set of tracking numbers an id named before issue 16 (one key an id), still read and purged */
  index(kind: string, value: string): string {
    return `${this.namespace}:{ix}:${kind}:${value}`;
  }

  /** an entry and the time index are written in one MULTI */
  get deadLetters() {
    const base = `${this.namespace}:{dlq}`;
    return {
      entry: (id: string) => `${base}:${id}`,
      byTime: `${base}:by-time`,
    };
  }

  /** a seat request Zhuzhou made as host (one key, changed by compare-and-set) */
  seatRequest(requestId: string): string {
    return `${this.namespace}:host:seat-request:${requestId}`;
  }

  /**
   * seat request ids by the end of their life (the later of their creation and
   * their window's end, epoch ms), for retention; requests made before it
   * existed are found by SCAN and added (SeatRequestStore.purgeBefore)
   */
  get seatRequestsByEnd(): string {
    return `${this.namespace}:host:seat-requests:by-end`;
  }

  /** a host evaluation (Zhuzhou as host: one JSON value, changed by compare-and-set) */
  hostEvaluation(id: string): string {
    return `${this.namespace}:host:evaluation:${id}`;
  }

  /** host evaluation ids by the start of their window (epoch ms), for the day's list */
  get hostEvaluationsByStart(): string {
    return `${this.namespace}:host:evaluations:by-start`;
  }

  /** the host evaluation a partner's application id (province SERIES_NUMBER) belongs to */
  hostApplication(applicationId: string): string {
    return `${this.namespace}:host:application:${applicationId}`;
  }

  /** pushes about an application that overtook its answer: held, in order, until the answer is recorded */
  hostApplicationHeld(applicationId: string): string {
    return `${this.namespace}:host:application-held:${applicationId}`;
  }

  /** host evaluations by when the flow must look at them again (a deadline, a hold's margin, an unfinished outbox) */
  get hostWake(): string {
    return `${this.namespace}:host:wake`;
  }

  /** the evaluation a bid section is being hosted by (one evaluation per bid section) */
  hostSection(sectionCode: string): string {
    return `${this.namespace}:host:section:${sectionCode}`;
  }

  /** an operator account of the dashboard */
  opsAccount(username: string): string {
    return `${this.namespace}:ops:account:${username}`;
  }

  /** a dashboard session */
  opsSession(sessionId: string): string {
    return `${this.namespace}:ops:session:${sessionId}`;
  }

  /** prefix of the message lab's runs per operator and minute (rate-limiter-flexible adds the operator) */
  get opsLabRate(): string {
    return `${this.namespace}:ops:lab-rate`;
  }

  /** dashboard logins from one client address in one minute (a counter that expires) */
  opsLoginRate(address: string, minute: number): string {
    return `${this.namespace}:ops:login-rate:${minute}:${address}`;
  }

  /**
   * The audit chain: entries oldest first, its head, and the anchor left by
   * retention; and the counts of rejections waiting for their minute's summary
   * entry, with the minutes that have some. One tag: one script appends a
   * summary and removes its counts.
   */
  get auditChain() {
    const base = `${this.namespace}:{audit}`;
    return {
      log: `${base}:log`,
      head: `${base}:head`,
      anchor: `${base}:anchor`,
      /** sorted set: minutes (epoch minute) with counts not yet summarised */
      summaries: `${base}:summaries`,
      /** hash of one minute's counts, by actor, action, result and what is counted */
      summary: (minute: number) => `${base}:summary:${minute}`,
    };
  }

  /** written just before each WAIT for the replicas (replication.ts) */
  get replicationBarrier(): string {
    return `${this.namespace}:replication:barrier`;
  }

  /** reconciliation runs (a capped list) and when the last finished */
  get reconciliation() {
    return { runs: `${this.namespace}:reconciliation:runs`, last: `${this.namespace}:reconciliation:last` };
  }

  /** hash: what the sweep for stranded messages found (totals and times) */
  get strandedSweeps(): string {
    return `${this.namespace}:stranded-sweeps`;
  }

  /**
   * sorted set: a partner's last refused requests, sealed, by when they were
   * refused (stores/refused-requests.ts; one key per script, so untagged)
   */
  refusedRequests(partner: string): string {
    return `${this.namespace}:refused:${partner}`;
  }

  /** a partner's latest availability snapshot (one key) */
  availability(partner: string): string {
    return `${this.namespace}:availability:${partner}`;
  }

  /**
   * Operational statistics (telemetry/statistics.ts). One tag, `{ops}`: an answer's
   * counters, its security event and the day's counter go in one pipeline, and
   * the dashboard reads many of them in one pipeline. All are small and expire.
   */
  get stats() {
    const base = `${this.namespace}:{ops}`;
    return {
      /** hash: lastIn, lastOut (epoch ms) */
      partner: (partner: string) => `${base}:partner:${partner}`,
      /** hash of one minute's counters (answers by status class, deliveries by outcome) */
      minute: (partner: string, minute: number) => `${base}:minute:${partner}:${minute}`,
      /** capped list of security events, newest first */
      securityEvents: `${base}:security`,
      /** hash `<partner>:<kind>` -> count for one Beijing day (yyyy-MM-dd) */
      securityDay: (day: string) => `${base}:security:day:${day}`,
      /** sorted set: worker process ids by their last breaker report (epoch ms) */
      breakerProcesses: `${base}:breakers`,
      /** hash `<partner>` -> breaker state of one worker process; expires unless refreshed */
      breakerProcess: (processId: string) => `${base}:breakers:${processId}`,
    };
  }
}
