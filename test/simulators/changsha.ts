import axios from 'axios';
import { randomBytes } from 'node:crypto';
import { EventEmitter, once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseSignatureHeader, signatureHeaders, verifySignature } from '../../adapters/changsha/signature.ts';
import { beijingDate, formatIsoBeijing } from '../../kernel/beijing-time.ts';
import type { AvailabilityRoom } from '../../schemas/types.generated.ts';
import { SeededRandom } from './prng.ts';

/** One event on the wire, either direction (changsha.md). */
export interface ChangshaWireEvent<Data extends object = Record<string, unknown>> {
  eventId: string;
  eventType: string;
  occurredAt: string;
  data: Data;
}

export interface ReceivedEvent {
  event: ChangshaWireEvent;
  headers: IncomingHttpHeaders;
  /** the exact body the gateway signed */
  rawBody: string;
}

/** A request to /open-api/v2/events the simulator refused for authentication or form. */
export interface RejectedCall {
  status: number;
  reason: string;
  headers: IncomingHttpHeaders;
  rawBody: string;
}

/** An event the simulator posted to the gateway in counterpart mode, with the gateway's answer. */
export interface SentEvent {
  event: ChangshaWireEvent;
  /** the gateway's HTTP status; undefined when the call failed without an answer */
  status: number | undefined;
  answer?: unknown;
  error?: string;
}

/** One `session.status` the simulator received as guest: Zhuzhou's evaluation of one of its requests. */
export interface SessionReport {
  eventId: string;
  status: string;
  at: string;
  reason?: string;
}

export type SessionStatusValue = 'started' | 'paused' | 'resumed' | 'ended';

/** How the next /open-api/v2/events calls fail: a queue, then normal answers. */
export type ChangshaBehaviour = 'http-500' | 'http-429' | 'http-400' | 'unauthorized' | 'hang';

/** `trial`: offers most requests and declines some, as `ChangshaTrialSettings` say (npm start's trial) */
export type AutoRespondMode = 'off' | 'offer' | 'offer-mismatch' | 'decline' | 'trial';

export type DeclineReason = 'NO_CAPACITY' | 'INVALID_WINDOW' | 'CENTER_CLOSED';

/** How the `trial` counterpart answers: chances drawn from a PRNG seeded with `seed`. */
export interface ChangshaTrialSettings {
  seed: number;
  /** chance a `slot.requested` is declined (with one of `declineReasons`) instead of offered */
  declineRate: number;
  declineReasons: readonly DeclineReason[];
  /** how long an offer holds its seats (holdExpiresAt) */
  holdMinutes: number;
  /** how long after the request the answer goes (0: at once) */
  answerMs: number;
}

export const DEFAULT_CHANGSHA_TRIAL: Readonly<Omit<ChangshaTrialSettings, 'seed'>> = {
  declineRate: 0.2,
  declineReasons: ['NO_CAPACITY'],
  holdMinutes: 30,
  answerMs: 2000,
};

export interface ChangshaSimulatorOptions {
  clientId: string;
  clientSecret: string;
  /** the key id the gateway signs its events with */
  zhuzhouKeyId: string;
  /** verifies what the gateway signs */
  zhuzhouSecret: string;
  /** the key id the simulator signs its own events to the gateway with */
  changshaKeyId: string;
  /** what the simulator signs its own events to the gateway with */
  changshaSecret: string;
  tokenTtlSeconds?: number;
  /** the simulator's clock (token expiry, signature window, hold expiry); Date.now by default */
  now?: () => number;
}

const MAX_BODY_BYTES = 256 * 1024;
const SIGNATURE_TOLERANCE_SECONDS = 300;
const HOLD_MINUTES = 30;
const OFFER_ROOM = 'CS-PBS-A1';
const EVENT_ID = /^[A-Za-z0-9_-]{8,64}$/;
const DAY_MS = 24 * 3600 * 1000;

function hex(bytes: number): string {
  return randomBytes(bytes).toString('hex');
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The body has the event's outer shape (the gateway's own schema checks the rest). */
function isWireEvent(value: unknown): value is ChangshaWireEvent {
  return (
    isObject(value) &&
    typeof value['eventId'] === 'string' &&
    EVENT_ID.test(value['eventId']) &&
    typeof value['eventType'] === 'string' &&
    typeof value['occurredAt'] === 'string' &&
    isObject(value['data'])
  );
}

/**
 * Changsha's open API v2 on loopback, as the gateway sees it: the OAuth2 token
 * endpoint, the events endpoint (bearer token and X-YCH signature checked),
 * and availability; it can be told to fail, and as counterpart it answers the
 * gateway's `slot.requested` with an offer or a decline.
 */
export class ChangshaSimulator extends EventEmitter {
  /** events accepted from the gateway, each once, in arrival order */
  readonly received: ReceivedEvent[] = [];
  /** calls to the events endpoint refused for token, signature or form */
  readonly rejected: RejectedCall[] = [];
  /** events sent to the gateway in counterpart mode */
  readonly sentToGateway: SentEvent[] = [];
  tokensIssued = 0;
  /** every GET /open-api/v2/availability, answered or refused */
  availabilityCalls = 0;
  /** events refused with 409 because their eventId was already received */
  duplicates = 0;
  /** `session.status` received from the gateway (Zhuzhou hosting), by requestId, in arrival order */
  readonly sessions = new Map<string, SessionReport[]>();

  readonly #options: ChangshaSimulatorOptions;
  readonly #now: () => number;
  #server: Server | undefined;
  #behaviours: ChangshaBehaviour[] = [];
  #tokenFailures = 0;
  /** access token to its expiry (epoch ms) */
  readonly #tokens = new Map<string, number>();
  readonly #eventIds = new Set<string>();
  readonly #hanging = new Set<ServerResponse>();
  #autoRespond: { mode: AutoRespondMode; gatewayUrl?: string } = { mode: 'off' };
  /** the `trial` counterpart's settings and generator */
  #trial: { settings: Omit<ChangshaTrialSettings, 'seed'>; random: SeededRandom } | undefined;
  readonly #answerTimers = new Set<NodeJS.Timeout>();
  #rooms: AvailabilityRoom[] | undefined;

  constructor(options: ChangshaSimulatorOptions) {
    super();
    // every test waiting for an event is a listener; dozens at once are expected
    this.setMaxListeners(0);
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  get url(): string {
    const address = this.#server?.address() as AddressInfo | undefined;
    if (!address) throw new Error('simulator not started');
    return `http://127.0.0.1:${address.port}`;
  }

  async start(port = 0): Promise<this> {
    this.#server = createServer((req, res) => void this.#handle(req, res));
    this.#server.listen(port, '127.0.0.1');
    await once(this.#server, 'listening');
    return this;
  }

  async stop(): Promise<void> {
    for (const timer of this.#answerTimers) clearTimeout(timer);
    this.#answerTimers.clear();
    for (const res of this.#hanging) res.destroy();
    this.#hanging.clear();
    this.#server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.#server ? this.#server.close(() => resolve()) : resolve()));
  }

  /** The next /open-api/v2/events calls that carry a valid token fail as given, in order. */
  failNext(...behaviours: ChangshaBehaviour[]): void {
    this.#behaviours.push(...behaviours);
  }

  /** The next `count` token requests answer 503. */
  failTokenEndpoint(count: number): void {
    this.#tokenFailures += count;
  }

  /** Every token issued so far is refused from now on. */
  expireAllTokens(): void {
    this.#tokens.clear();
  }

  /** Fixed rooms for availability answers; undefined restores the default two rooms. */
  setAvailableRooms(rooms: AvailabilityRoom[] | undefined): void {
    this.#rooms = rooms;
  }

  /**
   * How the simulator answers a `slot.requested` from the gateway (the gateway
   * hosting). `trial` offers most and declines some, deterministically given
   * `trial.seed` (required for that mode); the other modes answer every
   * request alike, at once.
   */
  autoRespond(mode: AutoRespondMode, gatewayUrl?: string, trial?: Partial<ChangshaTrialSettings> & { seed: number }): void {
    if (mode !== 'off' && gatewayUrl === undefined) throw new Error(`autoRespond('${mode}') needs the gateway's URL`);
    if (mode === 'trial' && trial === undefined) throw new Error("autoRespond('trial') needs its settings (a seed at least)");
    this.#autoRespond = gatewayUrl === undefined ? { mode } : { mode, gatewayUrl };
    if (mode === 'trial' && trial !== undefined) {
      const { seed, ...rest } = trial;
      this.#trial = { settings: { ...DEFAULT_CHANGSHA_TRIAL, ...rest }, random: new SeededRandom(seed) };
    }
    if (mode === 'off') {
      for (const timer of this.#answerTimers) clearTimeout(timer);
      this.#answerTimers.clear();
    }
  }

  /** Resolves with the first received event that matches, received already or later. */
  async waitForEvent(predicate: (event: ChangshaWireEvent) => boolean): Promise<ChangshaWireEvent> {
    const seen = this.received.find((received) => predicate(received.event));
    if (seen) return seen.event;
    return new Promise((resolve) => {
      const listener = (event: ChangshaWireEvent) => {
        if (predicate(event)) {
          this.off('event', listener);
          resolve(event);
        }
      };
      this.on('event', listener);
    });
  }

  /** Resolves with the first event sent to the gateway (with its answer) that matches, sent already or later. */
  async waitForSent(predicate: (sent: SentEvent) => boolean = () => true): Promise<SentEvent> {
    const seen = this.sentToGateway.find(predicate);
    if (seen) return seen;
    return new Promise((resolve) => {
      const listener = (sent: SentEvent) => {
        if (predicate(sent)) {
          this.off('sent', listener);
          resolve(sent);
        }
      };
      this.on('sent', listener);
    });
  }

  /**
   * Sends a `session.status` as the host (Changsha hosting, Zhuzhou a guest)
   * and resolves with the gateway's answer; `eventId` repeats an event.
   */
  async sendSessionStatus(gatewayUrl: string, data: { requestId: string; status: SessionStatusValue; at: number; reason?: string }, eventId?: string): Promise<SentEvent> {
    const event = this.#event('session.status', {
      requestId: data.requestId,
      status: data.status,
      at: formatIsoBeijing(data.at),
      ...(data.reason === undefined ? {} : { reason: data.reason }),
    });
    return this.#sendToGateway(gatewayUrl, eventId === undefined ? event : { ...event, eventId });
  }

  /** Received events of one type, optionally for one requestId. */
  eventsOf(eventType: string, requestId?: string): ChangshaWireEvent[] {
    return this.received
      .map((received) => received.event)
      .filter((event) => event.eventType === eventType && (requestId === undefined || event.data['requestId'] === requestId));
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk as Buffer);
    }
    const rawBody = Buffer.concat(chunks);
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const reply = new Reply(res);
    if (size > MAX_BODY_BYTES) {
      reply.problem(413, 'Payload too large', `bodies are at most ${MAX_BODY_BYTES} bytes`);
      return;
    }
    const route = `${req.method ?? 'GET'} ${url.pathname}`;
    switch (route) {
      case 'POST /oauth/token':
        this.#token(req, rawBody, reply);
        return;
      case 'POST /open-api/v2/events':
        this.#events(req, rawBody, reply);
        return;
      case 'GET /open-api/v2/availability':
        this.#availability(req, url, reply);
        return;
      default:
        reply.problem(404, 'Not found', `no route ${route}`);
    }
  }

  #token(req: IncomingMessage, rawBody: Buffer, reply: Reply): void {
    if (this.#tokenFailures > 0) {
      this.#tokenFailures--;
      reply.json(503, { error: 'temporarily_unavailable' });
      return;
    }
    if (!(req.headers['content-type'] ?? '').toLowerCase().startsWith('application/x-www-form-urlencoded')) {
      reply.json(400, { error: 'invalid_request', error_description: 'expected application/x-www-form-urlencoded' });
      return;
    }
    const form = new URLSearchParams(rawBody.toString('utf8'));
    if (form.get('grant_type') !== 'client_credentials') {
      reply.json(400, { error: 'unsupported_grant_type' });
      return;
    }
    if (form.get('client_id') !== this.#options.clientId || form.get('client_secret') !== this.#options.clientSecret) {
      reply.json(401, { error: 'invalid_client' });
      return;
    }
    const ttl = this.#options.tokenTtlSeconds ?? 7200;
    const token = hex(24);
    this.#tokens.set(token, this.#now() + ttl * 1000);
    this.tokensIssued++;
    reply.json(200, { access_token: token, token_type: 'Bearer', expires_in: ttl });
  }

  #bearerValid(req: IncomingMessage): boolean {
    const match = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
    const expiresAt = match?.[1] === undefined ? undefined : this.#tokens.get(match[1]);
    return expiresAt !== undefined && this.#now() < expiresAt;
  }

  /** Why the signature headers do not authenticate `rawBody`, or undefined when they do. */
  #signatureFault(req: IncomingMessage, rawBody: Buffer): string | undefined {
    if (req.headers['x-ych-key-id'] !== this.#options.zhuzhouKeyId) return 'unknown X-YCH-Key-Id';
    const header = req.headers['x-ych-signature'];
    const signature = typeof header === 'string' ? parseSignatureHeader(header) : undefined;
    if (!signature) return 'malformed X-YCH-Signature';
    if (Math.abs(this.#now() / 1000 - signature.timestamp) > SIGNATURE_TOLERANCE_SECONDS) return 'signature time outside the accepted window';
    return verifySignature([this.#options.zhuzhouSecret], signature, rawBody) ? undefined : 'no v1 matches';
  }

  #events(req: IncomingMessage, rawBody: Buffer, reply: Reply): void {
    const text = rawBody.toString('utf8');
    const reject = (status: number, title: string, reason: string) => {
      const call: RejectedCall = { status, reason, headers: req.headers, rawBody: text };
      this.rejected.push(call);
      this.emit('rejected', call);
      reply.problem(status, title, reason);
    };
    if (!this.#bearerValid(req)) {
      reject(401, 'Unauthorized', 'missing, unknown or expired bearer token');
      return;
    }
    const behaviour = this.#behaviours.shift();
    switch (behaviour) {
      case undefined:
        break;
      case 'hang':
        this.#hanging.add(reply.res);
        reply.res.once('close', () => this.#hanging.delete(reply.res));
        // the event held unanswered, for a test that acts while it is in flight
        this.emit('hanging', JSON.parse(text) as ChangshaWireEvent);
        return;
      case 'http-500':
        reply.problem(500, 'Internal error', 'injected failure');
        return;
      case 'http-429':
        reply.problem(429, 'Too many requests', 'injected rate limit', { 'Retry-After': '1' });
        return;
      case 'http-400':
        reply.problem(400, 'Invalid event', '1 violation', {}, [{ path: '/data', message: 'injected permanent refusal' }]);
        return;
      case 'unauthorized':
        reply.problem(401, 'Unauthorized', 'injected token refusal');
        return;
    }
    const fault = this.#signatureFault(req, rawBody);
    if (fault !== undefined) {
      reject(401, 'Invalid signature', fault);
      return;
    }
    let event: unknown;
    try {
      event = JSON.parse(text);
    } catch {
      reject(400, 'Invalid event', 'body is not JSON');
      return;
    }
    if (!isWireEvent(event)) {
      reject(400, 'Invalid event', 'not an event: eventId, eventType, occurredAt and data are required');
      return;
    }
    if (this.#eventIds.has(event.eventId)) {
      this.duplicates++;
      this.emit('duplicate', event);
      reply.problem(409, 'Duplicate event', `eventId ${event.eventId} was already received`);
      return;
    }
    if (event.eventType === 'session.status' && !this.#recordSession(event)) {
      reject(400, 'Invalid event', 'session.status needs requestId, status, at, and a reason when paused');
      return;
    }
    this.#eventIds.add(event.eventId);
    this.received.push({ event, headers: req.headers, rawBody: text });
    this.emit('event', event);
    reply.json(202, { accepted: true });
    if (event.eventType === 'slot.requested') this.#counterpart(event);
  }

  /** Keeps a well-formed `session.status` as Changsha's guest record would; false when malformed. */
  #recordSession(event: ChangshaWireEvent): boolean {
    const { requestId, status, at, reason } = event.data;
    const known = ['started', 'paused', 'resumed', 'ended'];
    if (typeof requestId !== 'string' || typeof status !== 'string' || !known.includes(status) || typeof at !== 'string' || Number.isNaN(Date.parse(at))) return false;
    if (reason !== undefined && (typeof reason !== 'string' || reason.length === 0 || reason.length > 500)) return false;
    if (status === 'paused' && reason === undefined) return false;
    const reports = this.sessions.get(requestId) ?? [];
    reports.push({ eventId: event.eventId, status, at, ...(typeof reason === 'string' ? { reason } : {}) });
    this.sessions.set(requestId, reports);
    return true;
  }

  #availability(req: IncomingMessage, url: URL, reply: Reply): void {
    this.availabilityCalls++;
    if (!this.#bearerValid(req)) {
      reply.problem(401, 'Unauthorized', 'missing, unknown or expired bearer token');
      return;
    }
    const from = url.searchParams.get('from');
    const to = url.searchParams.get('to');
    const fromMs = from === null ? NaN : Date.parse(from);
    const toMs = to === null ? NaN : Date.parse(to);
    if (from === null || to === null || Number.isNaN(fromMs) || Number.isNaN(toMs) || toMs <= fromMs) {
      reply.problem(400, 'Invalid request', 'from and to must be ISO 8601 times with from < to');
      return;
    }
    const body: ChangshaWireEvent = {
      eventId: `cs_avail_${hex(12)}`,
      eventType: 'availability.published',
      occurredAt: formatIsoBeijing(this.#now()),
      data: { center: '430100', from, to, rooms: this.#rooms ?? defaultRooms(fromMs, toMs) },
    };
    reply.json(200, body);
  }

  /** Answers a `slot.requested` as the guest, after the 202 went out. */
  #counterpart(request: ChangshaWireEvent): void {
    const { mode, gatewayUrl } = this.#autoRespond;
    if (mode === 'off' || gatewayUrl === undefined) return;
    const requestId = request.data['requestId'];
    const asked = typeof request.data['seats'] === 'number' ? request.data['seats'] : 1;
    if (mode === 'trial') {
      this.#trialAnswer(gatewayUrl, requestId, asked);
      return;
    }
    let reply: ChangshaWireEvent;
    switch (mode) {
      case 'decline':
        reply = this.#event('slot.declined', { requestId, reason: 'NO_CAPACITY' });
        break;
      case 'offer':
      case 'offer-mismatch': {
        const seats = mode === 'offer' ? asked : asked > 1 ? asked - 1 : 2;
        reply = this.#event('slot.offered', {
          requestId,
          offerId: `CSO-${hex(8).toUpperCase()}`,
          roomId: OFFER_ROOM,
          seatNumbers: Array.from({ length: seats }, (_, n) => `${OFFER_ROOM}-${String(n + 1).padStart(2, '0')}`),
          holdExpiresAt: formatIsoBeijing(this.#now() + HOLD_MINUTES * 60 * 1000),
        });
        break;
      }
    }
    setImmediate(() => void this.#sendToGateway(gatewayUrl, reply));
  }

  /** The trial counterpart: an offer of the seats asked for, or now and then a decline, after `answerMs`. */
  #trialAnswer(gatewayUrl: string, requestId: unknown, asked: number): void {
    const trial = this.#trial;
    if (!trial) return;
    const { settings, random } = trial;
    const declined = random.chance(settings.declineRate);
    const reason = declined ? random.pick(settings.declineReasons) : undefined;
    const room = `CS-PBS-A${1 + random.int(2)}`;
    const send = () => {
      // built when it goes: holdExpiresAt counts from the offer, not from the request
      const reply =
        reason !== undefined
          ? this.#event('slot.declined', { requestId, reason })
          : this.#event('slot.offered', {
              requestId,
              offerId: `CSO-${hex(8).toUpperCase()}`,
              roomId: room,
              seatNumbers: Array.from({ length: asked }, (_, n) => `${room}-${String(n + 1).padStart(2, '0')}`),
              holdExpiresAt: formatIsoBeijing(this.#now() + settings.holdMinutes * 60 * 1000),
            });
      void this.#sendToGateway(gatewayUrl, reply);
    };
    if (settings.answerMs <= 0) {
      setImmediate(send);
      return;
    }
    const timer = setTimeout(() => {
      this.#answerTimers.delete(timer);
      send();
    }, settings.answerMs);
    this.#answerTimers.add(timer);
  }

  #event(eventType: string, data: Record<string, unknown>): ChangshaWireEvent {
    return { eventId: `cs_evt_${hex(12)}`, eventType, occurredAt: formatIsoBeijing(this.#now()), data };
  }

  async #sendToGateway(gatewayUrl: string, event: ChangshaWireEvent): Promise<SentEvent> {
    const raw = JSON.stringify(event);
    let sent: SentEvent;
    try {
      const response = await axios.post<unknown>(`${gatewayUrl}/partners/changsha/events`, raw, {
        timeout: 10_000,
        validateStatus: () => true,
        transformRequest: [(data: unknown) => data],
        headers: {
          'Content-Type': 'application/json',
          ...signatureHeaders(this.#options.changshaKeyId, this.#options.changshaSecret, Math.floor(this.#now() / 1000), raw),
        },
      });
      sent = { event, status: response.status, answer: response.data };
    } catch (error) {
      sent = { event, status: undefined, error: error instanceof Error ? error.message : String(error) };
    }
    this.sentToGateway.push(sent);
    this.emit('sent', sent);
    return sent;
  }
}

/** CS-PBS-A1 (9 seats) free 08:00-18:00 Beijing time on every day of [from, to); CS-PBS-A2 (5 seats) full. */
function defaultRooms(fromMs: number, toMs: number): AvailabilityRoom[] {
  const free: { start: string; end: string }[] = [];
  for (let day = Date.parse(`${beijingDate(fromMs)}T00:00:00+08:00`); day < toMs && free.length < 1000; day += DAY_MS) {
    const start = Math.max(fromMs, day + 8 * 3600 * 1000);
    const end = Math.min(toMs, day + 18 * 3600 * 1000);
    if (start < end) free.push({ start: formatIsoBeijing(start), end: formatIsoBeijing(end) });
  }
  return [
    { roomId: 'CS-PBS-A1', seats: 9, free },
    { roomId: 'CS-PBS-A2', seats: 5, free: [] },
  ];
}

/** Writes JSON and problem+json answers. */
class Reply {
  readonly res: ServerResponse;

  constructor(res: ServerResponse) {
    this.res = res;
  }

  json(status: number, body: unknown, headers: Record<string, string> = {}, contentType = 'application/json; charset=utf-8'): void {
    this.res.writeHead(status, { 'Content-Type': contentType, ...headers });
    this.res.end(JSON.stringify(body));
  }

  problem(status: number, title: string, detail: string, headers: Record<string, string> = {}, errors?: { path: string; message: string }[]): void {
    const type = `https://open.changsha.example/problems/${title.toLowerCase().replace(/\s+/g, '-')}`;
    this.json(status, { type, title, status, detail, ...(errors ? { errors } : {}) }, headers, 'application/problem+json; charset=utf-8');
  }
}
