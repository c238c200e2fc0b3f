/**
 * Realistic partner traffic, signed as the partners sign it: province applies
 * (HMAC-SM3 over the SM3 of the RFC 8785 form of `data`) and Changsha
 * `slot.requested` events (X-YCH-Signature, HMAC-SHA256 over `t.rawBody`).
 * Every request has its own DATAUUID / eventId and its own SERIES_NUMBER /
 * requestId; windows fall on open days of the center's WorkCalendar.
 */
import { randomBytes } from 'node:crypto';
import { signatureHeaders } from '../../adapters/changsha/signature.ts';
import { buildEnvelope } from '../../adapters/province/signature.ts';
import { beijingDate, formatCompactBeijing, formatIsoBeijing } from '../../kernel/beijing-time.ts';
import { WorkCalendar } from '../../ledger/calendar.ts';

export type PartnerKind = 'province' | 'changsha';

/** One request ready to go on the wire. */
export interface BenchRequest {
  kind: PartnerKind;
  /** SERIES_NUMBER (province) or requestId (Changsha): what the answer names */
  id: string;
  path: string;
  headers: Record<string, string>;
  body: Buffer;
}

export interface PartnerKeys {
  provinceSecret: string;
  changshaKeyId: string;
  changshaSecret: string;
}

const DAY_MS = 24 * 3600 * 1000;

/** Hunan centers other than Zhuzhou (430200), with the names they sign with. */
const HOSTS: readonly [string, string][] = [
  ['430100', '长沙市公共资源交易中心'],
  ['430300', '湘潭市公共资源交易中心'],
  ['430400', '衡阳市公共资源交易中心'],
  ['430500', '邵阳市公共资源交易中心'],
  ['430600', '岳阳市公共资源交易中心'],
  ['430700', '常德市公共资源交易中心'],
  ['430800', '张家界市公共资源交易中心'],
  ['430900', '益阳市公共资源交易中心'],
  ['431000', '郴州市公共资源交易中心'],
  ['431100', '永州市公共资源交易中心'],
  ['431200', '怀化市公共资源交易中心'],
  ['431300', '娄底市公共资源交易中心'],
  ['433100', '湘西土家族苗族自治州公共资源交易中心'],
];
const CONTACTS: readonly [string, string][] = [
  ['李明', '0731-28881234'],
  ['王芳', '13807312456'],
  ['张伟', '0734-8226618'],
  ['刘洋', '15973100872'],
  ['陈静', '0739-5321107'],
  ['杨帆', '18674421930'],
];
const REMARKS = ['', '', '', '需投影设备', '专家六人，含一名财务专家', '请预留网络评标终端'];
const PROJECT_NAMES = ['长沙市智慧教育装备采购项目', '湘江新区道路提质改造工程', '市第一医院医疗设备采购', '浏阳河水环境综合治理工程', '长沙县农村公路安防工程', '市政务云平台运维服务采购'];
const CATEGORIES = ['building', 'municipal', 'road', 'water', 'agent-build', 'procurement', 'other'] as const;
const GCJS_TYPES = ['A01', 'A02', 'A03', 'A07', 'A99'] as const;
/** Beijing-time windows of a session (start, end). */
const WINDOWS: readonly [string, string][] = [
  ['08:30', '12:00'],
  ['09:00', '11:30'],
  ['09:00', '17:30'],
  ['13:30', '17:30'],
  ['14:00', '18:00'],
  ['08:00', '10:30'],
  ['15:00', '17:00'],
];
/** Seats asked for: mostly a room's worth, sometimes only the hall fits. */
const SEATS = [1, 2, 3, 3, 3, 4, 5, 5, 5, 6, 7, 7, 9, 11, 13];

/**
 * Open days from `fromDays` ahead whose year has an official holiday notice
 * (a day in a year without one is decided on Monday to Friday and logged as
 * a warning per message, which is not the normal path); at most `max`.
 * Falls back to unpublished years only when fewer than 10 such days exist.
 */
export function openDays(now = Date.now(), max = 60, fromDays = 2): string[] {
  const calendar = new WorkCalendar([]);
  const published: string[] = [];
  const any: string[] = [];
  for (let offset = fromDays; offset < 400 && any.length < max; offset++) {
    const day = beijingDate(now + offset * DAY_MS);
    if (calendar.isClosed(day)) continue;
    any.push(day);
    if (calendar.isPublished(Number(day.slice(0, 4)))) published.push(day);
  }
  return published.length >= 10 ? published : any;
}

function pick<T>(items: readonly T[], n: number): T {
  const item = items[n % items.length];
  if (item === undefined) throw new Error('empty list');
  return item;
}

function digits(n: number, width: number): string {
  return String(n % 10 ** width).padStart(width, '0');
}

/**
 * Builds and signs requests. `sequence` runs over the whole process, so ids
 * stay unique across steps; `run` (random per generator) keeps them unique
 * across generators sharing one gateway.
 */
export class TrafficFactory {
  readonly #keys: PartnerKeys;
  readonly #days: string[];
  readonly #run = randomBytes(3).toString('hex').toUpperCase();
  /** the province's SERIES_NUMBER carries 6 digits of sequence after a 14-digit time */
  #sequence = 0;
  /** how many requests of every 1,000 are Changsha's */
  readonly #changshaPerMille: number;

  constructor(keys: PartnerKeys, options: { changshaShare?: number; days?: string[] } = {}) {
    this.#keys = keys;
    this.#days = options.days ?? openDays();
    this.#changshaPerMille = Math.round((options.changshaShare ?? 0.5) * 1000);
  }

  get days(): readonly string[] {
    return this.#days;
  }

  /** The n-th request of a mix: Changsha's share spread evenly through the sequence. */
  next(now = Date.now()): BenchRequest {
    const n = this.#sequence++;
    const changsha = Math.floor(((n + 1) * this.#changshaPerMille) / 1000) > Math.floor((n * this.#changshaPerMille) / 1000);
    return changsha ? this.#changsha(n, now) : this.#province(n, now);
  }

  build(count: number, now = Date.now()): BenchRequest[] {
    const requests: BenchRequest[] = new Array<BenchRequest>(count);
    for (let i = 0; i < count; i++) requests[i] = this.next(now);
    return requests;
  }

  #window(n: number): { day: string; start: string; end: string; seats: number } {
    // spread over days first, so every day fills at a similar pace
    const day = pick(this.#days, n);
    const [start, end] = pick(WINDOWS, Math.floor(n / this.#days.length) + (n % 3));
    return { day, start, end, seats: pick(SEATS, n * 7 + Math.floor(n / 11)) };
  }

  #province(n: number, now: number): BenchRequest {
    const { day, start, end, seats } = this.#window(n);
    const [areaCode, centerName] = pick(HOSTS, n);
    const [contact, phone] = pick(CONTACTS, n >> 1);
    const compactDay = day.replace(/-/g, '');
    const project = `M${areaCode}${this.#run}${digits(n, 7)}`.slice(0, 20).padEnd(20, '0');
    const gcjs = n % 4 !== 3;
    const data = {
      SERIES_NUMBER: `SQ${formatCompactBeijing(now)}${digits(n, 6)}`,
      AREA_CODE: areaCode,
      CENTER_NAME: centerName,
      TENDER_PROJECT_CODE: project,
      BID_SECTION_CODE: `${project}${digits(1 + (n % 3), 3)}`,
      TRADE_TYPE: gcjs ? 'GCJS' : 'ZFCG',
      ...(gcjs ? { TENDER_PROJECT_TYPE: pick(GCJS_TYPES, n) } : {}),
      BID_EVAL_START_TIME: `${compactDay}${start.replace(':', '')}00`,
      BID_EVAL_END_TIME: `${compactDay}${end.replace(':', '')}00`,
      SUB_AREA_CODE: '430200',
      SEAT_COUNT: seats,
      TENDER_AGENT_CONTRACT: contact,
      TENDER_AGENT_PHONE: phone,
      REMARK: pick(REMARKS, n),
    };
    const envelope = buildEnvelope(
      {
        secret: this.#keys.provinceSecret,
        method: 'HMAC-SM3',
        systemNo: 'HNSDD',
        dataUuid: randomBytes(16).toString('hex'),
        time: formatCompactBeijing(now),
        interfaceCode: 'apply',
      },
      data,
    );
    return {
      kind: 'province',
      id: data.SERIES_NUMBER,
      path: '/partners/province/apply',
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body: Buffer.from(JSON.stringify(envelope)),
    };
  }

  #changsha(n: number, now: number): BenchRequest {
    const { day, start, end, seats } = this.#window(n);
    const projectCode = `M430100${this.#run}${digits(n, 7)}`.slice(0, 20).padEnd(20, '0');
    const requestId = `CSR-${this.#run}-${digits(n, 8)}`;
    const event = {
      eventId: `evt_${randomBytes(12).toString('hex')}`,
      eventType: 'slot.requested',
      occurredAt: formatIsoBeijing(now),
      data: {
        requestId,
        projectCode,
        sectionCode: `${projectCode}${digits(1 + (n % 2), 3)}`,
        projectName: pick(PROJECT_NAMES, n),
        category: pick(CATEGORIES, n),
        start: `${day}T${start}:00+08:00`,
        end: `${day}T${end}:00+08:00`,
        seats: Math.min(seats, 9),
        hostCenter: '430100',
      },
    };
    const raw = JSON.stringify(event);
    return {
      kind: 'changsha',
      id: requestId,
      path: '/partners/changsha/events',
      headers: { 'content-type': 'application/json; charset=utf-8', ...lowerCase(signatureHeaders(this.#keys.changshaKeyId, this.#keys.changshaSecret, Math.floor(now / 1000), raw)) },
      body: Buffer.from(raw),
    };
  }
}

function lowerCase(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]));
}
