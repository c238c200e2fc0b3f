import type { IncomingHttpHeaders } from 'node:http';
import type { Availability, BookingDecision, BookingRequest, ExceptionReport, HostApplicationEvent, HostEvent, HostMessage } from '../schemas/types.generated.ts';
import type { HostApplicationMessage, SeatCheckQuery, SeatCheckResult } from './host-applications.ts';
import type { GatewayError } from '../kernel/errors.ts';
import type { Violation } from '../schemas/registry.ts';

export type PartnerId = 'province' | 'changsha';

/** What a partner's message means, in the gateway's own terms. */
export type CanonicalEvent = BookingRequest | HostEvent | Availability | HostApplicationEvent;

/** What the edge hands an adapter: the request as it came off the wire. */
export interface InboundHttp {
  operation: string;
  rawBody: Buffer;
  headers: IncomingHttpHeaders;
  receivedAt: number;
}

/** An inbound message that passed schema, signature and rules, ready to be recorded. */
export interface InboundMessage {
  operation: string;
  /** the partner's message id: a repeat is answered with the first answer */
  messageKey: string;
  /** the partner's request id and a digest of its content: same id, other content is a conflict */
  request?: { id: string; contentDigest: string };
  /** the request this one replaces: only one accepted message may name it */
  replaces?: string;
  /** a request that must already be known, else 404 */
  refersTo?: string;
  /** a request the ledger must hold in force for this partner (a host's lifecycle report), else 422 NOT_IN_FORCE */
  inForce?: string;
  /** the JSON Pointer of the field naming `inForce`, where that 422 points; `/data/requestId` when absent */
  inForcePath?: string;
  /** ids an operator may search by, e.g. dataUuid, series, section */
  searchIds: Record<string, string>;
}

/**
 * What an adapter's check of a partner's message found: the value it read, or
 * the catalog error to answer the partner with (not thrown: a bad message is
 * the caller's mistake, answered in its own format, not an exception).
 */
export type Checked<T> = { ok: true; value: T } | { ok: false; error: GatewayError };

/** A message to send to a partner, already in its wire shape apart from signing. */
export interface OutboundMessage {
  partner: PartnerId;
  operation: string;
  /** stable across resends, so the partner can recognise a repeat */
  messageId: string;
  body: Record<string, unknown>;
}

/** One request in force at the partner, with what recording it as if pushed needs. */
export interface ScheduledRequest {
  requestId: string;
  replaces?: string;
  start: number;
  end: number;
  seats: number;
  /** the message the partner would have pushed: operation and wire body */
  asPushed: { operation: string; body: unknown; contentDigest: string; searchIds: Record<string, string> };
}

export type DeliveryResult =
  | { kind: 'delivered'; status: number; answer: unknown }
  | { kind: 'retry'; status?: number; answer?: unknown; retryAfterMs?: number; reason: string }
  | { kind: 'refused'; status?: number; answer?: unknown; reason: string };

/** A seat check the partner answered, or why it was not answered. */
export type SeatCheckOutcome = { kind: 'checked'; status: number; result: SeatCheckResult } | Exclude<DeliveryResult, { kind: 'delivered' }>;

export interface HttpAnswer {
  status: number;
  headers?: Record<string, string>;
  /** defaults to application/json */
  contentType?: string;
  body: unknown;
}

export interface DeliveryOptions {
  /** a shorter bound than the partner's configured timeout (a worker's direct first attempt) */
  timeoutMs?: number;
}

/** One labelled value the message lab shows (never a secret nor an expected signature). */
export interface LabValue {
  label: string;
  value: string;
}

/**
 * How a message's signature was checked, step by step, for the message lab:
 * what was signed and whether it matched, never what the signature should have
 * been (the lab must not sign for whoever pastes a message).
 */
export interface LabSignature {
  /** what the partner signs: canonical JSON, its digest, the signing string… */
  signed: LabValue[];
  /** whether the sender is one the gateway knows (SYSTEM_NO, key id) */
  sender: { known: boolean; value: string };
  /** per configured secret, whether the message's signature matches under it; absent secrets are listed as not configured */
  secrets: { name: 'current' | 'previous'; configured: boolean; matches: boolean }[];
  /** the time the partner signed at, against our clock and the accepted window; undefined when the message gives none */
  clock?: { signedAt: number; distanceSeconds: number; toleranceSeconds: number };
  /** why the signature could not be checked at all (a malformed header, say) */
  problem?: string;
}

/**
 * The port every partner implements. The edge and the queues only ever talk to
 * partners through it, so adding a partner is adding one adapter folder.
 */
export interface PartnerAdapter {
  readonly id: PartnerId;
  /** inbound routes: POST /partners/<id>/<operation> */
  readonly operations: readonly string[];
  readonly rateLimitPerSecond: number;
  /** the signature covers the raw body and headers only, so it is checked before the schema */
  readonly signsRawBody: boolean;

  /** Parses and checks the schema of a body; every violation is listed. */
  validate(operation: string, body: unknown): { ok: true } | { ok: false; violations: Violation[] };
  /** Checks the signature, sender and time. Called only on schema-valid bodies. */
  authenticate(http: InboundHttp, body: unknown): Checked<void>;
  /** Business rules (422) and the keys the edge records the message under. */
  inspect(http: InboundHttp, body: unknown): Checked<InboundMessage>;

  /** Answer for an accepted (or repeated) message. */
  accepted(trackingNo: string): HttpAnswer;
  /** Answer for an error, in the partner's own format. */
  rejected(error: GatewayError): HttpAnswer;

  /** A recorded message to the canonical model. */
  decode(operation: string, body: unknown, meta: { trackingNo: string; receivedAt: number }): CanonicalEvent;
  /**
   * The id of a message we send (province: DATAUUID, Changsha: eventId),
   * derived from what caused it, so that a job run twice sends the same id.
   */
  messageIdFor(cause: string): string;
  /** A ledger decision to the partner's wire message; undefined when the partner is not told. */
  encodeDecision(decision: BookingDecision, messageId: string): OutboundMessage | undefined;
  /** Sends one message: signs, posts, and classifies the answer. Never throws. */
  deliver(message: OutboundMessage, options?: DeliveryOptions): Promise<DeliveryResult>;

  /** Partners with whom Zhuzhou also hosts: it asks them for seats. */
  readonly host?: {
    encode(message: HostMessage, messageId: string): OutboundMessage;
  };
  /** Partners through which Zhuzhou applies as host for several guest centers at once (the province). */
  readonly hostApplications?: {
    /**
     * The wire message of a host message, for `deliver`. A message breaking the
     * partner's rules is refused here (SEMANTIC_INVALID, every violation listed)
     * rather than by the partner, for good, after it was queued.
     */
    encode(message: HostApplicationMessage, messageId: string): Checked<OutboundMessage>;
    /**
     * The partner's id of what a delivered message created (province: the
     * SERIES_NUMBER it assigned to a host-apply, host-change or host-cancel);
     * undefined when the answer names none of the right kind.
     */
    applicationIdOf(operation: string, answer: unknown): string | undefined;
    /** Asks for a guest center's free seats (advisory: nothing is held); refused unsent when it breaks the rules; never throws otherwise. */
    seatCheck(query: SeatCheckQuery, messageId: string, options?: DeliveryOptions): Promise<Checked<SeatCheckOutcome>>;
  };
  /** Partners that keep the authoritative schedule of what they booked with Zhuzhou. */
  readonly reconciliation?: {
    /** every request the partner holds in force starting on `date` (yyyyMMdd, Beijing); throws when it cannot be had */
    fetchSchedule(date: string): Promise<ScheduledRequest[]>;
  };
  /** Partners that hear of problems with what they booked. */
  readonly exceptions?: {
    encode(report: ExceptionReport, messageId: string): OutboundMessage;
  };
  /**
   * The message lab's view of a signature check (read only, never an expected
   * token); a partner without it shows only authenticate()'s verdict.
   */
  readonly lab?: {
    /** request headers (lower case) the checks read besides Content-Type: what a refused request keeps of its headers */
    readonly headers: readonly string[];
    signature(http: InboundHttp, body: unknown): LabSignature;
  };
  /** Partners that exchange room availability. */
  readonly availability?: {
    /** the partner's current availability; throws when it cannot be had */
    fetch(from: number, to: number): Promise<Availability>;
    encode(availability: Availability, messageId: string): OutboundMessage;
  };
}
