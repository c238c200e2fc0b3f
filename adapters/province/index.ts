import { createHash } from 'node:crypto';
import type { Clock } from '../../kernel/clock.ts';
import { formatCompactBeijing, formatIsoBeijing, parseCompactBeijing } from '../../kernel/beijing-time.ts';
import { GatewayError } from '../../kernel/errors.ts';
import { validatorFor, type ValidationResult } from '../../schemas/registry.ts';
import type {
  BookingDecision,
  GatewayConfig,
  ProvinceApply,
  ProvinceApplyData,
  ProvinceCancel,
  ProvinceChange,
  ProvinceNotifyData,
  ProvinceQuery,
  ExceptionReport,
  ProvinceExceptionData,
  ProvinceScheduleItem,
  ProvinceScheduleResponse,
} from '../../schemas/types.generated.ts';
import type { HmacMethod } from '../../kernel/crypto/digest.ts';
import type { CanonicalEvent, DeliveryOptions, HttpAnswer, InboundHttp, InboundMessage, OutboundMessage, Checked, PartnerAdapter } from '../types.ts';
import { createHttpClient, postJson } from './client.ts';
import type { ScheduledRequest } from '../types.ts';
import { bookingRuleViolations } from './rules.ts';
import { provinceLabSignature } from './lab.ts';
import { buildEnvelope, dataDigest, verifyToken, type ProvinceInterface } from './signature.ts';
import { checkHostAnswer, decodeHostPush, HOST_INBOUND_OPERATIONS, hostApplicationsPort, hostInboundValidators, inspectHostPush, type HostInboundOperation } from './host.ts';

const GUEST_OPERATIONS = ['apply', 'change', 'cancel', 'query'] as const;
type GuestOperation = (typeof GUEST_OPERATIONS)[number];
const INBOUND_OPERATIONS = [...GUEST_OPERATIONS, ...HOST_INBOUND_OPERATIONS] as const;
type InboundOperation = (typeof INBOUND_OPERATIONS)[number];

type InboundEnvelope = ProvinceApply | ProvinceChange | ProvinceCancel | ProvinceQuery;

const validateSchedule = validatorFor<ProvinceScheduleResponse>('partners/province/schedule-response.json');

const validators: Record<InboundOperation, (input: unknown) => ValidationResult<unknown>> = {
  apply: validatorFor<ProvinceApply>('partners/province/apply.json'),
  change: validatorFor<ProvinceChange>('partners/province/change.json'),
  cancel: validatorFor<ProvinceCancel>('partners/province/cancel.json'),
  query: validatorFor<ProvinceQuery>('partners/province/query.json'),
  ...hostInboundValidators,
};

/** `Msg` of each answer, as province.md's table gives it. */
const MESSAGES: Record<number, string> = {
  200: '成功',
  400: '报文格式错误',
  401: '身份验证失败',
  404: '未找到申请',
  409: '请求冲突',
  413: '报文过大',
  422: '业务校验失败',
  429: '请求过于频繁',
  503: '服务暂不可用',
  500: '服务内部错误',
};

function isInboundOperation(operation: string): operation is InboundOperation {
  return (INBOUND_OPERATIONS as readonly string[]).includes(operation);
}

function isHostOperation(operation: string): operation is HostInboundOperation {
  return (HOST_INBOUND_OPERATIONS as readonly string[]).includes(operation);
}

function envelopeOf(body: unknown): InboundEnvelope {
  return body as InboundEnvelope;
}

/** A request the province holds, as the apply or change it would have pushed. */
function scheduledRequest(item: ProvinceScheduleItem): ScheduledRequest {
  const operation = item.SERIES_NUMBER.startsWith('BG') ? 'change' : 'apply';
  const { ORIGINAL_SERIES_NUMBER: replaces, ...rest } = item;
  // an apply carries no ORIGINAL_SERIES_NUMBER; a change needs its reason
  const data = operation === 'change' ? { ...rest, ORIGINAL_SERIES_NUMBER: replaces ?? '', REMARK: rest.REMARK || '对账补录' } : rest;
  const body = { validation: { DATAUUID: createHash('sha256').update(`reconciled:${item.SERIES_NUMBER}`).digest('hex').slice(0, 32), SYSTEM_NO: 'HNSDD', TIME: '', TOKEN: '' }, data };
  return {
    requestId: item.SERIES_NUMBER,
    ...(replaces === undefined ? {} : { replaces }),
    start: parseCompactBeijing(item.BID_EVAL_START_TIME),
    end: parseCompactBeijing(item.BID_EVAL_END_TIME),
    seats: item.SEAT_COUNT,
    asPushed: { operation, body, contentDigest: dataDigest(data), searchIds: { series: item.SERIES_NUMBER, section: item.BID_SECTION_CODE } },
  };
}

export interface ProvinceAdapterDeps {
  config: Readonly<GatewayConfig>;
  clock: Clock;
}

export function createProvinceAdapter({ config, clock }: ProvinceAdapterDeps): PartnerAdapter {
  const settings = config.partners.province;
  const http = createHttpClient(settings);

  function envelope(interfaceCode: ProvinceInterface, dataUuid: string, data: Record<string, unknown>) {
    return buildEnvelope(
      { secret: settings.outboundSecret, method: settings.signMethod, systemNo: config.center.systemNo, dataUuid, time: formatCompactBeijing(clock.now()), interfaceCode },
      data,
    );
  }

  return {
    id: 'province',
    operations: INBOUND_OPERATIONS,
    rateLimitPerSecond: settings.rateLimitPerSecond,
    // the TOKEN signs the parsed `data`, found only in a schema-valid envelope
    signsRawBody: false,

    lab: {
      // everything signed is in the body
      headers: [],
      signature: (inbound, body) => provinceLabSignature(settings, clock.now(), inbound.operation, body),
    },

    validate(operation, body) {
      if (!isInboundOperation(operation)) return { ok: false, violations: [{ path: '', message: `unknown interface ${operation}` }] };
      const result = validators[operation](body);
      return result.ok ? { ok: true } : { ok: false, violations: result.violations };
    },

    authenticate(http: InboundHttp, body: unknown): Checked<void> {
      const { validation, data } = envelopeOf(body);
      const reject = (reason: string): Checked<void> => ({ ok: false, error: new GatewayError('UNAUTHENTICATED', reason) });
      if (validation.SYSTEM_NO !== settings.systemNo) return reject('unknown SYSTEM_NO');
      const signedAt = parseCompactBeijing(validation.TIME);
      if (Math.abs(clock.now() - signedAt) > settings.clockToleranceSeconds * 1000) return reject('TIME outside the accepted window');
      const method: HmacMethod = validation.SIGN_METHOD ?? 'HMAC-SM3';
      const signed = verifyToken(
        method,
        settings.inboundSecret,
        { systemNo: validation.SYSTEM_NO, dataUuid: validation.DATAUUID, time: validation.TIME, interfaceCode: http.operation as ProvinceInterface, data },
        validation.TOKEN,
      );
      return signed ? { ok: true, value: undefined } : reject('TOKEN does not match');
    },

    inspect(http: InboundHttp, body: unknown): Checked<InboundMessage> {
      if (isHostOperation(http.operation)) return inspectHostPush(http.operation, body);
      const message = envelopeOf(body);
      const operation = http.operation as GuestOperation;
      const base = { operation, messageKey: message.validation.DATAUUID };
      const searchIds: Record<string, string> = { dataUuid: message.validation.DATAUUID, series: message.data.SERIES_NUMBER };
      switch (operation) {
        case 'apply':
        case 'change': {
          const data = message.data as ProvinceApplyData & { ORIGINAL_SERIES_NUMBER?: string };
          const violations = bookingRuleViolations(data, config.center.areaCode, clock.now());
          if (violations.length > 0) return { ok: false, error: new GatewayError('SEMANTIC_INVALID', undefined, { violations }) };
          searchIds['section'] = data.BID_SECTION_CODE;
          return {
            ok: true,
            value: {
              ...base,
              request: { id: data.SERIES_NUMBER, contentDigest: dataDigest(data) },
              ...(data.ORIGINAL_SERIES_NUMBER === undefined ? {} : { replaces: data.ORIGINAL_SERIES_NUMBER }),
              searchIds,
            },
          };
        }
        case 'cancel': {
          const data = (message as ProvinceCancel).data;
          return {
            ok: true,
            value: { ...base, request: { id: data.SERIES_NUMBER, contentDigest: dataDigest(data) }, replaces: data.ORIGINAL_SERIES_NUMBER, searchIds },
          };
        }
        case 'query':
          return { ok: true, value: { ...base, refersTo: message.data.SERIES_NUMBER, searchIds } };
      }
    },

    accepted(trackingNo: string): HttpAnswer {
      return { status: 200, body: { State: '200', Success: true, Msg: MESSAGES[200], Data: { TRACKING_NO: trackingNo } } };
    },

    rejected(error: GatewayError): HttpAnswer {
      const status = error.status >= 500 && error.code !== 'STORE_UNAVAILABLE' && error.code !== 'CIRCUIT_OPEN' ? 500 : error.status;
      const headers: Record<string, string> = {};
      if (error.retryAfterMs !== undefined) headers['Retry-After'] = String(Math.max(1, Math.ceil(error.retryAfterMs / 1000)));
      const data = error.violations.length > 0 ? { errors: error.violations } : {};
      return { status, headers, body: { State: String(status), Success: false, Msg: MESSAGES[status] ?? MESSAGES[500], Data: data } };
    },

    decode(operation, body, meta): CanonicalEvent {
      if (isHostOperation(operation)) return decodeHostPush(operation, body, meta);
      const message = envelopeOf(body);
      const common = { partner: 'province', trackingNo: meta.trackingNo, receivedAt: formatIsoBeijing(meta.receivedAt) };
      switch (operation as GuestOperation) {
        case 'apply':
        case 'change': {
          const data = message.data as ProvinceApplyData & { ORIGINAL_SERIES_NUMBER?: string };
          return {
            ...common,
            kind: operation as 'apply' | 'change',
            requestId: data.SERIES_NUMBER,
            ...(data.ORIGINAL_SERIES_NUMBER === undefined ? {} : { replaces: data.ORIGINAL_SERIES_NUMBER }),
            booking: {
              hostCenter: data.AREA_CODE,
              hostCenterName: data.CENTER_NAME,
              tenderProjectCode: data.TENDER_PROJECT_CODE,
              bidSectionCode: data.BID_SECTION_CODE,
              sector: data.TRADE_TYPE,
              ...(data.TENDER_PROJECT_TYPE === undefined ? {} : { projectType: data.TENDER_PROJECT_TYPE }),
              start: formatIsoBeijing(parseCompactBeijing(data.BID_EVAL_START_TIME)),
              end: formatIsoBeijing(parseCompactBeijing(data.BID_EVAL_END_TIME)),
              seats: data.SEAT_COUNT,
              contact: { name: data.TENDER_AGENT_CONTRACT, phone: data.TENDER_AGENT_PHONE },
              remark: data.REMARK ?? '',
            },
          };
        }
        case 'cancel': {
          const data = (message as ProvinceCancel).data;
          return { ...common, kind: 'cancel', requestId: data.SERIES_NUMBER, replaces: data.ORIGINAL_SERIES_NUMBER, reason: data.REMARK };
        }
        case 'query':
          return { ...common, kind: 'query', requestId: message.data.SERIES_NUMBER };
      }
    },

    messageIdFor: (cause: string) => createHash('sha256').update(`province:${cause}`).digest('hex').slice(0, 32),

    encodeDecision(decision: BookingDecision, messageId: string): OutboundMessage | undefined {
      if (decision.kind !== 'apply' && decision.kind !== 'change' && decision.kind !== 'cancel') return undefined;
      if (decision.reason !== '' && decision.reason !== 'NO_CAPACITY' && decision.reason !== 'CENTER_CLOSED' && decision.reason !== 'NOT_IN_FORCE' && decision.reason !== 'CANCELLED') return undefined;
      const approved = decision.outcome !== 'rejected';
      const data: ProvinceNotifyData = {
        SERIES_NUMBER: decision.requestId,
        STATUS: approved ? '1' : '2',
        AREA_CODE: config.center.areaCode,
        CENTER_NAME: config.center.name,
        EVAL_ROOM_NAME: decision.outcome === 'approved' ? decision.roomId : '',
        EVAL_ROOM_ADDR: decision.outcome === 'approved' ? decision.roomAddress : '',
        SEAT_NUMBER: decision.outcome === 'approved' ? [...decision.seatIds] : [],
        REMARK: decision.reason,
      };
      return { partner: 'province', operation: 'notify', messageId, body: { ...data } };
    },

    reconciliation: {
      async fetchSchedule(date: string): Promise<ScheduledRequest[]> {
        const data = { AREA_CODE: config.center.areaCode, DATE: date };
        const dataUuid = createHash('sha256').update(`schedule:${date}:${clock.now()}`).digest('hex').slice(0, 32);
        const { validation } = envelope('schedule', dataUuid, data);
        // GET /schedule: the validation fields travel as query parameters beside the data
        const response = await http.get('/schedule', { params: { ...data, ...validation } });
        const checked = validateSchedule(response.data);
        if (response.status !== 200 || !checked.ok) throw new Error(`schedule for ${date} answered HTTP ${response.status}${checked.ok ? '' : `: ${JSON.stringify(checked.violations.slice(0, 3))}`}`);
        return checked.value.Data.items.map((item) => scheduledRequest(item));
      },
    },

    exceptions: {
      encode(report: ExceptionReport, messageId: string): OutboundMessage {
        const data: ProvinceExceptionData = {
          SERIES_NUMBER: report.requestId,
          AREA_CODE: config.center.areaCode,
          EXCEPTION_TYPE: report.type,
          DESCRIPTION: report.description,
          OCCURRED_TIME: formatCompactBeijing(Date.parse(report.occurredAt)),
        };
        return { partner: 'province', operation: 'exception', messageId, body: { ...data } };
      },
    },

    hostApplications: hostApplicationsPort({
      center: { areaCode: config.center.areaCode, name: config.center.name },
      now: () => clock.now(),
      http,
      sign: (interfaceCode, dataUuid, data) => envelope(interfaceCode, dataUuid, data),
    }),

    async deliver(message: OutboundMessage, options?: DeliveryOptions) {
      const signed = envelope(message.operation as ProvinceInterface, message.messageId, message.body);
      return checkHostAnswer(message.operation, await postJson(http, `/${message.operation}`, signed, () => clock.now(), options?.timeoutMs));
    },
  };
}
