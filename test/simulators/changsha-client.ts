import axios, { type AxiosResponse } from 'axios';
import { randomBytes } from 'node:crypto';
import { KEY_ID_HEADER, SIGNATURE_HEADER, signBody } from '../../adapters/changsha/signature.ts';
import { formatIsoBeijing } from '../../kernel/beijing-time.ts';
import type { ChangshaEvent, SlotRequested } from '../../schemas/types.generated.ts';
import type { ChangshaWireEvent } from './changsha.ts';

export interface ChangshaClientOptions {
  gatewayUrl: string;
  /** the key id Changsha signs with (the gateway's inbound key id) */
  keyId: string;
  secret: string;
  now?: () => number;
}

/** An event type of changsha.md, or any string for negative tests. */
export type ChangshaEventType = ChangshaEvent['eventType'] | (string & {});

export interface EventOverrides {
  eventId?: string;
  occurredAt?: string;
}

export interface SigningOverrides {
  secret?: string;
  keyId?: string;
  /** Unix seconds for `t=` */
  timestamp?: number;
}

/** Sends signed events to the gateway as Changsha does. */
export class ChangshaClient {
  readonly #options: ChangshaClientOptions;

  constructor(options: ChangshaClientOptions) {
    this.#options = options;
  }

  #now(): number {
    return (this.#options.now ?? Date.now)();
  }

  event<Data extends object>(eventType: ChangshaEventType, data: Data, overrides: EventOverrides = {}): ChangshaWireEvent<Data> {
    return {
      eventId: overrides.eventId ?? `evt_${randomBytes(12).toString('hex')}`,
      eventType,
      occurredAt: overrides.occurredAt ?? formatIsoBeijing(this.#now()),
      data,
    };
  }

  /**
   * Posts `body` (an object is serialised once; a string or Buffer goes as is),
   * signed over exactly the bytes sent. `headers` win over the computed ones,
   * case-insensitively; a header given as undefined is left out.
   */
  async post(body: object | string | Buffer, headers: Record<string, string | undefined> = {}, signing: SigningOverrides = {}): Promise<AxiosResponse<unknown>> {
    const raw = typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
    const timestamp = signing.timestamp ?? Math.floor(this.#now() / 1000);
    const computed: Record<string, string> = {
      'Content-Type': 'application/json; charset=utf-8',
      [KEY_ID_HEADER]: signing.keyId ?? this.#options.keyId,
      [SIGNATURE_HEADER]: `t=${timestamp},v1=${signBody(signing.secret ?? this.#options.secret, timestamp, raw)}`,
    };
    for (const [name, value] of Object.entries(headers)) {
      for (const key of Object.keys(computed)) if (key.toLowerCase() === name.toLowerCase()) delete computed[key];
      if (value !== undefined) computed[name] = value;
    }
    return axios.post<unknown>(`${this.#options.gatewayUrl}/partners/changsha/events`, raw, {
      validateStatus: () => true,
      headers: computed,
      transformRequest: [(data: unknown) => data],
    });
  }

  /** Posts Changsha's `session.status` as host for `requestId` (Zhuzhou a guest); `at` in epoch ms. */
  async sessionStatus(requestId: string, status: 'started' | 'paused' | 'resumed' | 'ended', at: number, reason?: string, overrides: EventOverrides & SigningOverrides = {}): Promise<AxiosResponse<unknown>> {
    return this.send('session.status', { requestId, status, at: formatIsoBeijing(at), ...(reason === undefined ? {} : { reason }) }, overrides);
  }

  /** Builds, signs and posts one event; the overrides also allow a wrong secret, key id or time. */
  async send(eventType: ChangshaEventType, data: object, overrides: EventOverrides & SigningOverrides = {}): Promise<AxiosResponse<unknown>> {
    const { eventId, occurredAt, ...signing } = overrides;
    return this.post(this.event(eventType, data, { ...(eventId === undefined ? {} : { eventId }), ...(occurredAt === undefined ? {} : { occurredAt }) }), {}, signing);
  }
}

let sequence = 0;

/** A realistic `slot.requested` from Changsha as host, with its own requestId, project and section. */
export function slotRequestedData(overrides: Partial<SlotRequested> & { start: string; end: string }): SlotRequested {
  sequence = (sequence + 1) % 10_000;
  const serial = String(sequence).padStart(4, '0');
  // the section code follows an overridden project code unless given too
  const projectCode = overrides.projectCode ?? `M430100026002119${serial}`;
  return {
    requestId: `CSR-${serial}-${randomBytes(4).toString('hex')}`,
    projectCode,
    sectionCode: `${projectCode}002`,
    projectName: '长沙市智慧教育装备采购项目',
    category: 'procurement',
    seats: 4,
    hostCenter: '430100',
    ...overrides,
  };
}
