/**
 * A host evaluation as stored: the machine's evaluation, what the center asked
 * for (per plan), and the outbox of what the flow still has to carry out.
 */
import type { HostApplicationMessage } from '../../adapters/host-applications.ts';
import type { PartnerId } from '../../adapters/types.ts';
import type { HostMessage } from '../../schemas/types.generated.ts';
import type { HostEvaluation } from './machine.ts';

/** What the center's systems said about the evaluation besides its window and seats. */
export interface HostRequestDetails {
  projectCode: string;
  sectionCode: string;
  projectName: string;
  tradeType: 'GCJS' | 'ZFCG';
  projectType?: string;
  /** personal data, sealed at rest (runtime.personalData): never traced or logged */
  agentContact: string;
  /** personal data, sealed at rest (runtime.personalData): never traced or logged */
  agentPhone: string;
  remark?: string;
}

/**
 * One thing to do, with everything it needs: built when the step that asked
 * for it is stored, so that carrying it out later (after a crash, by another
 * process) sends exactly what the step meant, whatever the evaluation became.
 */
export type HostAction =
  | { type: 'hold'; change?: number; start: number; end: number; seats: number }
  | { type: 'book'; change?: number }
  | { type: 'free'; change?: number; from?: number }
  /** the host's lifecycle kept with the host room's booking, for the room board (`ended` is a `free` from the end) */
  | { type: 'room-lifecycle'; change?: number; status: 'started' | 'paused' | 'resumed' | 'archived'; at: number; reason?: string }
  /** `answer`: what the partner's answer (its application id) feeds back: an apply or change answered, or only where a cancel's pushes go */
  | { type: 'application'; partner: PartnerId; message: HostApplicationMessage; answer?: { change?: number; cancel?: boolean } }
  | { type: 'slot'; partner: PartnerId; message: HostMessage };

/** `key` names the action by the evaluation's meaning (`slot:<requestId>`, `apply:0`...): the message id derives from it, so a resend is a repeat. */
export interface OutboxEntry {
  key: string;
  action: HostAction;
}

export interface HostEvaluationRecord extends HostEvaluation {
  /** by plan: "0" the first, "1" the first change... */
  details: Record<string, HostRequestDetails>;
  outbox: OutboxEntry[];
  /** epoch ms */
  createdAt: number;
  updatedAt: number;
}

/** What the outbound job of an application remembers, to feed the partner's answer back to the evaluation. */
export interface ApplicationAnswerTo {
  evaluationId: string;
  change?: number;
  /** a host-cancel: its id only routes the pushes that follow */
  cancel?: boolean;
}
