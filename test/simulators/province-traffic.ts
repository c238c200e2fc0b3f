import axios from 'axios';
import { randomUUID } from 'node:crypto';
import { buildEnvelope, type ProvinceInterface } from '../../adapters/province/signature.ts';
import { formatCompactBeijing } from '../../kernel/beijing-time.ts';
import type { ProvinceApplyData, ProvinceEvalStatusData, ProvinceHostOutcomeData, ProvinceHostResultData } from '../../schemas/types.generated.ts';
import { CENTER_NAMES } from './province-host.ts';

export interface ProvinceClientOptions {
  gatewayUrl: string;
  secret: string;
  now?: () => number;
}

/** Sends signed messages to the gateway as the province does. */
export class ProvinceClient {
  readonly #options: ProvinceClientOptions;

  constructor(options: ProvinceClientOptions) {
    this.#options = options;
  }

  envelope(operation: ProvinceInterface, data: object, overrides: { dataUuid?: string; time?: string; secret?: string; systemNo?: string } = {}) {
    return buildEnvelope(
      {
        secret: overrides.secret ?? this.#options.secret,
        method: 'HMAC-SM3',
        systemNo: overrides.systemNo ?? 'HNSDD',
        dataUuid: overrides.dataUuid ?? randomUUID().replace(/-/g, ''),
        time: overrides.time ?? formatCompactBeijing((this.#options.now ?? Date.now)()),
        interfaceCode: operation,
      },
      data,
    );
  }

  async post(operation: ProvinceInterface, body: unknown, headers: Record<string, string> = {}) {
    return axios.post(`${this.#options.gatewayUrl}/partners/province/${operation}`, body, {
      validateStatus: () => true,
      headers: { 'Content-Type': 'application/json; charset=utf-8', ...headers },
      transformRequest: [(data: unknown) => (typeof data === 'string' || Buffer.isBuffer(data) ? data : JSON.stringify(data))],
    });
  }

  async send(operation: ProvinceInterface, data: object, overrides: { dataUuid?: string; time?: string; secret?: string } = {}) {
    return this.post(operation, this.envelope(operation, data, overrides));
  }
}

let sequence = 0;

/** A series number of the given kind, unique within this process. */
export function seriesNumber(prefix: 'SQ' | 'BG' | 'QX', at: number = Date.now()): string {
  sequence = (sequence + 1) % 1_000_000;
  return `${prefix}${formatCompactBeijing(at)}${String(sequence).padStart(6, '0')}`;
}

/** A realistic apply from another Hunan center for a Zhuzhou guest room. */
export function applyData(overrides: Partial<ProvinceApplyData> & { start: string; end: string }): ProvinceApplyData {
  const { start, end, ...rest } = overrides;
  return {
    SERIES_NUMBER: seriesNumber('SQ'),
    AREA_CODE: '430100',
    CENTER_NAME: '长沙市公共资源交易中心',
    TENDER_PROJECT_CODE: 'M4301000260018837001',
    BID_SECTION_CODE: 'M4301000260018837001002',
    TRADE_TYPE: 'GCJS',
    TENDER_PROJECT_TYPE: 'A02',
    BID_EVAL_START_TIME: start,
    BID_EVAL_END_TIME: end,
    SUB_AREA_CODE: '430200',
    SEAT_COUNT: 3,
    TENDER_AGENT_CONTRACT: '李明',
    TENDER_AGENT_PHONE: '0731-28881234',
    REMARK: '',
    ...rest,
  };
}

/** A guest's decision on Zhuzhou's host application, as the province relays it (host-result). */
export function hostResultData(options: { series: string; center: string; seats: number } & ({ approve: true; roomNumber?: number } | { approve: false; reason: string })): ProvinceHostResultData {
  const { series, center, seats } = options;
  // the guest's room: its first unless told otherwise
  const number = String(options.approve ? (options.roomNumber ?? 1) : 1).padStart(2, '0');
  const room = `${center}-PBS-${number}`;
  return {
    SERIES_NUMBER: series,
    SUB_AREA_CODE: center,
    CENTER_NAME: CENTER_NAMES[center] ?? center,
    STATUS: options.approve ? '1' : '2',
    EVAL_ROOM_NAME: options.approve ? room : '',
    EVAL_ROOM_ADDR: options.approve ? `${CENTER_NAMES[center] ?? center}评标室${number}` : '',
    SEAT_NUMBER: options.approve ? Array.from({ length: seats }, (_, index) => `${room}-${String(index + 1).padStart(2, '0')}`) : [],
    REMARK: options.approve ? '' : options.reason,
  };
}

export function hostOutcomeData(options: { series: string; outcome: ProvinceHostOutcomeData['OUTCOME']; remark?: string }): ProvinceHostOutcomeData {
  return { SERIES_NUMBER: options.series, OUTCOME: options.outcome, REMARK: options.remark ?? '' };
}

export function evalStatusData(options: { series: string; status: ProvinceEvalStatusData['EVAL_STATUS']; at: number; remark?: string }): ProvinceEvalStatusData {
  return { SERIES_NUMBER: options.series, EVAL_STATUS: options.status, STATUS_TIME: formatCompactBeijing(options.at), REMARK: options.remark ?? '' };
}
