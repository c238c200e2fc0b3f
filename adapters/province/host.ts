import type { PartnerHttp } from '../http.ts';
import { formatCompactBeijing, formatIsoBeijing, parseCompactBeijing } from '../../kernel/beijing-time.ts';
import { GatewayError } from '../../kernel/errors.ts';
import { validatorFor, type ValidationResult, type Violation } from '../../schemas/registry.ts';
import type {
  BookingRequest,
  HostApplicationEvent,
  ProvinceEvalStatus,
  ProvinceEvalStatusData,
  ProvinceHostAnswer,
  ProvinceHostApplyData,
  ProvinceHostCancelData,
  ProvinceHostChangeData,
  ProvinceHostOutcome,
  ProvinceHostResult,
  ProvinceSeatCheckAnswer,
  ProvinceSeatCheckData,
} from '../../schemas/types.generated.ts';
import type { HostApplicationMessage, HostLifecycleStatus, HostPlan, SeatCheckQuery } from '../host-applications.ts';
import type { Checked, DeliveryOptions, DeliveryResult, InboundMessage, OutboundMessage, PartnerAdapter, SeatCheckOutcome } from '../types.ts';
import { postJson } from './client.ts';
import { hostPlanViolations, hostResultViolations, seatCheckViolations } from './host-rules.ts';
import { dataDigest, type Envelope, type ProvinceInterface } from './signature.ts';

/** The province's pushes about Zhuzhou as host, and its forwarded lifecycle for Zhuzhou as guest. */
export const HOST_INBOUND_OPERATIONS = ['host-result', 'host-outcome', 'eval-status'] as const;
export type HostInboundOperation = (typeof HOST_INBOUND_OPERATIONS)[number];

export const hostInboundValidators: Record<HostInboundOperation, (input: unknown) => ValidationResult<unknown>> = {
  'host-result': validatorFor<ProvinceHostResult>('partners/province/host-result.json'),
  'host-outcome': validatorFor<ProvinceHostOutcome>('partners/province/host-outcome.json'),
  'eval-status': validatorFor<ProvinceEvalStatus>('partners/province/eval-status.json'),
};

/** What Zhuzhou sends is checked against the contract before it is queued: the province would refuse it for good. */
const outboundValidators: Record<'seat-check' | 'host-apply' | 'host-change' | 'host-cancel' | 'eval-status', (input: unknown) => ValidationResult<unknown>> = {
  'seat-check': validatorFor('partners/province/seat-check.json'),
  'host-apply': validatorFor('partners/province/host-apply.json'),
  'host-change': validatorFor('partners/province/host-change.json'),
  'host-cancel': validatorFor('partners/province/host-cancel.json'),
  'eval-status': validatorFor('partners/province/host-eval-status.json'),
};
const validateHostAnswer = validatorFor<ProvinceHostAnswer>('partners/province/host-answer.json');
const validateSeatCheckAnswer = validatorFor<ProvinceSeatCheckAnswer>('partners/province/seat-check-answer.json');

/** The prefix of the SERIES_NUMBER the province assigns to each host call. */
const ASSIGNED_PREFIX: Record<string, string> = { 'host-apply': 'SQ', 'host-change': 'BG', 'host-cancel': 'QX' };

const EVAL_STATUS: Record<HostLifecycleStatus, ProvinceEvalStatusData['EVAL_STATUS']> = { started: '1', resumed: '1', paused: '4', ended: '2', archived: '3' };
// "1" is started and resumed alike: it decodes to started, and the status before it tells a resume
const LIFECYCLE: Record<ProvinceEvalStatusData['EVAL_STATUS'], HostLifecycleStatus> = { '1': 'started', '4': 'paused', '2': 'ended', '3': 'archived' };
const OUTCOME: Record<ProvinceHostOutcome['data']['OUTCOME'], NonNullable<HostApplicationEvent['outcome']>> = { '1': 'in-force', '3': 'failed', '5': 'cancelled', '6': 'expired' };

export interface HostContext {
  center: { areaCode: string; name: string };
  now: () => number;
  http: PartnerHttp;
  sign: (interfaceCode: ProvinceInterface, dataUuid: string, data: Record<string, unknown>) => Envelope<Record<string, unknown>>;
}

function compact(iso: string): string {
  return formatCompactBeijing(Date.parse(iso));
}

function planData(plan: HostPlan, center: HostContext['center']): ProvinceHostApplyData {
  return {
    AREA_CODE: center.areaCode,
    CENTER_NAME: center.name,
    TENDER_PROJECT_CODE: plan.tenderProjectCode,
    BID_SECTION_CODE: plan.bidSectionCode,
    TENDER_PROJECT_NAME: plan.projectName,
    TRADE_TYPE: plan.sector,
    ...(plan.projectType === undefined ? {} : { TENDER_PROJECT_TYPE: plan.projectType as ProvinceHostApplyData['TENDER_PROJECT_TYPE'] }),
    BID_EVAL_START_TIME: compact(plan.start),
    BID_EVAL_END_TIME: compact(plan.end),
    EVAL_ROOM_NAME: plan.hostRoomId,
    HOST_SEAT_COUNT: plan.hostSeats,
    TENDER_AGENT_CONTRACT: plan.contact.name,
    TENDER_AGENT_PHONE: plan.contact.phone,
    SUB_DETAIL: plan.guests.map((guest) => ({ SUB_AREA_CODE: guest.center, SEAT_COUNT: guest.seats })),
    REMARK: plan.remark ?? '',
  };
}

/** A time that is not ISO 8601 with an offset cannot be put on the wire at all. */
function timeViolations(fields: Record<string, string>): Violation[] {
  return Object.entries(fields)
    .filter(([, value]) => !Number.isFinite(Date.parse(value)))
    .map(([path]) => ({ path, message: 'must be an ISO 8601 time with an offset' }));
}

/**
 * Checks a wire body Zhuzhou is about to send: the schema first (SCHEMA_INVALID),
 * then the host rules (SEMANTIC_INVALID), every violation listed.
 */
function checked(operation: keyof typeof outboundValidators, data: Record<string, unknown>, rules: () => Violation[]): Checked<Record<string, unknown>> {
  // the envelope's validation is the signer's; a placeholder lets the data be checked alone
  const schema = outboundValidators[operation]({ validation: { DATAUUID: '0'.repeat(32), SYSTEM_NO: 'ZZ430200', TIME: '20260101000000', TOKEN: '0'.repeat(64) }, data });
  if (!schema.ok) return { ok: false, error: new GatewayError('SCHEMA_INVALID', `${operation} breaks the province's schema`, { violations: schema.violations }) };
  const violations = rules();
  if (violations.length > 0) return { ok: false, error: new GatewayError('SEMANTIC_INVALID', `${operation} breaks the province's host rules`, { violations }) };
  return { ok: true, value: data };
}

/** The wire data of a host message and the interface it goes to. */
export function encodeHostMessage(context: HostContext, message: HostApplicationMessage, messageId: string): Checked<OutboundMessage> {
  const outbound = (operation: ProvinceInterface, result: Checked<Record<string, unknown>>): Checked<OutboundMessage> =>
    result.ok ? { ok: true, value: { partner: 'province', operation, messageId, body: result.value } } : result;
  const now = context.now();
  switch (message.kind) {
    case 'apply': {
      const times = timeViolations({ '/plan/start': message.plan.start, '/plan/end': message.plan.end });
      if (times.length > 0) return { ok: false, error: new GatewayError('SCHEMA_INVALID', undefined, { violations: times }) };
      const data = planData(message.plan, context.center);
      return outbound('host-apply', checked('host-apply', { ...data }, () => hostPlanViolations(data, context.center.areaCode, now)));
    }
    case 'change': {
      const times = timeViolations({ '/plan/start': message.plan.start, '/plan/end': message.plan.end });
      if (times.length > 0) return { ok: false, error: new GatewayError('SCHEMA_INVALID', undefined, { violations: times }) };
      const plan = planData(message.plan, context.center);
      const data: ProvinceHostChangeData = { ORIGINAL_SERIES_NUMBER: message.replaces, ...plan, REMARK: message.reason };
      return outbound('host-change', checked('host-change', { ...data }, () => hostPlanViolations(plan, context.center.areaCode, now)));
    }
    case 'cancel': {
      const data: ProvinceHostCancelData = { ORIGINAL_SERIES_NUMBER: message.replaces, REMARK: message.reason };
      return outbound('host-cancel', checked('host-cancel', { ...data }, () => []));
    }
    case 'status': {
      const times = timeViolations({ '/at': message.at });
      if (times.length > 0) return { ok: false, error: new GatewayError('SCHEMA_INVALID', undefined, { violations: times }) };
      const data: ProvinceEvalStatusData = { SERIES_NUMBER: message.applicationId, EVAL_STATUS: EVAL_STATUS[message.status], STATUS_TIME: compact(message.at), REMARK: message.reason ?? '' };
      return outbound('eval-status', checked('eval-status', { ...data }, () => []));
    }
  }
}

export function applicationIdOf(operation: string, answer: unknown): string | undefined {
  const prefix = ASSIGNED_PREFIX[operation];
  const parsed = validateHostAnswer(answer);
  if (prefix === undefined || !parsed.ok || !parsed.value.Data.SERIES_NUMBER.startsWith(prefix)) return undefined;
  return parsed.value.Data.SERIES_NUMBER;
}

/**
 * A success answer to host-apply, host-change or host-cancel must name the
 * SERIES_NUMBER assigned: without it nothing later (results, outcome) could be
 * matched, and a resend only gets the same answer again, so it is for operators.
 */
export function checkHostAnswer(operation: string, result: DeliveryResult): DeliveryResult {
  if (result.kind !== 'delivered' || ASSIGNED_PREFIX[operation] === undefined) return result;
  if (applicationIdOf(operation, result.answer) !== undefined) return result;
  return { kind: 'refused', status: result.status, answer: result.answer, reason: `State 200 without a ${ASSIGNED_PREFIX[operation] ?? ''} SERIES_NUMBER` };
}

export async function seatCheck(context: HostContext, query: SeatCheckQuery, messageId: string, options?: DeliveryOptions): Promise<Checked<SeatCheckOutcome>> {
  const times = timeViolations({ '/start': query.start, '/end': query.end });
  if (times.length > 0) return { ok: false, error: new GatewayError('SCHEMA_INVALID', undefined, { violations: times }) };
  const data: ProvinceSeatCheckData = { AREA_CODE: query.center, BID_EVAL_START_TIME: compact(query.start), BID_EVAL_END_TIME: compact(query.end), SEAT_COUNT: query.seats };
  const body = checked('seat-check', { ...data }, () => seatCheckViolations(data, context.center.areaCode, context.now()));
  if (!body.ok) return body;
  const result = await postJson(context.http, '/seat-check', context.sign('seat-check', messageId, body.value), context.now, options?.timeoutMs);
  if (result.kind !== 'delivered') return { ok: true, value: result };
  const answer = validateSeatCheckAnswer(result.answer);
  if (!answer.ok || answer.value.Data.AREA_CODE !== query.center) {
    const why = answer.ok ? `AREA_CODE ${answer.value.Data.AREA_CODE} for ${query.center}` : JSON.stringify(answer.violations.slice(0, 3));
    return { ok: true, value: { kind: 'refused', status: result.status, answer: result.answer, reason: `seat-check answer off the contract: ${why}` } };
  }
  const { Data } = answer.value;
  return {
    ok: true,
    value: {
      kind: 'checked',
      status: result.status,
      result: {
        center: Data.AREA_CODE,
        centerName: Data.CENTER_NAME,
        meets: Data.IS_MEET === '1',
        rooms: Data.ROOMS.map((room) => ({ name: room.EVAL_ROOM_NAME, freeSeats: room.FREE_SEAT_COUNT, meets: room.IS_MEET === '1' })),
      },
    },
  };
}

/**
 * Intake keys of the province's host pushes. Their request ids are prefixed:
 * a SERIES_NUMBER of Zhuzhou's own application must never be taken for a
 * guest request of the same number (a `query`, a chain).
 */
export function inspectHostPush(operation: HostInboundOperation, body: unknown): Checked<InboundMessage> {
  const { validation, data } = body as Envelope<Record<string, unknown>>;
  const series = String(data['SERIES_NUMBER']);
  const base = { operation, messageKey: validation.DATAUUID };
  const searchIds: Record<string, string> = { dataUuid: validation.DATAUUID, series };
  const digest = dataDigest(data);
  switch (operation) {
    case 'host-result': {
      const result = data as unknown as ProvinceHostResult['data'];
      const violations = hostResultViolations(result);
      if (violations.length > 0) return { ok: false, error: new GatewayError('SEMANTIC_INVALID', undefined, { violations }) };
      // one result per guest and SERIES_NUMBER: the same again is a repeat, another a conflict
      return { ok: true, value: { ...base, request: { id: `host-result:${series}:${result.SUB_AREA_CODE}`, contentDigest: digest }, searchIds } };
    }
    case 'host-outcome':
      // an outcome is final for its SERIES_NUMBER
      return { ok: true, value: { ...base, request: { id: `host-outcome:${series}`, contentDigest: digest }, searchIds } };
    case 'eval-status':
      // statuses come one after another for one request: only the same status again is a repeat
      return { ok: true, value: { ...base, request: { id: `eval-status:${series}:${digest}`, contentDigest: digest }, inForce: series, inForcePath: '/data/SERIES_NUMBER', searchIds } };
  }
}

export function decodeHostPush(operation: HostInboundOperation, body: unknown, meta: { trackingNo: string; receivedAt: number }): HostApplicationEvent | BookingRequest {
  const { data } = body as Envelope<Record<string, unknown>>;
  const common = { partner: 'province', trackingNo: meta.trackingNo, receivedAt: formatIsoBeijing(meta.receivedAt) };
  switch (operation) {
    case 'host-result': {
      const result = data as unknown as ProvinceHostResult['data'];
      return {
        ...common,
        kind: 'guest-result',
        applicationId: result.SERIES_NUMBER,
        guest: {
          center: result.SUB_AREA_CODE,
          centerName: result.CENTER_NAME,
          decision: result.STATUS === '1' ? 'approved' : 'rejected',
          roomName: result.EVAL_ROOM_NAME,
          roomAddress: result.EVAL_ROOM_ADDR,
          seatIds: [...result.SEAT_NUMBER],
        },
        remark: result.REMARK,
      };
    }
    case 'host-outcome': {
      const outcome = data as unknown as ProvinceHostOutcome['data'];
      return { ...common, kind: 'application-outcome', applicationId: outcome.SERIES_NUMBER, outcome: OUTCOME[outcome.OUTCOME], remark: outcome.REMARK };
    }
    case 'eval-status': {
      const status = data as unknown as ProvinceEvalStatusData;
      return {
        ...common,
        kind: 'status',
        requestId: status.SERIES_NUMBER,
        lifecycle: {
          status: LIFECYCLE[status.EVAL_STATUS],
          at: formatIsoBeijing(parseCompactBeijing(status.STATUS_TIME)),
          ...(status.REMARK === undefined || status.REMARK === '' ? {} : { reason: status.REMARK }),
        },
      };
    }
  }
}

/** The facet of the province adapter through which Zhuzhou applies as host. */
export function hostApplicationsPort(context: HostContext): NonNullable<PartnerAdapter['hostApplications']> {
  return {
    encode: (message, messageId) => encodeHostMessage(context, message, messageId),
    applicationIdOf,
    seatCheck: (query, messageId, options) => seatCheck(context, query, messageId, options),
  };
}
