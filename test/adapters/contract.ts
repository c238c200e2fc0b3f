import axios from 'axios';
import { expect } from 'chai';
import type { InboundHttp, PartnerAdapter, PartnerId } from '../../adapters/types.ts';
import { fixedClock } from '../../kernel/clock.ts';
import { asGatewayError, GatewayError } from '../../kernel/errors.ts';
import { validatorFor, type ValidationResult } from '../../schemas/registry.ts';
import type { BookingDecision, HostMessage } from '../../schemas/types.generated.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';

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
  /** what Zhuzhou as host tells the partner, each with the exact wire body (its time field excepted) */
  hostMessages?: { name: string; message: HostMessage; messageId: string; operation: string; body: Record<string, unknown> }[];
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

function canonicalSchemaOf(kind: string): string {
  if (kind === 'offered' || kind === 'declined') return 'host';
  if (kind === 'guest-result' || kind === 'application-outcome') return 'hostApplication';
  return kind === 'availability' ? 'availability' : 'booking';
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

      for (const host of fixture.hostMessages ?? []) {
        it(`encodes ${host.name} to exactly the partner wire message`, () => {
          expect(validatorFor('canonical/host-message.json')(host.message).ok).to.equal(true);
          const message = adapter.host?.encode(host.message, host.messageId);
          expect(message?.operation).to.equal(host.operation);
          expect(message?.messageId).to.equal(host.messageId);
          const sent = { ...(message?.body ?? {}) };
          delete sent['occurredAt'];
          expect(sent).to.deep.equal(host.body);
        });
      }

      it('encodes a ledger decision to exactly the partner wire message', () => {
        const { decision, messageId, operation, body } = fixture.decision;
        const message = adapter.encodeDecision(decision, messageId);
        expect(message?.operation).to.equal(operation);
        expect(message?.messageId).to.equal(messageId);
        const sent = { ...(message?.body ?? {}) };
        delete sent['occurredAt'];
        expect(sent).to.deep.equal(body);
      });

      it('derives the same message id from the same cause, and another from another', () => {
        expect(adapter.messageIdFor('decision:A')).to.equal(adapter.messageIdFor('decision:A'));
        expect(adapter.messageIdFor('decision:A')).to.not.equal(adapter.messageIdFor('decision:B'));
      });
    });

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
