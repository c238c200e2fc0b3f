import axios from 'axios';
import { randomUUID } from 'node:crypto';
import { buildEnvelope, type ProvinceInterface } from '../../adapters/province/signature.ts';
import { formatCompactBeijing } from '../../kernel/beijing-time.ts';
import type { ProvinceApplyData } from '../../schemas/types.generated.ts';

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
