/**
 * What the fault run records, in the manner of a Jepsen history: every
 * message the load generator tried to hand to the gateway (with each attempt
 * and its answer), and every answer that reached a partner simulator.
 */
export type PartnerKind = 'province' | 'changsha';

/** One HTTP attempt to hand a message to the gateway. */
export interface Attempt {
  at: number;
  /** which api process it went to (its name, e.g. api-1) */
  api: string;
  /** HTTP status; 0 when no answer came (connection refused or reset, timeout) */
  status: number;
  /** the transport error, if any */
  error?: string;
  ms: number;
}

/**
 * One partner message (a province apply, a Changsha slot.requested), sent and
 * retried until the gateway acknowledges it, always with the same message id.
 */
export interface Operation {
  kind: PartnerKind;
  /** SERIES_NUMBER (province) or requestId (Changsha): what the answer names */
  id: string;
  /** DATAUUID (province) or eventId (Changsha): the same on every attempt */
  messageKey: string;
  firstSentAt: number;
  attempts: Attempt[];
  /** set once the gateway answered 200 (province) or 202 (Changsha) */
  ackedAt?: number;
  /** TRACKING_NO / trackingId of the acknowledgement */
  trackingNo?: string;
  /** a final refusal by the gateway (a 4xx other than 429): never acknowledged */
  refusedStatus?: number;
  /** the generator gave up (the run ended) before an acknowledgement */
  abandoned?: boolean;
}

/** One answer as it reached a partner simulator. */
export interface Answer {
  at: number;
  /** SERIES_NUMBER or requestId */
  id: string;
  /** DATAUUID (notify) or eventId (slot.offered / slot.declined) */
  messageId: string;
  /** approved | rejected (province); offered | declined (Changsha) */
  outcome: string;
  room: string;
  seats: string[];
  /** the simulator had already received this message id (Changsha answered 409) */
  repeatOfId: boolean;
}

export interface AnswerLog {
  province: Map<string, Answer[]>;
  changsha: Map<string, Answer[]>;
}

/** A fault as it was applied: when it began and when it was healed. */
export interface FaultWindow {
  name: string;
  description: string;
  injectedAt: number;
  healedAt: number;
  /** facts observed while injecting (pids, jobs in flight, exit codes) */
  notes: string[];
}
