/**
 * Every Redis key the gateway owns, in one place. Keys written together by one
 * script share a hash tag, so that they stay in one slot on Redis Cluster:
 * intake keys per partner `{in:<partner>}`, ledger keys `{ledger}`.
 */
export class Keys {
  readonly namespace: string;

  constructor(namespace: string) {
    this.namespace = namespace;
  }

  /** BullMQ's prefix for every queue of this gateway */
  get queuePrefix(): string {
    return `${this.namespace}:bull`;
  }

  intake(partner: string) {
    const base = `${this.namespace}:{in:${partner}}`;
    return {
      record: (trackingNo: string) => `${base}:msg:${trackingNo}`,
      messageId: (messageKey: string) => `${base}:mid:${messageKey}`,
      requestId: (requestKey: string) => `${base}:rid:${requestKey}`,
      replacedBy: (originalId: string) => `${base}:replaced:${originalId}`,
      rate: `${base}:rate`,
    };
  }

  get ledger() {
    const base = `${this.namespace}:{ledger}`;
    return {
      base,
      request: (partner: string, requestId: string) => `${base}:req:${partner}:${requestId}`,
      occupancy: (resourceId: string) => `${base}:occ:${resourceId}`,
      waiting: (partner: string, originalId: string) => `${base}:wait:${partner}:${originalId}`,
    };
  }

  trace(trackingNo: string): string {
    return `${this.namespace}:trace:${trackingNo}`;
  }

  /** lookup of tracking numbers by any id a message carries */
  index(kind: string, value: string): string {
    return `${this.namespace}:ix:${kind}:${value}`;
  }

  get deadLetters() {
    return {
      entry: (id: string) => `${this.namespace}:dlq:${id}`,
      byTime: `${this.namespace}:dlq:by-time`,
    };
  }
}
