/**
 * What Zhuzhou, as host, asks of a partner that dispatches for several guest
 * centers at once (the province): the port's own terms, free of wire field
 * names, so that the host flow never builds a partner's body itself.
 * Times are ISO 8601 with an offset.
 */

/** One guest venue of a host plan and the experts (seats) it must seat. */
export interface HostGuest {
  center: string;
  seats: number;
}

/** The complete plan of a host evaluation: what `apply` asks for, and what a `change` replaces it with. */
export interface HostPlan {
  tenderProjectCode: string;
  bidSectionCode: string;
  projectName: string;
  sector: 'GCJS' | 'ZFCG';
  /** national project type (A01..A99), for GCJS only */
  projectType?: string;
  start: string;
  end: string;
  /** Zhuzhou's own room, booked in its ledger before applying */
  hostRoomId: string;
  hostSeats: number;
  /** personal data */
  contact: { name: string; phone: string };
  guests: readonly HostGuest[];
  remark?: string;
}

/** The host's lifecycle. `resumed` goes to the province as `started` (its "1"): it does not tell them apart. */
export type HostLifecycleStatus = 'started' | 'paused' | 'resumed' | 'ended' | 'archived';

export type HostApplicationMessage =
  | { kind: 'apply'; plan: HostPlan }
  /** `replaces`: the partner's id of the application in force */
  | { kind: 'change'; plan: HostPlan; replaces: string; reason: string }
  /** `replaces`: the application in force, or one still undecided */
  | { kind: 'cancel'; replaces: string; reason: string }
  /** `applicationId`: the application in force; `reason` is required for `paused` */
  | { kind: 'status'; applicationId: string; status: HostLifecycleStatus; at: string; reason?: string };

/** Free seats of a guest center over a window, as its dispatcher answers. Advisory: nothing is held. */
export interface SeatCheckQuery {
  center: string;
  start: string;
  end: string;
  seats: number;
}

export interface SeatCheckRoom {
  name: string;
  freeSeats: number;
  /** whether this room alone can take the seats asked for */
  meets: boolean;
}

export interface SeatCheckResult {
  center: string;
  centerName: string;
  /** whether at least one room meets the request */
  meets: boolean;
  rooms: SeatCheckRoom[];
}
