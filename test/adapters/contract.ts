import axios from 'axios';
import { expect } from 'chai';
import type { HostApplicationMessage } from '../../adapters/host-applications.ts';
import type { InboundHttp, OutboundMessage, PartnerAdapter, PartnerId } from '../../adapters/types.ts';
import { fixedClock } from '../../kernel/clock.ts';
import { asGatewayError, GatewayError } from '../../kernel/errors.ts';
import { validatorFor, type ValidationResult } from '../../schemas/registry.ts';
import type { BookingDecision, HostMessage } from '../../schemas/types.generated.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';

/** A message Zhuzhou sends through a facet, and the exact wire message the adapter must make of it. */
export interface WireExpectation<Message> {
  name: string;
  message: Message;
  messageId: string;
  operation: string;
  /** the exact body, the fields stamped at sending (`sentAtFields`) excepted */
  body: Record<string, unknown>;
}

/** Required of a partner whose adapter has `host` (Zhuzhou asks it for seats). */
export interface HostFacetFixture {
  /** every kind of HostMessage at least once */
  messages: WireExpectation<HostMessage>[];
}

/** Required of a partner whose adapter has `hostApplications` (Zhuzhou applies through it for several guests). */
export interface HostApplicationsFacetFixture {
  /** every kind of HostApplicationMessage at least once */
  messages: WireExpectation<HostApplicationMessage>[];
  /** at least one message breaking the partner's rules, and the JSON Pointers of every violation it must be refused with */
  refused: { name: string; message: HostApplicationMessage; paths: string[] }[];
  /** the partner's answers to delivered messages and the id each names; at least one naming one and one of the wrong kind (undefined) */
  answers: { name: string; operation: string; answer: unknown; applicationId: string | undefined }[];
}

/** What one partner gives the shared suite: messages, how it signs them, and what they mean. */
export interface AdapterFixture {
  partner: PartnerId;
  /** the moment every message of the fixture is signed at */
  now: number;
  clockToleranceSeconds: number;
  adapterAt(clock: { now(): number }): PartnerAdapter;
  /** a valid message: operation and body */
  message(): { operation: string; body: unknown };
  /** the same message with another request of the same id (content differs) */
  conflicting(body: unknown): unknown;
  /** signs as the partner would, at `at` (defaults to `now`) */
  sign(operation: string, body: unknown, options?: { at?: number; wrongKey?: boolean }): InboundHttp;
  /** a body with several violations, and the JSON Pointers each must be reported at */
  invalid(): { operation: string; body: unknown; paths: string[] };
  /** the canonical event the valid message decodes to (a subset is compared) */
  canonical: Record<string, unknown>;
  /** a ledger decision and the exact wire body the adapter must send for it (its time field excepted) */
  decision: { decision: BookingDecision; messageId: string; operation: string; body: Record<string, unknown> };
  /** the partner's other messages, each with (a subset of) the canonical event it decodes to */
  moreMessages?: { name: string; operation: string; body: unknown; canonical: Record<string, unknown> }[];
  /** more bodies breaking the schema, each with the JSON Pointers its violations must be reported at */
  moreInvalid?: { name: string; operation: string; body: unknown; paths: string[] }[];
  /** fields of an outbound body the adapter stamps with the time of sending, left out of the exact comparisons */
  sentAtFields: string[];
  /**
   * What Zhuzhou as host tells the partner; required when the adapter has `host`.
   * The partner's pushes about it (its answers to the request, its releases, and
   * its own lifecycle as host) are among `moreMessages`.
   */
  host?: HostFacetFixture;
  /**
   * What Zhuzhou as host applies for through the partner; required when the
   * adapter has `hostApplications`. The partner's pushes about it (each guest's
   * result, the outcome, the forwarded lifecycle) are among `moreMessages`.
   */
  hostApplications?: HostApplicationsFacetFixture;
  /** answers the gateway gives a partner for acceptance, as partner format */
  acceptedStatus: number;
  trackingNoOf(answer: unknown): string;
}

const canonicalSchemas: Record<string, (input: unknown) => ValidationResult<unknown>> = {
  booking: validatorFor('canonical/booking-request.json'),
  host: validatorFor('canonical/host-event.json'),
  availability: validatorFor('canonical/availability.json'),
  hostApplication: validatorFor('canonical/host-application-event.json'),
};

/** Every kind of message of each facet: a Record, so that a kind added to the port fails to compile here until it is covered. */
const HOST_MESSAGE_KINDS: Record<HostMessage['kind'], true> = { request: true, confirm: true, release: true, status: true };
const HOST_APPLICATION_KINDS: Record<HostApplicationMessage['kind'], true> = { apply: true, change: true, cancel: true, status: true };
/**
 * The canonical events a partner of each facet pushes, which `moreMessages`
 * must decode to. `host`: its offer or decline of Zhuzhou's request, a
 * release, and its own evaluation's lifecycle as host. `hostApplications`:
 * a guest's result, the application's outcome, and the host's lifecycle it
 * forwards to Zhuzhou as guest.
 */
const HOST_PUSH_KINDS = ['offered', 'declined', 'release', 'status'];
const HOST_APPLICATION_PUSH_KINDS = ['guest-result', 'application-outcome', 'status'];

function canonicalSchemaOf(kind: string): string {
  if (kind === 'offered' || kind === 'declined') return 'host';
  if (kind === 'guest-result' || kind === 'application-outcome') return 'hostApplication';
  return kind === 'availability' ? 'availability' : 'booking';
}

/** What a test compares of an outbound message: all of it, the fields stamped at sending aside. */
function comparable(fixture: AdapterFixture, message: OutboundMessage | undefined): { operation?: string; messageId?: string; body: Record<string, unknown> } {
  const body = { ...(message?.body ?? {}) };
  for (const field of fixture.sentAtFields) delete body[field];
  return { ...(message === undefined ? {} : { operation: message.operation, messageId: message.messageId }), body };
}

function expectWire(fixture: AdapterFixture, message: OutboundMessage | undefined, expected: { messageId: string; operation: string; body: Record<string, unknown> }): void {
  expect(message?.partner).to.equal(fixture.partner);
  expect(comparable(fixture, message)).to.deep.equal({ operation: expected.operation, messageId: expected.messageId, body: expected.body });
}

/** The kinds of canonical event the fixture's messages decode to. */
function pushedKinds(fixture: AdapterFixture, adapter: PartnerAdapter): string[] {
  const messages = [fixture.message(), ...(fixture.moreMessages ?? [])];
  return [...new Set(messages.map(({ operation, body }) => adapter.decode(operation, body, { trackingNo: 'T-contract', receivedAt: fixture.now }).kind))];
}

/** Every partner adapter passes this suite; a third partner will too. */
export function describeAdapterContract(fixture: AdapterFixture): void {
  describe(`partner adapter contract: ${fixture.partner}`, () => {
    const clock = fixedClock(fixture.now);
    const adapter = fixture.adapterAt(clock);

    describe('authenticate', () => {
      it('when the message is signed as the partner signs, passes', () => {
        const { operation, body } = fixture.message();
        const http = fixture.sign(operation, body);
        expect(adapter.authenticate(http, JSON.parse(http.rawBody.toString('utf8'))).ok).to.equal(true);
      });

      it('when the body is changed after signing, fails UNAUTHENTICATED', () => {
        const { operation, body } = fixture.message();
        const http = fixture.sign(operation, body);
        const tampered = JSON.parse(http.rawBody.toString('utf8')) as unknown;
        const changed = fixture.conflicting(tampered);
        const result = adapter.authenticate({ ...http, rawBody: Buffer.from(JSON.stringify(changed)) }, changed);
        expect(result.ok).to.equal(false);
        if (!result.ok) expect(result.error.code).to.equal('UNAUTHENTICATED');
      });

      it('when the signature is older than the tolerance, fails; just inside it, passes', () => {
        const { operation, body } = fixture.message();
        const stale = fixture.sign(operation, body, { at: fixture.now - (fixture.clockToleranceSeconds + 1) * 1000 });
        const fresh = fixture.sign(operation, body, { at: fixture.now - (fixture.clockToleranceSeconds - 1) * 1000 });
        const staleResult = adapter.authenticate(stale, JSON.parse(stale.rawBody.toString('utf8')));
        expect(staleResult.ok).to.equal(false);
        expect(adapter.authenticate(fresh, JSON.parse(fresh.rawBody.toString('utf8'))).ok).to.equal(true);
      });

      it('when signed with an unknown key or secret, fails UNAUTHENTICATED', () => {
        const { operation, body } = fixture.message();
        const http = fixture.sign(operation, body, { wrongKey: true });
        const result = adapter.authenticate(http, JSON.parse(http.rawBody.toString('utf8')));
        expect(result.ok).to.equal(false);
        if (!result.ok) expect(result.error.code).to.equal('UNAUTHENTICATED');
      });
    });

    describe('validate', () => {
      it('when the message is valid, passes', () => {
        const { operation, body } = fixture.message();
        expect(adapter.validate(operation, body)).to.deep.equal({ ok: true });
      });

      it('when several fields are wrong, lists every violation by JSON Pointer', () => {
        const { operation, body, paths } = fixture.invalid();
        const result = adapter.validate(operation, body);
        expect(result.ok).to.equal(false);
        if (!result.ok) expect(result.violations.map((violation) => violation.path)).to.include.members(paths);
      });

      for (const invalid of fixture.moreInvalid ?? []) {
        it(`when ${invalid.name}, lists the violation at ${invalid.paths.join(', ')}`, () => {
          const result = adapter.validate(invalid.operation, invalid.body);
          expect(result.ok).to.equal(false);
          if (!result.ok) expect(result.violations.map((violation) => violation.path)).to.include.members(invalid.paths);
        });
      }

      it('when rejected, answers 400 in the partner format listing every violation, with no stack trace', () => {
        const { operation, body, paths } = fixture.invalid();
        const result = adapter.validate(operation, body);
        if (result.ok) expect.fail('the invalid message validated');
        const answer = adapter.rejected(new GatewayError('SCHEMA_INVALID', undefined, { violations: result.violations }));
        expect(answer.status).to.equal(400);
        const text = JSON.stringify(answer.body);
        for (const path of paths) expect(text).to.include(JSON.stringify(path));
        expect(text).to.not.match(/\.ts:\d+/);
      });

      it('when the gateway fails inside, answers 500 in the partner format without the error text', () => {
        const answer = adapter.rejected(asGatewayError(new Error('secret internals at usecases/intake.ts:42')));
        expect(answer.status).to.equal(500);
        expect(JSON.stringify(answer.body)).to.not.include('intake.ts');
      });
    });

    describe('decode and encode', () => {
      it('decodes the valid message to a canonical event that matches its schema', () => {
        const { operation, body } = fixture.message();
        const event = adapter.decode(operation, body, { trackingNo: 'T-contract', receivedAt: fixture.now });
        const checked = canonicalSchemas[canonicalSchemaOf(event.kind)]?.(event);
        expect(checked?.ok, JSON.stringify(checked)).to.equal(true);
        expect(event).to.deep.include(fixture.canonical);
      });

      for (const more of fixture.moreMessages ?? []) {
        it(`decodes ${more.name}, which validates, to a canonical event that matches its schema`, () => {
          expect(adapter.validate(more.operation, more.body)).to.deep.equal({ ok: true });
          const event = adapter.decode(more.operation, more.body, { trackingNo: 'T-contract', receivedAt: fixture.now });
          const checked = canonicalSchemas[canonicalSchemaOf(event.kind)]?.(event);
          expect(checked?.ok, JSON.stringify(checked)).to.equal(true);
          expect(event).to.deep.include(more.canonical);
        });
      }

      it('encodes a ledger decision to exactly the partner wire message', () => {
        const { decision, messageId, operation, body } = fixture.decision;
        expectWire(fixture, adapter.encodeDecision(decision, messageId), { messageId, operation, body });
      });

      it('derives the same message id from the same cause, and another from another', () => {
        expect(adapter.messageIdFor('decision:A')).to.equal(adapter.messageIdFor('decision:A'));
        expect(adapter.messageIdFor('decision:A')).to.not.equal(adapter.messageIdFor('decision:B'));
      });
    });

    if (adapter.host !== undefined || fixture.host !== undefined) {
      describe('host facet: Zhuzhou as host asks the partner for seats', () => {
        it('when the adapter has the facet, the fixture declares every host message kind and pushes decoding to each of offered, declined, release, status', () => {
          expect(adapter.host, 'the fixture declares `host` but the adapter has no host facet').to.not.equal(undefined);
          expect(fixture.host, 'the adapter has a host facet: its fixture must declare `host`').to.not.equal(undefined);
          expect((fixture.host?.messages ?? []).map((host) => host.message.kind)).to.include.members(Object.keys(HOST_MESSAGE_KINDS));
          expect(pushedKinds(fixture, adapter)).to.include.members(HOST_PUSH_KINDS);
        });

        for (const host of fixture.host?.messages ?? []) {
          it(`encodes ${host.name}, a valid host message, to exactly the partner wire message`, () => {
            const checked = validatorFor('canonical/host-message.json')(host.message);
            expect(checked.ok, JSON.stringify(checked)).to.equal(true);
            expectWire(fixture, adapter.host?.encode(host.message, host.messageId), host);
          });
        }
      });
    }

    if (adapter.hostApplications !== undefined || fixture.hostApplications !== undefined) {
      describe('host applications facet: Zhuzhou as host applies through the partner for several guests', () => {
        const facet = fixture.hostApplications;

        it('when the adapter has the facet, the fixture declares every message kind, a refusal, answers naming an id and not, and pushes decoding to each of guest-result, application-outcome, status', () => {
          expect(adapter.hostApplications, 'the fixture declares `hostApplications` but the adapter has no such facet').to.not.equal(undefined);
          expect(facet, 'the adapter has a hostApplications facet: its fixture must declare `hostApplications`').to.not.equal(undefined);
          expect((facet?.messages ?? []).map((host) => host.message.kind)).to.include.members(Object.keys(HOST_APPLICATION_KINDS));
          expect(facet?.refused ?? []).to.have.length.greaterThan(0);
          expect((facet?.answers ?? []).some((answer) => answer.applicationId !== undefined), 'an answer naming the id').to.equal(true);
          expect((facet?.answers ?? []).some((answer) => answer.applicationId === undefined), 'an answer of the wrong kind').to.equal(true);
          expect(pushedKinds(fixture, adapter)).to.include.members(HOST_APPLICATION_PUSH_KINDS);
        });

        for (const host of facet?.messages ?? []) {
          it(`encodes ${host.name} to exactly the partner wire message`, () => {
            const result = adapter.hostApplications?.encode(host.message, host.messageId);
            if (!result?.ok) expect.fail(`refused: ${JSON.stringify(result?.error.violations)}`);
            expectWire(fixture, result.value, host);
          });
        }

        for (const refused of facet?.refused ?? []) {
          it(`when ${refused.name}, refuses it unsent with SEMANTIC_INVALID listing every violation, at ${refused.paths.join(', ')}`, () => {
            const result = adapter.hostApplications?.encode(refused.message, 'f'.repeat(32));
            if (result === undefined || result.ok) return expect.fail('the message was encoded');
            expect(result.error.code).to.equal('SEMANTIC_INVALID');
            expect([...new Set(result.error.violations.map((violation) => violation.path))]).to.have.members(refused.paths);
            const answer = adapter.rejected(result.error);
            for (const path of refused.paths) expect(JSON.stringify(answer.body)).to.include(JSON.stringify(path));
          });
        }

        for (const answer of facet?.answers ?? []) {
          it(`when ${answer.name}, the application id is ${answer.applicationId ?? 'undefined'}`, () => {
            expect(adapter.hostApplications?.applicationIdOf(answer.operation, answer.answer)).to.equal(answer.applicationId);
          });
        }
      });
    }

    describe('duplicates, through the gateway on real Redis', () => {
      let gateway: TestGateway;
      before(async () => {
        gateway = await startTestGateway({ workers: false, clock });
      });
      after(async () => {
        await gateway.close();
      });

      async function post(http: InboundHttp) {
        return axios.post(`${gateway.url}/partners/${fixture.partner}/${http.operation}`, http.rawBody, {
          headers: { ...(http.headers as Record<string, string>), 'Content-Type': 'application/json; charset=utf-8' },
          validateStatus: () => true,
          transformRequest: [(data: unknown) => data],
        });
      }

      it('when the same message comes twice, answers the first answer again and queues it once', async () => {
        const { operation, body } = fixture.message();
        const http = fixture.sign(operation, body);
        const first = await post(http);
        const second = await post(http);
        expect(first.status).to.equal(fixture.acceptedStatus);
        expect(second.status).to.equal(fixture.acceptedStatus);
        expect(fixture.trackingNoOf(second.data)).to.equal(fixture.trackingNoOf(first.data));
        expect(await gateway.runtime.inboundQueue.getJobCounts('waiting', 'delayed', 'active')).to.deep.equal({ waiting: 1, delayed: 0, active: 0 });
      });

      it('when a known request id comes with other content, answers 409', async () => {
        const { operation, body } = fixture.message();
        expect((await post(fixture.sign(operation, body))).status).to.equal(fixture.acceptedStatus);
        const conflicting = fixture.conflicting(body);
        const answer = await post(fixture.sign(operation, conflicting));
        expect(answer.status).to.equal(409);
      });
    });
  });
}
