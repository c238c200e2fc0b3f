/**
 * Steady signed load from both partners, at a fixed rate, alternating the
 * province (apply, HMAC-SM3) and Changsha (slot.requested, HMAC-SHA256) and
 * the api processes. A message is acknowledged only by 200 (province) or 202
 * (Changsha) with a tracking number; a 503, a 429, a 5xx or a connection error
 * is not, and the message is sent again as a partner would — after the
 * gateway's Retry-After (province.md and changsha.md: respect it), or a second
 * when there was no answer, with the same DATAUUID or eventId and the same
 * content, signed afresh — until it is acknowledged.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { Agent, request } from 'node:http';
import { signatureHeaders } from '../adapters/changsha/signature.ts';
import { buildEnvelope } from '../adapters/province/signature.ts';
import { beijingDate, formatCompactBeijing, formatIsoBeijing } from '../kernel/beijing-time.ts';
import { WorkCalendar } from '../ledger/calendar.ts';
import { CHANGSHA, INBOUND_SECRET } from '../test/helpers/gateway.ts';
import { slotRequestedData } from '../test/simulators/changsha-client.ts';
import { applyData } from '../test/simulators/province-traffic.ts';
import type { Attempt, Operation, PartnerKind } from './history.ts';

const DAY_MS = 24 * 3600 * 1000;
/** Beijing-time windows of an evaluation session */
const WINDOWS: readonly [string, string][] = [
  ['08:30', '12:00'],
  ['09:00', '11:30'],
  ['13:30', '17:30'],
  ['14:00', '18:00'],
  ['08:00', '10:30'],
  ['15:00', '17:00'],
  ['09:00', '17:30'],
];
const SEATS = [1, 3, 5, 2, 7, 4, 9, 3, 6, 5, 11, 2];
const HOSTS = ['430100', '430300', '430400', '430500', '430600', '430700', '430900', '431000'];

/**
 * Open days from two days ahead, as the gateway's calendar sees them (a year
 * without a published holiday notice: Monday to Friday). Enough of them that
 * the ledger still has room late in a run, so that bookings are made under
 * every fault and not only under the first ones.
 */
export function openDays(now = Date.now(), max = 120): string[] {
  const calendar = new WorkCalendar([]);
  const days: string[] = [];
  for (let offset = 2; offset < 800 && days.length < max; offset++) {
    const day = beijingDate(now + offset * DAY_MS);
    if (!calendar.isClosed(day)) days.push(day);
  }
  return days;
}

function pick<T>(items: readonly T[], n: number): T {
  const item = items[n % items.length];
  if (item === undefined) throw new Error('empty list');
  return item;
}

interface Prepared {
  operation: Operation;
  path: string;
  /** the body and headers of one attempt, signed at `now` */
  sign(now: number): { body: Buffer; headers: Record<string, string> };
}

export interface Target {
  name: string;
  url: string;
}

export interface LoadOptions {
  /** messages per second, both partners together */
  rate: number;
  /** wait before a message is sent again when the answer gave no Retry-After (no answer, a 5xx without it) */
  retryWithoutHintMs: number;
  /** an attempt without an answer after this is abandoned (and the message sent again) */
  requestTimeoutMs: number;
}

export class LoadGenerator {
  readonly operations: Operation[] = [];
  readonly #options: LoadOptions;
  readonly #days = openDays();
  readonly #agent = new Agent({ keepAlive: true, maxSockets: 64 });
  readonly #run = randomBytes(2).toString('hex').toUpperCase();
  #targets: Target[] = [];
  #sequence = 0;
  #turn = 0;
  #timer: NodeJS.Timeout | undefined;
  #stopRetrying = false;
  readonly #pending = new Set<Promise<void>>();

  constructor(options: LoadOptions) {
    this.#options = options;
  }

  /** The api processes a partner's load balancer would send to; changes as processes stop and start. */
  setTargets(targets: Target[]): void {
    this.#targets = [...targets];
  }

  get days(): readonly string[] {
    return this.#days;
  }

  get inFlight(): number {
    return this.#pending.size;
  }

  start(): void {
    const startedAt = Date.now();
    let sent = 0;
    // a fixed schedule: message i is due at start + i / rate, whatever the answers
    const tick = () => {
      const due = Math.floor(((Date.now() - startedAt) * this.#options.rate) / 1000);
      while (sent < due) {
        sent++;
        this.#launch(this.#prepare(this.#sequence++));
      }
      this.#timer = setTimeout(tick, 10);
    };
    tick();
  }

  /** Stops sending new messages; those not yet acknowledged are still sent again. */
  stop(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Stops retrying too: messages still unacknowledged are abandoned. Resolves once every attempt has ended. */
  async abandon(): Promise<void> {
    this.stop();
    this.#stopRetrying = true;
    await Promise.allSettled([...this.#pending]);
    this.#agent.destroy();
  }

  /** Sends one message until it is acknowledged or finally refused. */
  #launch(prepared: Prepared): void {
    this.operations.push(prepared.operation);
    const task = this.#deliver(prepared).finally(() => this.#pending.delete(task));
    this.#pending.add(task);
  }

  async #deliver(prepared: Prepared): Promise<void> {
    const { operation } = prepared;
    for (;;) {
      const target = this.#targets[this.#turn++ % Math.max(1, this.#targets.length)];
      if (target === undefined) {
        await sleepMs(100);
        if (this.#stopRetrying) break;
        continue;
      }
      const at = Date.now();
      const { body, headers } = prepared.sign(at);
      const answer = await this.#post(target.url, prepared.path, body, headers);
      const attempt: Attempt = { at, api: target.name, status: answer.status, ms: Date.now() - at, ...(answer.error ? { error: answer.error } : {}) };
      operation.attempts.push(attempt);
      if (answer.status === 200 || answer.status === 202) {
        const trackingNo = trackingNoOf(operation.kind, answer.body);
        if (trackingNo) {
          operation.ackedAt = Date.now();
          operation.trackingNo = trackingNo;
          return;
        }
      } else if (answer.status >= 400 && answer.status < 500 && answer.status !== 429) {
        // the gateway refused the message itself: a partner would not send it again unchanged
        operation.refusedStatus = answer.status;
        return;
      }
      if (this.#stopRetrying) break;
      // the partner's wait, with up to 10% jitter so that retries do not come in lockstep
      const wait = answer.retryAfterMs ?? this.#options.retryWithoutHintMs;
      await sleepMs(wait * (1 + Math.random() / 10));
      if (this.#stopRetrying) break;
    }
    operation.abandoned = true;
  }

  #post(url: string, path: string, body: Buffer, headers: Record<string, string>): Promise<{ status: number; body: string; retryAfterMs?: number; error?: string }> {
    return new Promise((resolve) => {
      const target = new URL(path, url);
      const req = request(
        { host: target.hostname, port: target.port, path: target.pathname, method: 'POST', agent: this.#agent, timeout: this.#options.requestTimeoutMs, headers: { ...headers, 'content-length': String(body.length) } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => {
            const retryAfter = Number(res.headers['retry-after']);
            resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), ...(Number.isFinite(retryAfter) && retryAfter > 0 ? { retryAfterMs: retryAfter * 1000 } : {}) });
          });
          res.on('error', (error: NodeJS.ErrnoException) => resolve({ status: 0, body: '', error: error.code ?? error.message }));
        },
      );
      req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })));
      req.on('error', (error: NodeJS.ErrnoException) => resolve({ status: 0, body: '', error: error.code ?? error.message }));
      req.end(body);
    });
  }

  /**
   * The n-th message: province and Changsha in turn. Eight messages in a row
   * ask for the same day (several in flight at once compete for its rooms),
   * then the next day; the days come round again about once a minute and
   * fill up over a run, so that answers mix approvals and refusals.
   */
  #prepare(n: number): Prepared {
    const day = pick(this.#days, n >> 3);
    const [from, to] = pick(WINDOWS, Math.floor(n / (2 * this.#days.length)) + n);
    const seats = pick(SEATS, n * 5 + (n >> 3));
    const now = Date.now();
    if (n % 2 === 0) {
      const compact = day.replace(/-/g, '');
      const project = `M${pick(HOSTS, n >> 1)}${this.#run}${String(n).padStart(9, '0')}`.slice(0, 20);
      const data = applyData({
        start: `${compact}${from.replace(':', '')}00`,
        end: `${compact}${to.replace(':', '')}00`,
        SEAT_COUNT: seats,
        AREA_CODE: pick(HOSTS, n >> 1),
        TENDER_PROJECT_CODE: project,
        BID_SECTION_CODE: `${project}001`,
      });
      const dataUuid = randomUUID().replace(/-/g, '');
      return {
        operation: { kind: 'province', id: data.SERIES_NUMBER, messageKey: dataUuid, firstSentAt: now, attempts: [] },
        path: '/partners/province/apply',
        sign: (at) => {
          const envelope = buildEnvelope({ secret: INBOUND_SECRET, method: 'HMAC-SM3', systemNo: 'HNSDD', dataUuid, time: formatCompactBeijing(at), interfaceCode: 'apply' }, data);
          return { body: Buffer.from(JSON.stringify(envelope)), headers: { 'content-type': 'application/json; charset=utf-8' } };
        },
      };
    }
    const data = slotRequestedData({ start: `${day}T${from}:00+08:00`, end: `${day}T${to}:00+08:00`, seats: Math.min(seats, 9) });
    const requestId = `CSR-${this.#run}-${String(n).padStart(8, '0')}`;
    const event = { eventId: `evt_${randomBytes(12).toString('hex')}`, eventType: 'slot.requested', occurredAt: formatIsoBeijing(now), data: { ...data, requestId } };
    const raw = JSON.stringify(event);
    return {
      operation: { kind: 'changsha', id: requestId, messageKey: event.eventId, firstSentAt: now, attempts: [] },
      path: '/partners/changsha/events',
      sign: (at) => ({
        body: Buffer.from(raw),
        headers: { 'content-type': 'application/json; charset=utf-8', ...signatureHeaders(CHANGSHA.inboundKeyId, CHANGSHA.inboundSecret, Math.floor(at / 1000), raw) },
      }),
    };
  }
}

function trackingNoOf(kind: PartnerKind, body: string): string | undefined {
  try {
    const parsed = JSON.parse(body) as { Data?: { TRACKING_NO?: unknown }; trackingId?: unknown };
    const value = kind === 'province' ? parsed.Data?.TRACKING_NO : parsed.trackingId;
    return typeof value === 'string' && value !== '' ? value : undefined;
  } catch {
    return undefined;
  }
}

function sleepMs(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
