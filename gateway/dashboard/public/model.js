// Types of the data the pages read (gateway/dashboard/views/), for the editor and
// ESLint only: no page loads this file.

/** @typedef {'green' | 'amber' | 'red'} Health */
/** @typedef {'viewer' | 'operator' | 'admin'} Role */
/** @typedef {{ username: string, role: Role }} User */
/** @typedef {{ scope: string, code: string, health: 'amber' | 'red', zh: string, en: string }} Reason */

/**
 * @typedef {object} Meta
 * @property {User} user
 * @property {{ areaCode: string, systemNo: string, name: string }} center
 * @property {number} idleMinutes
 * @property {string[]} partners
 * @property {{ name: string, kind: string, partner: string | null }[]} queues
 * @property {{ id: string, kind: string, seats: number, address: string }[]} rooms
 * @property {{ start: string, end: string }} openingHours
 * @property {string[]} securityKinds
 * @property {string[]} exceptionTypes
 * @property {string[]} searchKinds
 * @property {string} today
 */

/**
 * @typedef {object} WindowStats
 * @property {number} minutes
 * @property {{ total: number, '2xx': number, '4xx': number, '5xx': number }} answers
 * @property {number | null} errorRate
 * @property {{ delivered: number, retry: number, refused: number, 'circuit-open': number }} deliveries
 */

/**
 * @typedef {object} PartnerView
 * @property {string} partner
 * @property {string | null} lastIn
 * @property {string | null} lastOut
 * @property {WindowStats} last15m
 * @property {WindowStats} last1h
 * @property {{ count: number, oldestSince: string | null, oldestSeconds: number | null, capped: boolean, retryHours: number } | null} waitingAnswers
 * @property {{ open: number, halfOpen: number, closed: number, processes: { processId: string, state: string, since: string }[] } | null} breaker
 * @property {'closed' | 'half-open' | 'open' | 'unknown'} circuit
 * @property {Health} health
 * @property {Reason[]} reasons
 */

/**
 * @typedef {object} QueueView
 * @property {string} name
 * @property {string} kind
 * @property {string | null} partner
 * @property {{ waiting: number, active: number, delayed: number, failed: number, prioritized: number, completed: number }} counts
 * @property {number} completedLast5m
 * @property {number} completedLast15m
 * @property {number} failedLast15m
 * @property {number} ratePerMinute
 * @property {number | null} oldestWaitingSeconds
 * @property {number | null} workers
 * @property {boolean} paused
 * @property {Health} health
 * @property {Reason[]} reasons
 */

/**
 * @typedef {object} RunSummary
 * @property {string} runId
 * @property {string} reason
 * @property {string} partner
 * @property {string} startedAt
 * @property {string} finishedAt
 * @property {number} missed
 * @property {number} different
 * @property {number} extra
 * @property {number} pending
 * @property {number} errors
 * @property {string[]} errorSamples
 * @property {Health} health
 * @property {Reason[]} reasons
 */

/**
 * @typedef {object} PeriodicJob
 * @property {string} id
 * @property {string} name
 * @property {'completed' | 'failed'} outcome
 * @property {string | null} finishedAt
 * @property {number | null} durationMs
 * @property {number} attempts
 * @property {unknown} [returnValue]
 * @property {string} [failedReason]
 */

/**
 * @typedef {object} Overview
 * @property {string} generatedAt
 * @property {Health} health
 * @property {Reason[]} reasons
 * @property {PartnerView[]} partners
 * @property {QueueView[]} queues
 * @property {{ pending: number, oldestPendingAt: string | null, total: number, capped: boolean, health: Health, reasons: Reason[] }} deadLetters
 * @property {{ lastReconciliationAt: string | null, reconciliations: RunSummary[], periodic: PeriodicJob[], health: Health, reasons: Reason[] }} scheduler
 * @property {{ health: Health, reasons: Reason[] }} calendar
 */

/**
 * @typedef {object} BoardBooking
 * @property {string} resource
 * @property {string} owner
 * @property {string} partner
 * @property {string} requestId
 * @property {string} start
 * @property {string} end
 * @property {'booking' | 'hold'} kind
 * @property {string} state
 * @property {string | null} holdUntil
 * @property {boolean} holdExpired
 * @property {number | null} seats
 * @property {string | null} roomId
 * @property {string | null} trackingNo
 * @property {Record<string, string>} ids
 * @property {{ status: string, at: string } | null} lifecycle the host's evaluation, once reported
 * @property {string | null} bookedEnd the end as booked, when the host's end freed the room earlier
 * @property {string | null} hostEvaluationId Zhuzhou's own host room: the evaluation it serves
 */

/**
 * @typedef {object} RoomBoard
 * @property {string} from
 * @property {number} days
 * @property {{ start: string, end: string }} openingHours
 * @property {{ id: string, kind: string, seats: number, address: string, resources: string[] }[]} rooms
 * @property {{ date: string, weekday: number, closed: boolean, provisional: boolean }[]} dates
 * @property {BoardBooking[]} bookings
 * @property {boolean} capped
 */

/**
 * @typedef {object} MessageSummary
 * @property {string} trackingNo
 * @property {string | null} partner
 * @property {string | null} operation
 * @property {string | null} state
 * @property {string | null} receivedAt
 * @property {string | null} requestId
 * @property {Record<string, string>} ids
 */

/** @typedef {{ at: string, stage: string } & Record<string, unknown>} TraceEntry */

/**
 * @typedef {object} LedgerView
 * @property {string} requestId
 * @property {string | null} state
 * @property {string | null} start
 * @property {string | null} end
 * @property {number | null} seats
 * @property {string | null} roomId
 * @property {string[]} seatIds
 * @property {string | null} outcome
 * @property {string | null} reason
 * @property {string | null} kind
 * @property {string | null} decidedAt
 * @property {string | null} holdUntil
 */

/**
 * @typedef {object} DeadLetterSummary
 * @property {string} id
 * @property {string} at
 * @property {string} queue
 * @property {string} jobName
 * @property {string} jobId
 * @property {string} partner
 * @property {string} trackingNo
 * @property {string} reason
 * @property {number} attempts
 * @property {'pending' | 'replayed' | 'discarded'} status
 * @property {string | null} replayedAt
 * @property {string | null} replayJobId
 * @property {{ at: string, by: string, reason: string } | null} discarded
 */

/**
 * @typedef {MessageSummary & {
 *   raw: unknown,
 *   trace: TraceEntry[],
 *   traceTotal: number,
 *   ledger: LedgerView | null,
 *   deadLetters: DeadLetterSummary[],
 *   exception: { possible: boolean, seriesNumber: string | null },
 * }} MessageDetail
 */

/**
 * @typedef {object} DeadLetterList
 * @property {DeadLetterSummary[]} items
 * @property {number} matching
 * @property {{ pending: number, replayed: number, discarded: number }} counts
 * @property {number} total
 * @property {boolean} capped
 * @property {string[]} queues
 */

/** @typedef {{ at: string, partner: string, kind: string, status: number, code: string, requestId: string, remoteAddress: string, refused?: string }} SecurityEvent */

/**
 * @typedef {object} SecurityData
 * @property {SecurityEvent[]} events
 * @property {{ day: string, partner: string, kind: string, count: number }[]} daily
 * @property {{ partner: string, last15m: { total: number, '4xx': number, '5xx': number, errorRate: number | null }, last1h: { total: number, '4xx': number, '5xx': number, errorRate: number | null } }[]} byPartner
 * @property {string[]} kinds
 */

/** @typedef {{ seq?: number, at: string, actor: string, action: string, target?: string, from: string, result: string, detail?: Record<string, unknown> }} AuditEntry */

/**
 * @typedef {object} RunDetail
 * @property {string} runId
 * @property {string} reason
 * @property {string} partner
 * @property {string} startedAt
 * @property {string} finishedAt
 * @property {Health} health
 * @property {Reason[]} reasons
 * @property {string[]} days
 * @property {string[]} missed
 * @property {{ requestId: string, partner: { start: string, end: string, seats: number }, gateway: { state: string, roomId: string, start?: string, end?: string, seats?: number } }[]} different
 * @property {string[]} extra
 * @property {string[]} pending
 * @property {string[]} errors
 * @property {{ missed: number, different: number, extra: number, pending: number, errors: number }} counts
 */

/**
 * @typedef {object} HostLegView
 * @property {string} center
 * @property {string} partner
 * @property {'requested' | 'offered' | 'approved' | 'confirmed' | 'declined' | 'released' | 'cancelled'} state
 * @property {number} seats
 * @property {string | null} roomName
 * @property {string | null} roomAddress
 * @property {string[]} seatNumbers
 * @property {string} [seriesNumber]
 * @property {string} [requestId]
 * @property {string | null} reason
 */

/** @typedef {{ roomId: string | null, seats: number, seatIds: string[], state: string }} HostRoomView */

/**
 * @typedef {object} HostEvaluationView
 * @property {string} id
 * @property {'requested' | 'in-force' | 'failed' | 'changing' | 'cancelled'} state
 * @property {string | null} reason
 * @property {'not-started' | 'started' | 'paused' | 'ended' | 'archived'} lifecycle
 * @property {{ start: string, end: string }} window
 * @property {HostRoomView} hostRoom
 * @property {HostLegView[]} legs
 * @property {null | { number: number, reason: string, window: { start: string, end: string }, hostRoom: HostRoomView, legs: HostLegView[] }} change
 * @property {string | null} needsOperator
 * @property {string | null} lastChangeFailure
 * @property {string} projectCode
 * @property {string} sectionCode
 * @property {string} projectName
 * @property {string} tradeType
 * @property {string | null} [projectType]
 * @property {string} agentContact masked
 * @property {string} agentPhone masked
 * @property {string} createdAt
 * @property {TraceEntry[]} trace
 * @property {number} traceTotal
 */

/**
 * @typedef {object} HostDay
 * @property {string} date
 * @property {string} generatedAt
 * @property {HostEvaluationView[]} items
 * @property {{ center: string, partner: string | null }[]} centers the guest centers a plan may name
 * @property {string} host this center's area code
 */

/**
 * @typedef {object} SeatCheckView
 * @property {string} center
 * @property {string} partner
 * @property {'seat-check' | 'availability'} source
 * @property {boolean} meets
 * @property {{ name: string, freeSeats: number, meets: boolean }[]} rooms
 * @property {string | null} [receivedAt] Changsha's availability: when it was published (null: never)
 */

export {};
