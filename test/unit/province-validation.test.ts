import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { createProvinceAdapter } from '../../adapters/province/index.ts';
import { buildEnvelope, dataDigest, type ProvinceInterface } from '../../adapters/province/signature.ts';
import type { HmacMethod } from '../../kernel/crypto/digest.ts';
import type { InboundHttp, PartnerAdapter } from '../../adapters/types.ts';
import { loadConfig } from '../../config/index.ts';
import { formatCompactBeijing, parseCompactBeijing } from '../../kernel/beijing-time.ts';
import { fixedClock } from '../../kernel/clock.ts';
import { GatewayError } from '../../kernel/errors.ts';

// copies of ../shared/partners/examples, so the suite runs wherever the clone is
const EXAMPLES = new URL('../fixtures/partners', import.meta.url).pathname;
const INBOUND_SECRET = 'province-inbound-secret-0001';

type Data = Record<string, unknown>;
interface Envelope {
  validation: Record<string, unknown>;
  data: Data;
}

function example(name: string): Envelope {
  return JSON.parse(readFileSync(`${EXAMPLES}/province-${name}.json`, 'utf8')) as Envelope;
}

const config = loadConfig({
  env: {
    REDIS_URL: 'redis://127.0.0.1:6390',
    PROVINCE_BASE_URL: 'http://127.0.0.1:9100',
    PROVINCE_INBOUND_SECRET: INBOUND_SECRET,
    PROVINCE_OUTBOUND_SECRET: 'province-outbound-secret-0001',
    DATA_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64'),
    CHANGSHA_BASE_URL: 'http://127.0.0.1:9200',
    CHANGSHA_CLIENT_ID: 'zhuzhou-gateway',
    CHANGSHA_CLIENT_SECRET: 'changsha-client-secret-0001',
    CHANGSHA_INBOUND_KEY_ID: 'changsha-key-1',
    CHANGSHA_INBOUND_SECRET: 'changsha-inbound-secret-0001',
    CHANGSHA_OUTBOUND_KEY_ID: 'zhuzhou-key-1',
    CHANGSHA_OUTBOUND_SECRET: 'changsha-outbound-secret-0001',
    OPS_SESSION_SECRET: 'ops-session-secret-0123456789abcdef',
  },
});

/** The moment the apply example was signed: before every example window. */
const NOW = parseCompactBeijing('20261125090005');

function adapterAt(now = NOW): { adapter: PartnerAdapter; clock: ReturnType<typeof fixedClock> } {
  const clock = fixedClock(now);
  return { adapter: createProvinceAdapter({ config, clock }), clock };
}

/** An example, signed the way the province signs it at `now` (the examples carry placeholder TOKENs). */
function signed(
  operation: ProvinceInterface,
  data: Data,
  options: { now?: number; secret?: string; systemNo?: string; method?: HmacMethod } = {},
): Envelope {
  return buildEnvelope(
    {
      secret: options.secret ?? INBOUND_SECRET,
      method: options.method ?? 'HMAC-SM3',
      systemNo: options.systemNo ?? 'HNSDD',
      dataUuid: '5b0e7c1d2a3f4e5d6c7b8a9f0e1d2c3b',
      time: formatCompactBeijing(options.now ?? NOW),
      interfaceCode: operation,
    },
    data,
  );
}

function http(operation: string, body: unknown, receivedAt = NOW): InboundHttp {
  return { operation, rawBody: Buffer.from(JSON.stringify(body)), headers: { 'content-type': 'application/json; charset=utf-8' }, receivedAt };
}

function applyData(changes: Data = {}): Data {
  return { ...example('apply').data, ...changes };
}

function violationsOf(result: { ok: true } | { ok: false; violations: { path: string; message: string }[] }) {
  expect(result.ok, 'validation result').to.equal(false);
  return result.ok ? [] : result.violations;
}

describe('province adapter', () => {
  describe('validate: the schema of each interface (400)', () => {
    const { adapter } = adapterAt();

    for (const name of ['apply', 'change', 'cancel'] as const) {
      it(`when the ${name} example is signed, it validates`, () => {
        const body = signed(name, example(name).data);
        expect(adapter.validate(name, body)).to.deep.equal({ ok: true });
      });
    }

    it('when the cancel example is taken as it is (with its real TOKEN), it validates', () => {
      expect(adapter.validate('cancel', example('cancel'))).to.deep.equal({ ok: true });
    });

    it('when a query names a series number, it validates', () => {
      expect(adapter.validate('query', signed('query', { SERIES_NUMBER: 'SQ20261125090000000117' }))).to.deep.equal({ ok: true });
    });

    it('when a TOKEN is not 64 lowercase hex (the examples\' placeholder), it is reported at /validation/TOKEN', () => {
      const violations = violationsOf(adapter.validate('apply', example('apply')));
      expect(violations.map((v) => v.path)).to.deep.equal(['/validation/TOKEN']);
    });

    it('when a body has a bad BID_EVAL_START_TIME, SEAT_COUNT 16 and an extra COLOR, all three are listed exactly as in province-response-400.json', () => {
      const expected = (JSON.parse(readFileSync(`${EXAMPLES}/province-response-400.json`, 'utf8')) as { Data: { errors: unknown[] } }).Data.errors;
      const body = signed('apply', applyData({ BID_EVAL_START_TIME: '2026-12-03 09:00:00', SEAT_COUNT: 16, COLOR: 'red' }));
      const violations = violationsOf(adapter.validate('apply', body));
      expect(violations).to.have.deep.members(expected);
      expect(violations).to.have.length(3);
    });

    it('when the province answer for that body is built, it is province-response-400.json', () => {
      const expected = JSON.parse(readFileSync(`${EXAMPLES}/province-response-400.json`, 'utf8')) as { Data: { errors: unknown[] } };
      const body = signed('apply', applyData({ BID_EVAL_START_TIME: '2026-12-03 09:00:00', SEAT_COUNT: 16, COLOR: 'red' }));
      const violations = violationsOf(adapter.validate('apply', body));
      const answer = adapter.rejected(new GatewayError('SCHEMA_INVALID', undefined, { violations }));
      expect(answer.status).to.equal(400);
      const answerBody = answer.body as { Data: { errors: unknown[] } };
      expect({ ...answerBody, Data: {} }).to.deep.equal({ ...expected, Data: {} });
      expect(answerBody.Data.errors).to.have.deep.members(expected.Data.errors);
    });

    it('when the time has a valid shape but an impossible hour (25), it is reported at its pointer', () => {
      const violations = violationsOf(adapter.validate('apply', signed('apply', applyData({ BID_EVAL_START_TIME: '20261203250000' }))));
      expect(violations).to.deep.equal([{ path: '/data/BID_EVAL_START_TIME', message: 'must match format yyyyMMddHHmmss' }]);
    });

    it('when a required field is missing, it is reported at its own pointer', () => {
      const data = applyData();
      delete data['TENDER_AGENT_PHONE'];
      const violations = violationsOf(adapter.validate('apply', signed('apply', data)));
      expect(violations).to.deep.equal([{ path: '/data/TENDER_AGENT_PHONE', message: 'is required' }]);
    });

    it('when a change has no ORIGINAL_SERIES_NUMBER, it is reported at /data/ORIGINAL_SERIES_NUMBER', () => {
      const data = { ...example('change').data };
      delete data['ORIGINAL_SERIES_NUMBER'];
      const violations = violationsOf(adapter.validate('change', signed('change', data)));
      expect(violations.map((v) => v.path)).to.deep.equal(['/data/ORIGINAL_SERIES_NUMBER']);
    });

    it('when a change has an empty REMARK, it is reported at /data/REMARK', () => {
      const violations = violationsOf(adapter.validate('change', signed('change', { ...example('change').data, REMARK: '' })));
      expect(violations.map((v) => v.path)).to.deep.equal(['/data/REMARK']);
    });

    it('when a cancel carries an apply field, the field is reported as unknown', () => {
      const violations = violationsOf(adapter.validate('cancel', signed('cancel', { ...example('cancel').data, SEAT_COUNT: 3 })));
      expect(violations).to.deep.equal([{ path: '/data', message: 'must NOT have additional properties: SEAT_COUNT' }]);
    });

    it('when an apply carries a BG series number, it is reported at /data/SERIES_NUMBER', () => {
      const violations = violationsOf(adapter.validate('apply', signed('apply', applyData({ SERIES_NUMBER: 'BG20261125090000000117' }))));
      expect(violations.map((v) => v.path)).to.deep.equal(['/data/SERIES_NUMBER']);
    });

    it('when SEAT_COUNT is the string "3", a type violation is reported at /data/SEAT_COUNT', () => {
      const violations = violationsOf(adapter.validate('apply', signed('apply', applyData({ SEAT_COUNT: '3' }))));
      expect(violations.map((v) => v.path)).to.deep.equal(['/data/SEAT_COUNT']);
    });

    it('when a ZFCG request carries TENDER_PROJECT_TYPE, it is a violation at /data/TENDER_PROJECT_TYPE', () => {
      const violations = violationsOf(adapter.validate('apply', signed('apply', applyData({ TRADE_TYPE: 'ZFCG' }))));
      expect(violations.map((v) => v.path)).to.deep.equal(['/data/TENDER_PROJECT_TYPE']);
    });

    it('when a ZFCG request has no TENDER_PROJECT_TYPE, it validates', () => {
      const data = applyData({ TRADE_TYPE: 'ZFCG' });
      delete data['TENDER_PROJECT_TYPE'];
      expect(adapter.validate('apply', signed('apply', data))).to.deep.equal({ ok: true });
    });

    it('when a GCJS request has no TENDER_PROJECT_TYPE, it is a violation at /data/TENDER_PROJECT_TYPE', () => {
      const data = applyData({ TRADE_TYPE: 'GCJS' });
      delete data['TENDER_PROJECT_TYPE'];
      const violations = violationsOf(adapter.validate('apply', signed('apply', data)));
      expect(violations).to.deep.equal([{ path: '/data/TENDER_PROJECT_TYPE', message: 'is required' }]);
    });

    it('when a GCJS request has a TENDER_PROJECT_TYPE outside the national list (A15), it is a violation at /data/TENDER_PROJECT_TYPE', () => {
      const violations = violationsOf(adapter.validate('apply', signed('apply', applyData({ TENDER_PROJECT_TYPE: 'A15' }))));
      expect(violations.map((v) => v.path)).to.deep.equal(['/data/TENDER_PROJECT_TYPE']);
    });

    it('when `validation` holds an unknown field, it is reported at /validation', () => {
      const body = signed('apply', applyData());
      body.validation['EXTRA'] = 'x';
      const violations = violationsOf(adapter.validate('apply', body));
      expect(violations).to.deep.equal([{ path: '/validation', message: 'must NOT have additional properties: EXTRA' }]);
    });

    it('when the envelope has an unknown top-level field, it is reported at the root pointer', () => {
      const body = { ...signed('apply', applyData()), extra: 1 };
      const violations = violationsOf(adapter.validate('apply', body));
      expect(violations).to.deep.equal([{ path: '', message: 'must NOT have additional properties: extra' }]);
    });

    it('when SIGN_METHOD is absent, the envelope still validates (HMAC-SM3 is the default)', () => {
      const body = signed('apply', applyData());
      delete body.validation['SIGN_METHOD'];
      expect(adapter.validate('apply', body)).to.deep.equal({ ok: true });
    });

    it('when SIGN_METHOD is HMAC-MD5, it is reported at /validation/SIGN_METHOD', () => {
      const body = signed('apply', applyData());
      body.validation['SIGN_METHOD'] = 'HMAC-MD5';
      expect(violationsOf(adapter.validate('apply', body)).map((v) => v.path)).to.deep.equal(['/validation/SIGN_METHOD']);
    });

    it('when the interface is unknown, validation fails', () => {
      expect(adapter.validate('notify', signed('notify', applyData())).ok).to.equal(false);
    });
  });

  describe('inspect: the semantic rules (422)', () => {
    function semanticViolations(data: Data, now = NOW, operation: 'apply' | 'change' = 'apply') {
      const { adapter } = adapterAt(now);
      const body = signed(operation, data, { now });
      const outcome = adapter.inspect(http(operation, body, now), body);
      expect(outcome.ok, 'inspect outcome').to.equal(false);
      if (outcome.ok) return [];
      expect(outcome.error).to.be.instanceOf(GatewayError);
      expect(outcome.error.code).to.equal('SEMANTIC_INVALID');
      expect(outcome.error.status).to.equal(422);
      return outcome.error.violations;
    }

    it('when the apply example is inspected, it passes with its series number, content digest and search ids', () => {
      const { adapter } = adapterAt();
      const body = signed('apply', applyData());
      const outcome = adapter.inspect(http('apply', body), body);
      expect(outcome.ok).to.equal(true);
      if (!outcome.ok) return;
      expect(outcome.value).to.deep.equal({
        operation: 'apply',
        messageKey: '5b0e7c1d2a3f4e5d6c7b8a9f0e1d2c3b',
        request: { id: 'SQ20261125090000000117', contentDigest: dataDigest(body.data) },
        searchIds: { dataUuid: '5b0e7c1d2a3f4e5d6c7b8a9f0e1d2c3b', series: 'SQ20261125090000000117', section: 'M4301000260018837001002' },
      });
    });

    it('when the change example is inspected, it passes and names the request it replaces', () => {
      const { adapter } = adapterAt();
      const body = signed('change', example('change').data);
      const outcome = adapter.inspect(http('change', body), body);
      expect(outcome.ok).to.equal(true);
      if (outcome.ok) expect(outcome.value.replaces).to.equal('SQ20261125090000000117');
    });

    it('when the cancel example is inspected, it passes and names the request it replaces', () => {
      const { adapter } = adapterAt();
      const body = example('cancel');
      const outcome = adapter.inspect(http('cancel', body), body);
      expect(outcome.ok).to.equal(true);
      if (!outcome.ok) return;
      expect(outcome.value.request).to.deep.equal({ id: 'QX20261126101500000123', contentDigest: '9411abd8115b999ac61c889e4d66ce43071db39ddfb1417155fccb6450515b41' });
      expect(outcome.value.replaces).to.equal('SQ20261125090000000117');
    });

    it('when a query is inspected, it refers to the series number it names', () => {
      const { adapter } = adapterAt();
      const body = signed('query', { SERIES_NUMBER: 'SQ20261125090000000117' });
      const outcome = adapter.inspect(http('query', body), body);
      expect(outcome.ok).to.equal(true);
      if (outcome.ok) expect(outcome.value.refersTo).to.equal('SQ20261125090000000117');
    });

    it('when the end is before the start, the only violation is at /data/BID_EVAL_END_TIME', () => {
      const violations = semanticViolations(applyData({ BID_EVAL_START_TIME: '20261203173000', BID_EVAL_END_TIME: '20261203090000' }));
      expect(violations).to.deep.equal([{ path: '/data/BID_EVAL_END_TIME', message: 'must be after BID_EVAL_START_TIME' }]);
    });

    it('when the end equals the start, it is a violation at /data/BID_EVAL_END_TIME', () => {
      const violations = semanticViolations(applyData({ BID_EVAL_START_TIME: '20261203090000', BID_EVAL_END_TIME: '20261203090000' }));
      expect(violations.map((v) => v.path)).to.deep.equal(['/data/BID_EVAL_END_TIME']);
    });

    it('when start and end are on different days, the only violation is the same-day rule', () => {
      const violations = semanticViolations(applyData({ BID_EVAL_START_TIME: '20261203090000', BID_EVAL_END_TIME: '20261204100000' }));
      expect(violations).to.deep.equal([{ path: '/data/BID_EVAL_END_TIME', message: 'must be on the same calendar day as BID_EVAL_START_TIME' }]);
    });

    it('when the window ends after midnight Beijing time (but on the same UTC day), it is a different-day violation', () => {
      // 20261203 23:00 to 20261204 00:30 Beijing are both on 2026-12-03 in UTC
      const violations = semanticViolations(applyData({ BID_EVAL_START_TIME: '20261203230000', BID_EVAL_END_TIME: '20261204003000' }));
      expect(violations.map((v) => v.message)).to.deep.equal(['must be on the same calendar day as BID_EVAL_START_TIME']);
    });

    it('when the window has already ended by the fixed clock, the only violation is "already past"', () => {
      const violations = semanticViolations(applyData(), parseCompactBeijing('20261203180000'));
      expect(violations).to.deep.equal([{ path: '/data/BID_EVAL_END_TIME', message: 'is already past' }]);
    });

    it('when the window ends exactly now, it is already past', () => {
      const violations = semanticViolations(applyData(), parseCompactBeijing('20261203173000'));
      expect(violations.map((v) => v.message)).to.deep.equal(['is already past']);
    });

    it('when the window has started but not ended, it passes', () => {
      const now = parseCompactBeijing('20261203120000');
      const { adapter } = adapterAt(now);
      const body = signed('apply', applyData(), { now });
      expect(adapter.inspect(http('apply', body, now), body).ok).to.equal(true);
    });

    it('when SUB_AREA_CODE is another Hunan center (430300), the only violation is that it must be 430200', () => {
      const violations = semanticViolations(applyData({ SUB_AREA_CODE: '430300' }));
      expect(violations).to.deep.equal([{ path: '/data/SUB_AREA_CODE', message: 'must be 430200' }]);
    });

    it('when SUB_AREA_CODE equals AREA_CODE, the only violation is that they must differ', () => {
      const violations = semanticViolations(applyData({ AREA_CODE: '430200', SUB_AREA_CODE: '430200' }));
      expect(violations).to.deep.equal([{ path: '/data/SUB_AREA_CODE', message: 'must differ from AREA_CODE' }]);
    });

    it('when AREA_CODE is not in the list of domain.md (439900), the only violation is at /data/AREA_CODE', () => {
      const violations = semanticViolations(applyData({ AREA_CODE: '439900' }));
      expect(violations).to.deep.equal([{ path: '/data/AREA_CODE', message: 'is not an area code of domain.md' }]);
    });

    it('when AREA_CODE is a code outside Hunan (110000), it is a violation at /data/AREA_CODE', () => {
      const violations = semanticViolations(applyData({ AREA_CODE: '110000' }));
      expect(violations.map((v) => v.path)).to.deep.equal(['/data/AREA_CODE']);
    });

    it('when the bid section code does not start with the tender project code, the only violation is at /data/BID_SECTION_CODE', () => {
      const violations = semanticViolations(applyData({ BID_SECTION_CODE: 'M4301000260018837002002' }));
      expect(violations).to.deep.equal([{ path: '/data/BID_SECTION_CODE', message: 'must start with TENDER_PROJECT_CODE' }]);
    });

    it('when a change breaks a rule, it is rejected like an apply', () => {
      const violations = semanticViolations({ ...example('change').data, SUB_AREA_CODE: '430300' }, NOW, 'change');
      expect(violations.map((v) => v.path)).to.deep.equal(['/data/SUB_AREA_CODE']);
    });

    it('when several rules are broken, every violation is listed', () => {
      const violations = semanticViolations(
        applyData({ BID_EVAL_START_TIME: '20261203173000', BID_EVAL_END_TIME: '20261203090000', AREA_CODE: '439900', BID_SECTION_CODE: 'X4301000260018837001002' }),
      );
      expect(violations.map((v) => v.path)).to.have.members(['/data/BID_EVAL_END_TIME', '/data/AREA_CODE', '/data/BID_SECTION_CODE']);
    });

    it('when the 422 answer is built, it carries State 422, 业务校验失败 and the violations', () => {
      const { adapter } = adapterAt();
      const violations = [{ path: '/data/SUB_AREA_CODE', message: 'must be 430200' }];
      const answer = adapter.rejected(new GatewayError('SEMANTIC_INVALID', undefined, { violations }));
      expect(answer.status).to.equal(422);
      expect(answer.body).to.deep.equal({ State: '422', Success: false, Msg: '业务校验失败', Data: { errors: violations } });
    });
  });

  describe('authenticate: sender, time and signature (401)', () => {
    /** Authenticates `body` as posted to `operation` with the adapter's clock at `now`. */
    function authenticate(body: Envelope, operation = 'apply', now = NOW) {
      const { adapter } = adapterAt(now);
      return adapter.authenticate(http(operation, body, now), body);
    }

    function expectUnauthenticated(outcome: ReturnType<typeof authenticate>): void {
      expect(outcome.ok, 'authenticated').to.equal(false);
      if (outcome.ok) return;
      expect(outcome.error).to.be.instanceOf(GatewayError);
      expect(outcome.error.code).to.equal('UNAUTHENTICATED');
      expect(outcome.error.status).to.equal(401);
    }

    it('when HNSDD signs with the configured inbound secret at the clock\'s time, authentication passes', () => {
      expect(authenticate(signed('apply', applyData()))).to.deep.equal({ ok: true, value: undefined });
    });

    it('when the cancel is signed at the clock\'s time, authentication passes', () => {
      expect(authenticate(signed('cancel', example('cancel').data), 'cancel')).to.deep.equal({ ok: true, value: undefined });
    });

    it('when the data is changed after signing, authentication fails', () => {
      const body = signed('apply', applyData());
      body.data['SEAT_COUNT'] = 4;
      expectUnauthenticated(authenticate(body));
    });

    it('when the TOKEN is one hex digit off, authentication fails', () => {
      const body = signed('apply', applyData());
      const token = body.validation['TOKEN'] as string;
      body.validation['TOKEN'] = (token[0] === 'a' ? 'b' : 'a') + token.slice(1);
      expectUnauthenticated(authenticate(body));
    });

    it('when the DATAUUID is changed after signing, authentication fails', () => {
      const body = signed('apply', applyData());
      body.validation['DATAUUID'] = '00000000000000000000000000000000';
      expectUnauthenticated(authenticate(body));
    });

    it('when signed with another secret, authentication fails', () => {
      expectUnauthenticated(authenticate(signed('apply', applyData(), { secret: 'some-other-secret-0001' })));
    });

    it('when signed with the outbound secret (ours, not the province\'s), authentication fails', () => {
      expectUnauthenticated(authenticate(signed('apply', applyData(), { secret: 'province-outbound-secret-0001' })));
    });

    it('when SYSTEM_NO is unknown (correctly signed as ZZ430200), authentication fails', () => {
      expectUnauthenticated(authenticate(signed('apply', applyData(), { systemNo: 'ZZ430200' })));
    });

    it('when the message was signed for another interface than the one it is posted to, authentication fails', () => {
      expectUnauthenticated(authenticate(signed('change', applyData()), 'apply'));
    });

    it('when TIME is 301 s behind the clock, authentication fails', () => {
      expectUnauthenticated(authenticate(signed('apply', applyData(), { now: NOW - 301_000 })));
    });

    it('when TIME is 301 s ahead of the clock, authentication fails', () => {
      expectUnauthenticated(authenticate(signed('apply', applyData(), { now: NOW + 301_000 })));
    });

    it('when TIME is 299 s behind the clock, authentication passes', () => {
      expect(authenticate(signed('apply', applyData(), { now: NOW - 299_000 })).ok).to.equal(true);
    });

    it('when TIME is 299 s ahead of the clock, authentication passes', () => {
      expect(authenticate(signed('apply', applyData(), { now: NOW + 299_000 })).ok).to.equal(true);
    });

    it('when TIME is exactly 300 s away, authentication passes (only more than 300 s is rejected)', () => {
      expect(authenticate(signed('apply', applyData(), { now: NOW - 300_000 })).ok).to.equal(true);
    });

    it('when TIME was shifted after signing to match the clock, authentication fails', () => {
      const body = signed('apply', applyData(), { now: NOW - 3600_000 });
      body.validation['TIME'] = formatCompactBeijing(NOW);
      expectUnauthenticated(authenticate(body));
    });

    it('when SIGN_METHOD is HMAC-SHA256 and the TOKEN is an HMAC-SHA256, authentication passes', () => {
      const body = signed('apply', applyData(), { method: 'HMAC-SHA256' });
      expect(body.validation['SIGN_METHOD']).to.equal('HMAC-SHA256');
      expect(authenticate(body)).to.deep.equal({ ok: true, value: undefined });
    });

    it('when SIGN_METHOD says HMAC-SHA256 but the TOKEN is an HMAC-SM3, authentication fails', () => {
      const body = signed('apply', applyData(), { method: 'HMAC-SM3' });
      body.validation['SIGN_METHOD'] = 'HMAC-SHA256';
      expectUnauthenticated(authenticate(body));
    });

    it('when SIGN_METHOD is absent and the TOKEN is an HMAC-SM3, authentication passes (HMAC-SM3 is the default)', () => {
      const body = signed('apply', applyData());
      delete body.validation['SIGN_METHOD'];
      expect(authenticate(body).ok).to.equal(true);
    });

    it('when the clock moves on by 301 s after a message was signed, the same message no longer authenticates', () => {
      const { adapter, clock } = adapterAt();
      const body = signed('apply', applyData());
      expect(adapter.authenticate(http('apply', body), body).ok).to.equal(true);
      clock.advance(301_000);
      const outcome = adapter.authenticate(http('apply', body), body);
      expect(outcome.ok).to.equal(false);
    });
  });
});
