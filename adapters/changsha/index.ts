import { createHash } from 'node:crypto';
import type { Clock } from '../../kernel/clock.ts';
import { formatIsoBeijing } from '../../kernel/beijing-time.ts';
import { ERROR_CATALOG, GatewayError } from '../../kernel/errors.ts';
import { validatorFor } from '../../schemas/registry.ts';
import type {
  Availability,
  AvailabilityPublished,
  BookingDecision,
  ChangshaEvent,
  GatewayConfig,
  HostMessage,
  SessionStatus,
  SlotConfirmed,
  SlotDeclined,
  SlotOffered,
  SlotReleased,
  SlotRequested,
} from '../../schemas/types.generated.ts';
import { isAxiosError, partnerHttpClient, retryAfterMs, type PartnerHttp } from '../http.ts';
import { canonicalJson } from '../../kernel/crypto/jcs.ts';
import type { CanonicalEvent, DeliveryOptions, DeliveryResult, HttpAnswer, InboundHttp, InboundMessage, OutboundMessage, Checked, PartnerAdapter } from '../types.ts';
import { CATEGORY_CODES, slotRequestViolations } from './rules.ts';
import { changshaLabSignature } from './lab.ts';
import { KEY_ID_HEADER, parseSignatureHeader, SIGNATURE_HEADER, signatureHeaders, verifySignature } from './signature.ts';
import { TokenSource, TokenUnavailableError } from './token.ts';

const validateEvent = validatorFor<ChangshaEvent>('partners/changsha/event.json');
const EVENTS_PATH = '/open-api/v2/events';

/** problem+json titles of each answer */
const TITLES: Record<number, string> = {
  400: 'Invalid event',
  401: 'Invalid signature',
  404: 'Not found',
  409: 'Conflict',
  413: 'Payload too large',
  422: 'Unprocessable event',
  429: 'Too many requests',
  500: 'Internal error',
  503: 'Service unavailable',
};

function kebab(code: string): string {
  return code.toLowerCase().replace(/_/g, '-');
}

function iso(time: string): string {
  return formatIsoBeijing(Date.parse(time));
}

function toAvailability(data: AvailabilityPublished, meta: { partner: string; trackingNo: string; receivedAt: string }): Availability {
  return {
    ...meta,
    kind: 'availability',
    center: data.center,
    from: iso(data.from),
    to: iso(data.to),
    rooms: data.rooms.map((room) => ({ roomId: room.roomId, seats: room.seats, free: room.free.map((window) => ({ start: iso(window.start), end: iso(window.end) })) })),
  };
}

export interface ChangshaAdapterDeps {
  config: Readonly<GatewayConfig>;
  clock: Clock;
}

export function createChangshaAdapter({ config, clock }: ChangshaAdapterDeps): PartnerAdapter {
  const settings = config.partners.changsha;
  const http: PartnerHttp = partnerHttpClient(settings);
  const tokens = new TokenSource(http, { clientId: settings.clientId, clientSecret: settings.clientSecret }, settings.tokenRefreshMarginSeconds, () => clock.now());
  // each accepted key id with its secrets, current first: Changsha may switch key ids at any moment of a rotation
  const inboundKeys = new Map<string, readonly string[]>([
    ...Object.entries(settings.inboundKeys ?? {}).map(([keyId, key]): [string, string[]] => [keyId, [key.secret, ...(key.previousSecret ? [key.previousSecret] : [])]]),
    [settings.inboundKeyId, [settings.inboundSecret, ...(settings.inboundPreviousSecret ? [settings.inboundPreviousSecret] : [])]],
  ]);

  function event(eventType: ChangshaEvent['eventType'], data: object, eventId: string): OutboundMessage {
    return { partner: 'changsha', operation: eventType, messageId: eventId, body: { eventId, eventType, occurredAt: formatIsoBeijing(clock.now()), data } };
  }

  /** One authorised call; a 401 renews the token once and tries again. */
  async function authorised(call: (token: string) => Promise<{ status: number; data: unknown; headers: Record<string, unknown> }>) {
    const token = await tokens.get();
    const first = await call(token);
    if (first.status !== 401) return first;
    tokens.invalidate(token);
    return call(await tokens.get());
  }

  return {
    id: 'changsha',
    operations: ['events'],
    rateLimitPerSecond: settings.rateLimitPerSecond,
    signsRawBody: true,

    lab: {
      headers: [KEY_ID_HEADER, SIGNATURE_HEADER],
      signature: (inbound, body) => changshaLabSignature(inboundKeys, settings.clockToleranceSeconds, clock.now(), inbound, body),
    },

    validate(_operation, body) {
      const result = validateEvent(body);
      return result.ok ? { ok: true } : { ok: false, violations: result.violations };
    },

    authenticate(inbound: InboundHttp): Checked<void> {
      const reject = (reason: string): Checked<void> => ({ ok: false, error: new GatewayError('UNAUTHENTICATED', reason) });
      const keyId = inbound.headers[KEY_ID_HEADER];
      const header = inbound.headers[SIGNATURE_HEADER];
      const inboundSecrets = typeof keyId === 'string' ? inboundKeys.get(keyId) : undefined;
      if (!inboundSecrets) return reject('unknown X-YCH-Key-Id');
      const signature = typeof header === 'string' ? parseSignatureHeader(header) : undefined;
      if (!signature) return reject('malformed X-YCH-Signature');
      if (Math.abs(clock.now() / 1000 - signature.timestamp) > settings.clockToleranceSeconds) return reject('signature time outside the accepted window');
      return verifySignature(inboundSecrets, signature, inbound.rawBody) ? { ok: true, value: undefined } : reject('no v1 matches');
    },

    inspect(inbound: InboundHttp, body: unknown): Checked<InboundMessage> {
      const message = body as ChangshaEvent;
      const searchIds: Record<string, string> = { eventId: message.eventId };
      if (message.eventType === 'slot.requested') {
        const data = message.data as unknown as SlotRequested;
        const violations = slotRequestViolations(data, settings.centerCode, clock.now());
        if (violations.length > 0) return { ok: false, error: new GatewayError('SEMANTIC_INVALID', undefined, { violations }) };
        searchIds['requestId'] = data.requestId;
        searchIds['section'] = data.sectionCode;
        return {
          ok: true,
          value: { operation: inbound.operation, messageKey: message.eventId, request: { id: data.requestId, contentDigest: createHash('sha256').update(canonicalJson(data)).digest('hex') }, searchIds },
        };
      }
      if (message.eventType === 'availability.published') {
        const data = message.data as unknown as AvailabilityPublished;
        if (Date.parse(data.to) <= Date.parse(data.from)) {
          return { ok: false, error: new GatewayError('SEMANTIC_INVALID', undefined, { violations: [{ path: '/data/to', message: 'must be after from' }] }) };
        }
      } else {
        searchIds['requestId'] = (message.data as { requestId: string }).requestId;
      }
      // changsha.md: a session.status reports on a request Zhuzhou holds confirmed for Changsha
      const inForce = message.eventType === 'session.status' ? { inForce: (message.data as unknown as SessionStatus).requestId, inForcePath: '/data/requestId' } : {};
      return { ok: true, value: { operation: inbound.operation, messageKey: message.eventId, searchIds, ...inForce } };
    },

    accepted(trackingNo: string): HttpAnswer {
      return { status: 202, body: { accepted: true, trackingId: trackingNo } };
    },

    rejected(error: GatewayError): HttpAnswer {
      const status = error.status >= 500 && error.code !== 'STORE_UNAVAILABLE' && error.code !== 'CIRCUIT_OPEN' ? 500 : error.status;
      const headers: Record<string, string> = {};
      if (error.retryAfterMs !== undefined) headers['Retry-After'] = String(Math.max(1, Math.ceil(error.retryAfterMs / 1000)));
      const count = error.violations.length;
      return {
        status,
        headers,
        contentType: 'application/problem+json',
        body: {
          type: `https://zzgw.local/problems/${kebab(error.code)}`,
          title: TITLES[status] ?? TITLES[500],
          status,
          // what went wrong inside stays in our logs
          detail: count > 0 ? `${count} violation${count === 1 ? '' : 's'}` : status >= 500 ? ERROR_CATALOG[error.code].summary : error.message,
          ...(count > 0 ? { errors: error.violations } : {}),
        },
      };
    },

    decode(_operation, body, meta): CanonicalEvent {
      const message = body as ChangshaEvent;
      const common = { partner: 'changsha', trackingNo: meta.trackingNo, receivedAt: formatIsoBeijing(meta.receivedAt) };
      switch (message.eventType) {
        case 'slot.requested': {
          const data = message.data as unknown as SlotRequested;
          const codes = CATEGORY_CODES[data.category];
          return {
            ...common,
            kind: 'hold',
            requestId: data.requestId,
            booking: {
              hostCenter: data.hostCenter,
              hostCenterName: '',
              tenderProjectCode: data.projectCode,
              bidSectionCode: data.sectionCode,
              sector: codes.sector,
              ...(codes.projectType === undefined ? {} : { projectType: codes.projectType }),
              start: iso(data.start),
              end: iso(data.end),
              seats: data.seats,
              projectName: data.projectName,
            },
          };
        }
        case 'slot.confirmed': {
          const data = message.data as unknown as SlotConfirmed;
          return { ...common, kind: 'confirm', requestId: data.requestId, offerId: data.offerId };
        }
        case 'slot.released': {
          const data = message.data as unknown as SlotReleased;
          return { ...common, kind: 'release', requestId: data.requestId, reason: data.reason };
        }
        case 'slot.offered': {
          const data = message.data as unknown as SlotOffered;
          return { ...common, kind: 'offered', requestId: data.requestId, offerId: data.offerId, roomId: data.roomId, seatIds: data.seatNumbers, holdExpiresAt: iso(data.holdExpiresAt) };
        }
        case 'slot.declined': {
          const data = message.data as unknown as SlotDeclined;
          return { ...common, kind: 'declined', requestId: data.requestId, reason: data.reason };
        }
        case 'session.status': {
          const data = message.data as unknown as SessionStatus;
          return { ...common, kind: 'status', requestId: data.requestId, lifecycle: { status: data.status, at: iso(data.at), ...(data.reason === undefined ? {} : { reason: data.reason }) } };
        }
        case 'availability.published': {
          return toAvailability(message.data as unknown as AvailabilityPublished, common);
        }
      }
    },

    messageIdFor: (cause: string) => `zz_evt_${createHash('sha256').update(`changsha:${cause}`).digest('hex').slice(0, 40)}`,

    encodeDecision(decision: BookingDecision, messageId: string): OutboundMessage | undefined {
      if (decision.kind === 'hold' && decision.outcome === 'held') {
        return event('slot.offered', {
          requestId: decision.requestId,
          offerId: decision.offerId ?? '',
          roomId: decision.roomId,
          seatNumbers: decision.seatIds,
          holdExpiresAt: formatIsoBeijing(Date.parse(decision.holdExpiresAt ?? decision.decidedAt)),
        }, messageId);
      }
      if (decision.kind === 'hold' && decision.outcome === 'rejected') {
        return event('slot.declined', { requestId: decision.requestId, reason: decision.reason }, messageId);
      }
      if ((decision.kind === 'confirm' || decision.kind === 'expire') && decision.outcome === 'released') {
        return event('slot.released', { requestId: decision.requestId, reason: 'HOLD_EXPIRED' }, messageId);
      }
      return undefined;
    },

    host: {
      encode(message: HostMessage, messageId: string): OutboundMessage {
        switch (message.kind) {
          case 'request': {
            const request = message.request;
            if (!request) throw new GatewayError('CANONICAL_INVALID', 'a host request without its window');
            return event('slot.requested', {
              requestId: message.requestId,
              projectCode: request.tenderProjectCode,
              sectionCode: request.bidSectionCode,
              projectName: request.projectName,
              category: request.category,
              start: formatIsoBeijing(Date.parse(request.start)),
              end: formatIsoBeijing(Date.parse(request.end)),
              seats: request.seats,
              hostCenter: request.hostCenter,
            }, messageId);
          }
          case 'confirm':
            return event('slot.confirmed', { requestId: message.requestId, offerId: message.offerId ?? '' }, messageId);
          case 'release':
            return event('slot.released', { requestId: message.requestId, reason: message.reason ?? 'OTHER' }, messageId);
          case 'status': {
            const lifecycle = message.lifecycle;
            if (!lifecycle) throw new GatewayError('CANONICAL_INVALID', 'a lifecycle report without its status');
            return event('session.status', {
              requestId: message.requestId,
              status: lifecycle.status,
              at: formatIsoBeijing(Date.parse(lifecycle.at)),
              ...(lifecycle.reason === undefined ? {} : { reason: lifecycle.reason }),
            }, messageId);
          }
        }
      },
    },

    availability: {
      async fetch(from: number, to: number): Promise<Availability> {
        const params = { from: formatIsoBeijing(from), to: formatIsoBeijing(to) };
        const response = await authorised((token) => http.get('/open-api/v2/availability', { params, headers: { Authorization: `Bearer ${token}` } }));
        if (response.status !== 200) throw new Error(`availability answered HTTP ${response.status}`);
        const checked = validateEvent(response.data);
        if (!checked.ok || checked.value.eventType !== 'availability.published') throw new Error('availability answered an unexpected body');
        return toAvailability(checked.value.data as unknown as AvailabilityPublished, { partner: 'changsha', trackingNo: checked.value.eventId, receivedAt: formatIsoBeijing(clock.now()) });
      },
      encode(availability: Availability, messageId: string): OutboundMessage {
        return event('availability.published', { center: availability.center, from: availability.from, to: availability.to, rooms: availability.rooms }, messageId);
      },
    },

    async deliver(message: OutboundMessage, options?: DeliveryOptions): Promise<DeliveryResult> {
      const raw = JSON.stringify(message.body);
      try {
        const response = await authorised((token) =>
          http.post(EVENTS_PATH, raw, {
            ...(options?.timeoutMs === undefined ? {} : { timeout: options.timeoutMs }),
            headers: {
              'Content-Type': 'application/json; charset=utf-8',
              Authorization: `Bearer ${token}`,
              ...signatureHeaders(settings.outboundKeyId, settings.outboundSecret, Math.floor(clock.now() / 1000), raw),
            },
          }),
        );
        const { status, data } = response;
        // changsha.md: 202 accepted and 409 duplicate eventId are both success
        if (status === 202 || status === 409) return { kind: 'delivered', status, answer: data };
        if (status === 429 || status >= 500) {
          const wait = retryAfterMs(response.headers['retry-after'], clock.now());
          return { kind: 'retry', status, answer: data, reason: `HTTP ${status}`, ...(wait === undefined ? {} : { retryAfterMs: wait }) };
        }
        return { kind: 'refused', status, answer: data, reason: `HTTP ${status}` };
      } catch (error) {
        if (error instanceof TokenUnavailableError) return { kind: 'retry', reason: error.message };
        const reason = isAxiosError(error) ? `${error.code ?? 'network error'}: ${error.message}` : String(error);
        return { kind: 'retry', reason };
      }
    },
  };
}
