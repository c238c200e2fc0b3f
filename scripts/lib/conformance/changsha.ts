import { randomBytes } from 'node:crypto';
import { createChangshaAdapter } from '../../../adapters/changsha/index.ts';
import { signatureHeaders, signBody } from '../../../adapters/changsha/signature.ts';
import { TokenSource } from '../../../adapters/changsha/token.ts';
import { partnerHttpClient } from '../../../adapters/http.ts';
import type { GatewayConfig } from '../../../config/index.ts';
import { formatIsoBeijing } from '../../../kernel/beijing-time.ts';
import { validatorFor } from '../../../schemas/registry.ts';
import type { ChangshaEvent, ChangshaToken } from '../../../schemas/types.generated.ts';
import { call, fail, isObject, pass, type Answer, type Rule } from './runner.ts';

/**
 * Changsha's side of "Gateway -> Changsha" (changsha.md): its token endpoint,
 * its events endpoint and its availability, played as the gateway plays them,
 * with the adapter's own encoders, signature and token client.
 */

const validateToken = validatorFor<ChangshaToken>('partners/changsha/token.json');
const validateEvent = validatorFor<ChangshaEvent>('partners/changsha/event.json');
const EVENTS_PATH = '/open-api/v2/events';
/** The contract's tolerance is 300 s; a signature this old is outside it whatever the partner's setting. */
const STALE_SECONDS = 900;
const DAY_MS = 24 * 3600 * 1000;

export interface ChangshaTarget {
  /** the gateway's configuration; partners.changsha.baseUrl is the implementation under test */
  config: Readonly<GatewayConfig>;
  now?: () => number;
}

/** Secrets a report must never show. */
export function changshaSecrets(config: Readonly<GatewayConfig>): string[] {
  const settings = config.partners.changsha;
  return [settings.clientSecret, settings.outboundSecret, settings.inboundSecret, ...(settings.inboundPreviousSecret ? [settings.inboundPreviousSecret] : [])];
}

function hex(bytes: number): string {
  return randomBytes(bytes).toString('hex');
}

export function changshaRules({ config, now = Date.now }: ChangshaTarget): Rule[] {
  const settings = config.partners.changsha;
  const adapter = createChangshaAdapter({ config, clock: { now } });
  const http = partnerHttpClient(settings);
  const tokens = new TokenSource(http, { clientId: settings.clientId, clientSecret: settings.clientSecret }, settings.tokenRefreshMarginSeconds, now);
  const seconds = () => Math.floor(now() / 1000);

  /** A slot.offered as the adapter encodes a hold decision, with a new eventId. */
  function offeredEvent(): string {
    const room = 'ZZ-PBS-01';
    const message = adapter.encodeDecision(
      {
        requestId: `CSR-CONF-${hex(6)}`,
        kind: 'hold',
        outcome: 'held',
        reason: '',
        roomId: room,
        roomAddress: '',
        seatIds: [`${room}-01`, `${room}-02`],
        decidedAt: formatIsoBeijing(now()),
        offerId: `ZZO-${hex(6).toUpperCase()}`,
        holdExpiresAt: formatIsoBeijing(now() + 30 * 60 * 1000),
      },
      adapter.messageIdFor(`conformance:${hex(8)}`),
    );
    if (!message) throw new Error('the adapter encodes no slot.offered for a held decision');
    return JSON.stringify(message.body);
  }

  interface EventOptions {
    /** replaces the signature headers */
    signature?: Record<string, string>;
    bearer?: string | null;
  }

  async function postEvent(raw: string, options: EventOptions = {}): Promise<Answer> {
    const bearer = options.bearer === undefined ? await tokens.get() : options.bearer;
    return call(http, {
      method: 'POST',
      path: EVENTS_PATH,
      headers: {
        'Content-Type': 'application/json; charset=utf-8',
        ...(bearer === null ? {} : { Authorization: `Bearer ${bearer}` }),
        ...(options.signature ?? signatureHeaders(settings.outboundKeyId, settings.outboundSecret, seconds(), raw)),
      },
      body: raw,
    });
  }

  async function tokenCall(clientSecret: string): Promise<Answer> {
    const form = new URLSearchParams({ grant_type: 'client_credentials', client_id: settings.clientId, client_secret: clientSecret });
    return call(http, { method: 'POST', path: '/oauth/token', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: form.toString() });
  }

  function status(answer: Answer): string {
    return answer.status === undefined ? 'no answer' : `HTTP ${answer.status}`;
  }

  /** A refusal rule: the event is refused 401 and not accepted. */
  function refused401(id: string, title: string, send: () => Promise<Answer>): Rule {
    return {
      id,
      title,
      async run() {
        const answer = await send();
        return answer.status === 401 ? pass('refused 401', answer.exchange) : fail(`expected HTTP 401, got ${status(answer)}`, answer.exchange);
      },
    };
  }

  return [
    {
      id: 'token-issued',
      title: 'POST /oauth/token with the client credentials answers 200 {access_token, token_type "Bearer", expires_in}',
      async run() {
        const answer = await tokenCall(settings.clientSecret);
        if (answer.status !== 200) return fail(`expected HTTP 200, got ${status(answer)}`, answer.exchange);
        const checked = validateToken(answer.json);
        if (!checked.ok) return fail(`not the token shape: ${checked.violations.map((v) => `${v.path || '/'} ${v.message}`).join('; ')}`, answer.exchange);
        if (checked.value.token_type.toLowerCase() !== 'bearer') return fail(`token_type ${JSON.stringify(checked.value.token_type)}, not Bearer`, answer.exchange);
        return pass('token issued', answer.exchange);
      },
    },
    {
      id: 'token-wrong-credentials',
      title: 'POST /oauth/token with a wrong client secret is refused (400 or 401) and issues no token',
      async run() {
        const answer = await tokenCall(`not-the-secret-${hex(8)}`);
        const issued = isObject(answer.json) && 'access_token' in answer.json;
        return (answer.status === 400 || answer.status === 401) && !issued
          ? pass(`refused ${answer.status}`, answer.exchange)
          : fail(`expected HTTP 400 or 401 without a token, got ${status(answer)}${issued ? ' with an access_token' : ''}`, answer.exchange);
      },
    },
    {
      id: 'event-accepted',
      title: 'a signed event with the bearer token is answered 202',
      async run() {
        const answer = await postEvent(offeredEvent());
        return answer.status === 202 ? pass('accepted', answer.exchange) : fail(`expected HTTP 202, got ${status(answer)}`, answer.exchange);
      },
    },
    {
      id: 'event-repeat',
      title: 'the same eventId again is answered 409 (a duplicate: success for the sender)',
      async run() {
        const raw = offeredEvent();
        const first = await postEvent(raw);
        if (first.status !== 202) return fail(`first send: expected HTTP 202, got ${status(first)}`, first.exchange);
        const again = await postEvent(raw);
        return again.status === 409 ? pass('duplicate 409', first.exchange, again.exchange) : fail(`resend: expected HTTP 409, got ${status(again)}`, first.exchange, again.exchange);
      },
    },
    {
      id: 'event-rotation',
      title: 'several v1 in X-YCH-Signature (a rotation): one matching is enough, answered 202',
      async run() {
        const raw = offeredEvent();
        const t = seconds();
        const signature = { 'X-YCH-Key-Id': settings.outboundKeyId, 'X-YCH-Signature': `t=${t},v1=${signBody(`retired-${hex(8)}`, t, raw)},v1=${signBody(settings.outboundSecret, t, raw)}` };
        const answer = await postEvent(raw, { signature });
        return answer.status === 202 ? pass('accepted', answer.exchange) : fail(`expected HTTP 202, got ${status(answer)}`, answer.exchange);
      },
    },
    refused401('event-wrong-signature', 'an event whose v1 does not match is refused 401', async () => {
      const raw = offeredEvent();
      return postEvent(raw, { signature: signatureHeaders(settings.outboundKeyId, `not-the-secret-${hex(8)}`, seconds(), raw) });
    }),
    refused401('event-stale-timestamp', `an event signed ${STALE_SECONDS} s ago (the tolerance is 300 s) is refused 401`, async () => {
      const raw = offeredEvent();
      return postEvent(raw, { signature: signatureHeaders(settings.outboundKeyId, settings.outboundSecret, seconds() - STALE_SECONDS, raw) });
    }),
    refused401('event-unknown-key-id', 'an event signed under an unknown X-YCH-Key-Id is refused 401', async () => {
      const raw = offeredEvent();
      return postEvent(raw, { signature: signatureHeaders(`unknown-key-${hex(4)}`, settings.outboundSecret, seconds(), raw) });
    }),
    refused401('event-without-bearer', 'an event without the bearer token is refused 401', async () => postEvent(offeredEvent(), { bearer: null })),
    {
      id: 'event-malformed',
      title: 'a signed body that is not an event is refused 400 as application/problem+json',
      async run() {
        const raw = JSON.stringify({ eventId: `zz_evt_${hex(8)}`, eventType: 'slot.offered' });
        const answer = await postEvent(raw);
        if (answer.status !== 400) return fail(`expected HTTP 400, got ${status(answer)}`, answer.exchange);
        if (!(answer.headers['content-type'] ?? '').toLowerCase().startsWith('application/problem+json')) return fail(`expected application/problem+json, got ${answer.headers['content-type'] ?? 'no Content-Type'}`, answer.exchange);
        return isObject(answer.json) && answer.json['status'] === 400 && typeof answer.json['title'] === 'string'
          ? pass('refused 400', answer.exchange)
          : fail('the problem lacks its status 400 or its title', answer.exchange);
      },
    },
    {
      id: 'availability-answered',
      title: 'GET /open-api/v2/availability with the bearer token answers 200 an availability.published event',
      async run() {
        const params = { from: formatIsoBeijing(now()), to: formatIsoBeijing(now() + DAY_MS) };
        const answer = await call(http, { method: 'GET', path: '/open-api/v2/availability', params, headers: { Authorization: `Bearer ${await tokens.get()}` } });
        if (answer.status !== 200) return fail(`expected HTTP 200, got ${status(answer)}`, answer.exchange);
        const checked = validateEvent(answer.json);
        if (!checked.ok) return fail(`not an event: ${checked.violations.slice(0, 5).map((v) => `${v.path || '/'} ${v.message}`).join('; ')}`, answer.exchange);
        if (checked.value.eventType !== 'availability.published') return fail(`eventType ${checked.value.eventType}, not availability.published`, answer.exchange);
        try {
          await adapter.availability?.fetch(now(), now() + DAY_MS);
        } catch (error) {
          return fail(`the gateway's availability poll could not read it: ${(error as Error).message}`, answer.exchange);
        }
        return pass('availability answered', answer.exchange);
      },
    },
  ];
}
