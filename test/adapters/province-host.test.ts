import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import type { HostPlan } from '../../adapters/host-applications.ts';
import { EXAMPLE_HOST_PLAN } from '../fixtures/host-plan.ts';
import { checkHostAnswer, applicationIdOf } from '../../adapters/province/host.ts';
import { hostPlanViolations, seatCheckViolations } from '../../adapters/province/host-rules.ts';
import { createProvinceAdapter } from '../../adapters/province/index.ts';
import { buildEnvelope, type Envelope } from '../../adapters/province/signature.ts';
import type { InboundHttp, OutboundMessage, PartnerAdapter } from '../../adapters/types.ts';
import { loadConfig } from '../../config/index.ts';
import { parseCompactBeijing } from '../../kernel/beijing-time.ts';
import { fixedClock } from '../../kernel/clock.ts';
import { validatorFor } from '../../schemas/registry.ts';
import type { ProvinceHostApplyData } from '../../schemas/types.generated.ts';
import { INBOUND_SECRET, testEnv } from '../helpers/gateway.ts';
import { ProvinceSimulator } from '../simulators/province.ts';

// copies of ../shared/partners/examples, so the suite runs wherever the clone is
const EXAMPLES = new URL('../fixtures/partners', import.meta.url).pathname;
const readExample = (name: string) => JSON.parse(readFileSync(`${EXAMPLES}/${name}`, 'utf8')) as Envelope<Record<string, unknown>>;
const HOST_APPLY = readExample('province-host-apply.json');
const EVAL_STATUS = readExample('province-eval-status.json');

/** province-vectors.txt, "host-apply sent by Zhuzhou" */
const VECTOR = {
  secret: 'zhuzhou-test-secret-0001',
  dataUuid: '7d3f0a9c2b4e4f1a8c6d5e0b1a2f3c4d',
  time: '20261201100000',
  sm3Token: '096c6a5ac1ff95721cfa0acc7ef639c87f2066f4206f057b6fbdd39703cc5483',
  sha256Token: '8d301aabc063b0c4f60256004ebb71a25e657efbfdc3696d8c8fd3e8c33a90fb',
};
const NOW = parseCompactBeijing(VECTOR.time);

const PLAN = EXAMPLE_HOST_PLAN;

function adapterAt(now: number, env: Record<string, string> = {}, baseUrl = 'http://127.0.0.1:9'): PartnerAdapter {
  const config = loadConfig({ env: { ...testEnv('contract', baseUrl, 'redis://127.0.0.1:9'), PROVINCE_OUTBOUND_SECRET: VECTOR.secret, ...env } });
  return createProvinceAdapter({ config, clock: fixedClock(now) });
}

function port(adapter: PartnerAdapter) {
  if (!adapter.hostApplications) throw new Error('the province adapter has no host applications facet');
  return adapter.hostApplications;
}

function encoded(adapter: PartnerAdapter, ...args: Parameters<NonNullable<PartnerAdapter['hostApplications']>['encode']>): OutboundMessage {
  const result = port(adapter).encode(...args);
  if (!result.ok) expect.fail(`refused: ${JSON.stringify(result.error.violations)}`);
  return result.value;
}

function refusal(result: { ok: true } | { ok: false; error: { code: string; violations: readonly { path: string; message: string }[] } }) {
  if (result.ok) return expect.fail('the message was not refused');
  return { code: result.error.code, violations: result.error.violations };
}

describe('province host interfaces, Zhuzhou as host (province.md v2.2)', () => {
  describe('outbound bodies, field by field', () => {
    const adapter = adapterAt(NOW);

    it('host-apply of the example plan is exactly examples/province-host-apply.json data, and valid to the schema', () => {
      const message = encoded(adapter, { kind: 'apply', plan: PLAN }, VECTOR.dataUuid);
      expect(message).to.deep.include({ partner: 'province', operation: 'host-apply', messageId: VECTOR.dataUuid });
      expect(message.body).to.deep.equal(HOST_APPLY.data);
      expect(validatorFor('partners/province/host-apply.json')({ ...HOST_APPLY, data: message.body }).ok).to.equal(true);
    });

    it('host-apply for ZFCG carries no TENDER_PROJECT_TYPE, and the remark given', () => {
      const plan: HostPlan = { ...PLAN, sector: 'ZFCG', remark: '视频会议系统评标' };
      delete plan.projectType;
      const message = encoded(adapter, { kind: 'apply', plan }, VECTOR.dataUuid);
      expect(message.body).to.not.have.property('TENDER_PROJECT_TYPE');
      expect(message.body).to.include({ TRADE_TYPE: 'ZFCG', REMARK: '视频会议系统评标' });
    });

    it('host-change is the complete new plan, the application it replaces and the reason', () => {
      const message = encoded(adapter, { kind: 'change', plan: { ...PLAN, guests: [{ center: '430300', seats: 3 }] }, replaces: 'SQ20261201100001000245', reason: '湘潭副场专家增至3人，衡阳副场取消' }, 'a'.repeat(32));
      expect(message.operation).to.equal('host-change');
      expect(message.body).to.deep.equal({
        ...HOST_APPLY.data,
        ORIGINAL_SERIES_NUMBER: 'SQ20261201100001000245',
        SUB_DETAIL: [{ SUB_AREA_CODE: '430300', SEAT_COUNT: 3 }],
        REMARK: '湘潭副场专家增至3人，衡阳副场取消',
      });
    });

    it('host-cancel is the application and the reason, no other field', () => {
      const message = encoded(adapter, { kind: 'cancel', replaces: 'BG20261202100001000247', reason: '招标人申请终止' }, 'b'.repeat(32));
      expect(message.operation).to.equal('host-cancel');
      expect(message.body).to.deep.equal({ ORIGINAL_SERIES_NUMBER: 'BG20261202100001000247', REMARK: '招标人申请终止' });
    });

    it('eval-status of a pause is exactly examples/province-eval-status.json data', () => {
      const message = encoded(adapter, { kind: 'status', applicationId: 'SQ20261130143002000198', status: 'paused', at: '2026-12-09T10:40:00+08:00', reason: '专家申请回避，暂停评标，等待补抽专家' }, EVAL_STATUS.validation.DATAUUID);
      expect(message.operation).to.equal('eval-status');
      expect(message.body).to.deep.equal(EVAL_STATUS.data);
    });

    it('eval-status sends started and resumed as "1", ended as "2", archived as "3"', () => {
      const statusOf = (status: 'started' | 'resumed' | 'ended' | 'archived') =>
        encoded(adapter, { kind: 'status', applicationId: 'SQ20261130143002000198', status, at: '2026-12-09T10:40:00+08:00' }, 'c'.repeat(32)).body['EVAL_STATUS'];
      expect(['started', 'resumed', 'ended', 'archived'].map((status) => statusOf(status as 'started'))).to.deep.equal(['1', '1', '2', '3']);
    });

    it('when a pause has no reason, eval-status is refused before sending, at /data/REMARK', () => {
      const result = port(adapter).encode({ kind: 'status', applicationId: 'SQ20261130143002000198', status: 'paused', at: '2026-12-09T10:40:00+08:00' }, 'c'.repeat(32));
      const { code, violations } = refusal(result);
      expect(code).to.equal('SCHEMA_INVALID');
      expect(violations.map((violation) => violation.path)).to.include('/data/REMARK');
    });

    it('when a plan breaks the schema (17 seats, 6 guests, a bad phone), it is refused before sending with every violation', () => {
      const guests = ['430100', '430300', '430400', '430500', '430600', '430700'].map((center) => ({ center, seats: 1 }));
      const { code, violations } = refusal(port(adapter).encode({ kind: 'apply', plan: { ...PLAN, hostSeats: 17, guests, contact: { name: '王芳', phone: 'call me' } } }, 'd'.repeat(32)));
      expect(code).to.equal('SCHEMA_INVALID');
      expect(violations.map((violation) => violation.path)).to.include.members(['/data/HOST_SEAT_COUNT', '/data/SUB_DETAIL', '/data/TENDER_AGENT_PHONE']);
    });

    it('when a time has no offset it cannot be put on the wire, and is refused naming it', () => {
      const { code, violations } = refusal(port(adapter).encode({ kind: 'apply', plan: { ...PLAN, start: 'tomorrow 9am' } }, 'd'.repeat(32)));
      expect(code).to.equal('SCHEMA_INVALID');
      expect(violations).to.deep.include({ path: '/plan/start', message: 'must be an ISO 8601 time with an offset' });
    });
  });

  describe('host rules (422), before anything is sent', () => {
    const adapter = adapterAt(NOW);
    const semantic = (result: ReturnType<NonNullable<PartnerAdapter['hostApplications']>['encode']>) => {
      const { code, violations } = refusal(result);
      expect(code).to.equal('SEMANTIC_INVALID');
      return violations;
    };

    it('when host-apply ends before it starts, refuses at /data/BID_EVAL_END_TIME', () => {
      const violations = semantic(port(adapter).encode({ kind: 'apply', plan: { ...PLAN, start: '2026-12-08T17:30:00+08:00', end: '2026-12-08T09:00:00+08:00' } }, 'e'.repeat(32)));
      expect(violations).to.deep.include({ path: '/data/BID_EVAL_END_TIME', message: 'must be after BID_EVAL_START_TIME' });
    });

    it('when host-change ends on another day (Beijing time), refuses at /data/BID_EVAL_END_TIME', () => {
      const violations = semantic(port(adapter).encode({ kind: 'change', plan: { ...PLAN, end: '2026-12-09T09:00:00+08:00' }, replaces: 'SQ20261201100001000245', reason: '顺延' }, 'e'.repeat(32)));
      expect(violations).to.deep.include({ path: '/data/BID_EVAL_END_TIME', message: 'must be on the same calendar day as BID_EVAL_START_TIME' });
    });

    it('when host-apply is already past, refuses at /data/BID_EVAL_END_TIME', () => {
      const violations = semantic(adapterAt(parseCompactBeijing('20261208180000')).hostApplications?.encode({ kind: 'apply', plan: PLAN }, 'e'.repeat(32)) ?? expect.fail('no facet'));
      expect(violations).to.deep.include({ path: '/data/BID_EVAL_END_TIME', message: 'is already past' });
    });

    it('when the section code does not start with the project code, refuses at /data/BID_SECTION_CODE', () => {
      const violations = semantic(port(adapter).encode({ kind: 'apply', plan: { ...PLAN, bidSectionCode: 'M4302000260004529999001' } }, 'e'.repeat(32)));
      expect(violations).to.deep.include({ path: '/data/BID_SECTION_CODE', message: 'must start with TENDER_PROJECT_CODE' });
    });

    it('when a guest is Zhuzhou itself, twice the same center, or no area code of domain.md, refuses each at its SUB_DETAIL item', () => {
      const guests = [{ center: '430200', seats: 1 }, { center: '430300', seats: 1 }, { center: '430300', seats: 2 }, { center: '439900', seats: 1 }];
      const violations = semantic(port(adapter).encode({ kind: 'apply', plan: { ...PLAN, guests } }, 'e'.repeat(32)));
      expect(violations).to.deep.include.members([
        { path: '/data/SUB_DETAIL/0/SUB_AREA_CODE', message: 'must differ from AREA_CODE' },
        { path: '/data/SUB_DETAIL/2/SUB_AREA_CODE', message: 'must differ from the other SUB_AREA_CODE' },
        { path: '/data/SUB_DETAIL/3/SUB_AREA_CODE', message: 'is not an area code of domain.md' },
      ]);
    });

    it('when a host plan names another host than 430200, or an area code outside domain.md, refuses at /data/AREA_CODE', () => {
      const data = { ...(HOST_APPLY.data as ProvinceHostApplyData), AREA_CODE: '439900' };
      expect(hostPlanViolations(data, '430200', NOW)).to.deep.include.members([
        { path: '/data/AREA_CODE', message: 'is not an area code of domain.md' },
        { path: '/data/AREA_CODE', message: 'must be 430200' },
      ]);
      expect(hostPlanViolations({ ...data, AREA_CODE: '430300' }, '430200', NOW)).to.deep.include({ path: '/data/AREA_CODE', message: 'must be 430200' });
    });

    it('when seat-check asks about Zhuzhou itself or an unknown area code, or its window is wrong, refuses at the field', () => {
      const window = { BID_EVAL_START_TIME: '20261208090000', BID_EVAL_END_TIME: '20261208173000', SEAT_COUNT: 2 };
      expect(seatCheckViolations({ ...window, AREA_CODE: '430200' }, '430200', NOW)).to.deep.equal([{ path: '/data/AREA_CODE', message: 'must not be 430200' }]);
      expect(seatCheckViolations({ ...window, AREA_CODE: '439900' }, '430200', NOW)).to.deep.equal([{ path: '/data/AREA_CODE', message: 'is not an area code of domain.md' }]);
      expect(seatCheckViolations({ ...window, AREA_CODE: '430300', BID_EVAL_END_TIME: '20261208080000' }, '430200', NOW)).to.deep.equal([{ path: '/data/BID_EVAL_END_TIME', message: 'must be after BID_EVAL_START_TIME' }]);
    });

    it('when a pushed host-result names a guest outside domain.md, inspect answers 422 at /data/SUB_AREA_CODE', () => {
      const data = { ...readExample('province-host-result-approved.json').data, SUB_AREA_CODE: '439900' };
      const body = buildEnvelope({ secret: INBOUND_SECRET, method: 'HMAC-SM3', systemNo: 'HNSDD', dataUuid: 'f'.repeat(32), time: VECTOR.time, interfaceCode: 'host-result' }, data);
      const http: InboundHttp = { operation: 'host-result', rawBody: Buffer.from(JSON.stringify(body)), headers: {}, receivedAt: NOW };
      const result = adapter.inspect(http, body);
      if (result.ok) expect.fail('inspect accepted it');
      expect(result.error.code).to.equal('SEMANTIC_INVALID');
      expect(adapter.rejected(result.error)).to.deep.include({ status: 422 });
      expect(result.error.violations).to.deep.equal([{ path: '/data/SUB_AREA_CODE', message: 'is not an area code of domain.md' }]);
    });
  });

  describe('intake keys of the pushes', () => {
    const adapter = adapterAt(NOW);
    const inspect = (operation: string, data: Record<string, unknown>, dataUuid: string) => {
      const body = buildEnvelope({ secret: INBOUND_SECRET, method: 'HMAC-SM3', systemNo: 'HNSDD', dataUuid, time: VECTOR.time, interfaceCode: operation as 'host-result' }, data);
      const result = adapter.inspect({ operation, rawBody: Buffer.from(JSON.stringify(body)), headers: {}, receivedAt: NOW }, body);
      if (!result.ok) return expect.fail(JSON.stringify(result.error.violations));
      return result.value;
    };

    it('a host-result is keyed by SERIES_NUMBER and guest, apart from guest requests of the same number', () => {
      const inspected = inspect('host-result', readExample('province-host-result-approved.json').data, 'f'.repeat(32));
      expect(inspected.request?.id).to.equal('host-result:SQ20261201100001000245:430300');
      // operators find it by its SERIES_NUMBER, as the application it belongs to
      expect(inspected.searchIds).to.include({ series: 'SQ20261201100001000245' });
    });

    it('a host-outcome is keyed by its SERIES_NUMBER alone: another outcome for it is a conflict', () => {
      const data = readExample('province-host-outcome-failed.json').data;
      expect(inspect('host-outcome', data, 'f'.repeat(32)).request?.id).to.equal('host-outcome:SQ20261201100001000245');
      expect(inspect('host-outcome', { ...data, OUTCOME: '1' }, 'e'.repeat(32)).request?.contentDigest).to.not.equal(inspect('host-outcome', data, 'f'.repeat(32)).request?.contentDigest);
    });

    it('an eval-status must name a request Zhuzhou holds in force, and only the same status again is its repeat', () => {
      const paused = inspect('eval-status', readExample('province-eval-status.json').data, 'f'.repeat(32));
      const resumed = inspect('eval-status', { ...readExample('province-eval-status.json').data, EVAL_STATUS: '1', STATUS_TIME: '20261209113000', REMARK: '' }, 'e'.repeat(32));
      expect(paused.inForce).to.equal('SQ20261130143002000198');
      expect(paused.request?.id).to.not.equal(resumed.request?.id);
    });
  });

  describe('answers of the province', () => {
    it('a host-apply answered State 200 with an SQ number is delivered and names it; a BG number or none for it is refused for operators', () => {
      const answer = { State: '200', Success: true, Msg: '成功', Data: { SERIES_NUMBER: 'SQ20261201100001000245' } };
      expect(checkHostAnswer('host-apply', { kind: 'delivered', status: 200, answer })).to.deep.equal({ kind: 'delivered', status: 200, answer });
      expect(applicationIdOf('host-apply', answer)).to.equal('SQ20261201100001000245');
      expect(applicationIdOf('host-change', answer)).to.equal(undefined);
      expect(checkHostAnswer('host-change', { kind: 'delivered', status: 200, answer }).kind).to.equal('refused');
      expect(checkHostAnswer('host-cancel', { kind: 'delivered', status: 200, answer: { State: '200', Data: {} } })).to.include({ kind: 'refused', reason: 'State 200 without a QX SERIES_NUMBER' });
      // eval-status answers name nothing
      expect(checkHostAnswer('eval-status', { kind: 'delivered', status: 200, answer: { State: '200', Data: {} } }).kind).to.equal('delivered');
    });

    describe('over HTTP, against the province simulator', () => {
      let simulator: ProvinceSimulator;
      before(async () => {
        simulator = await new ProvinceSimulator({ secret: VECTOR.secret, now: () => NOW }).start();
      });
      after(async () => {
        await simulator.stop();
      });

      it('host-apply is signed exactly as the vector (HMAC-SM3), verifies, and gets its SERIES_NUMBER; a resend gets the same one', async () => {
        const adapter = adapterAt(NOW, {}, simulator.url);
        const message = encoded(adapter, { kind: 'apply', plan: PLAN }, VECTOR.dataUuid);
        const first = await adapter.deliver(message);
        const sent = await simulator.waitFor('host-apply');
        expect(sent.validation).to.deep.equal({ DATAUUID: VECTOR.dataUuid, SYSTEM_NO: 'ZZ430200', TIME: VECTOR.time, SIGN_METHOD: 'HMAC-SM3', TOKEN: VECTOR.sm3Token });
        expect(sent.signatureValid).to.equal(true);
        expect(first.kind).to.equal('delivered');
        const series = first.kind === 'delivered' ? port(adapter).applicationIdOf('host-apply', first.answer) : undefined;
        expect(series).to.match(/^SQ\d{20}$/);
        const again = await adapter.deliver(message);
        expect(again.kind === 'delivered' ? port(adapter).applicationIdOf('host-apply', again.answer) : undefined).to.equal(series);
      });

      it('with PROVINCE_SIGN_METHOD HMAC-SHA256 the host-apply TOKEN is the vector\'s HMAC-SHA256', async () => {
        const adapter = adapterAt(NOW, { PROVINCE_SIGN_METHOD: 'HMAC-SHA256' }, simulator.url);
        const before = simulator.received.length;
        await adapter.deliver(encoded(adapter, { kind: 'apply', plan: PLAN }, VECTOR.dataUuid));
        const sent = simulator.received[before];
        expect(sent?.validation).to.include({ SIGN_METHOD: 'HMAC-SHA256', TOKEN: VECTOR.sha256Token });
        expect(sent?.signatureValid).to.equal(true);
      });

      it('host-change, host-cancel and eval-status are signed for their own interface and verify', async () => {
        const adapter = adapterAt(NOW, {}, simulator.url);
        const applied = await adapter.deliver(encoded(adapter, { kind: 'apply', plan: PLAN }, adapter.messageIdFor('host:E1:apply')));
        const series = applied.kind === 'delivered' ? (port(adapter).applicationIdOf('host-apply', applied.answer) ?? '') : '';
        simulator.host.decide(series, '1');
        const before = simulator.received.length;
        const change = await adapter.deliver(encoded(adapter, { kind: 'change', plan: { ...PLAN, hostSeats: 4 }, replaces: series, reason: '主场专家减至4人' }, adapter.messageIdFor('host:E1:change:1')));
        const status = await adapter.deliver(encoded(adapter, { kind: 'status', applicationId: series, status: 'started', at: '2026-12-08T09:00:00+08:00' }, adapter.messageIdFor('host:E1:status:started')));
        const cancel = await adapter.deliver(encoded(adapter, { kind: 'cancel', replaces: series, reason: '招标人申请终止' }, adapter.messageIdFor('host:E1:cancel')));
        expect(simulator.received.slice(before).map((message) => [message.operation, message.signatureValid])).to.deep.equal([
          ['host-change', true],
          ['eval-status', true],
          ['host-cancel', true],
        ]);
        expect(change.kind === 'delivered' ? port(adapter).applicationIdOf('host-change', change.answer) : change).to.match(/^BG\d{20}$/);
        expect(status.kind).to.equal('delivered');
        expect(cancel.kind === 'delivered' ? port(adapter).applicationIdOf('host-cancel', cancel.answer) : cancel).to.match(/^QX\d{20}$/);
      });

      it('when the province answers State 503 or HTTP 500, a host call is to be retried (Retry-After kept); a 422 NOT_IN_FORCE is refused for good', async () => {
        const adapter = adapterAt(NOW, {}, simulator.url);
        simulator.retryAfter = '7';
        simulator.failNext('state-503', 'http-500');
        const message = encoded(adapter, { kind: 'apply', plan: PLAN }, adapter.messageIdFor('host:E2:apply'));
        expect(await adapter.deliver(message)).to.deep.include({ kind: 'retry', retryAfterMs: 7000 });
        expect(await adapter.deliver(message)).to.deep.include({ kind: 'retry', status: 500 });
        const notInForce = await adapter.deliver(encoded(adapter, { kind: 'status', applicationId: 'SQ20261130143002000198', status: 'started', at: '2026-12-08T09:00:00+08:00' }, adapter.messageIdFor('host:E3:status')));
        expect(notInForce).to.deep.include({ kind: 'refused', status: 422 });
        expect(notInForce.kind === 'refused' ? notInForce.answer : undefined).to.deep.include({ State: '422', Data: { errors: [{ path: '/data/SERIES_NUMBER', message: 'NOT_IN_FORCE' }] } });
      });

      it('seat-check answers the free seats of each room, typed', async () => {
        const adapter = adapterAt(NOW, {}, simulator.url);
        simulator.host.setFreeSeats('430400', [{ name: 'HY-PBS-01', freeSeats: 1 }, { name: 'HY-PBS-02', freeSeats: 6 }]);
        const result = await port(adapter).seatCheck({ center: '430400', start: '2026-12-08T09:00:00+08:00', end: '2026-12-08T17:30:00+08:00', seats: 3 }, adapter.messageIdFor('seat-check:430400:20261208'));
        expect(simulator.received.at(-1)?.data).to.deep.equal({ AREA_CODE: '430400', BID_EVAL_START_TIME: '20261208090000', BID_EVAL_END_TIME: '20261208173000', SEAT_COUNT: 3 });
        expect(simulator.received.at(-1)?.signatureValid).to.equal(true);
        expect(result).to.deep.equal({
          ok: true,
          value: {
            kind: 'checked',
            status: 200,
            result: { center: '430400', centerName: '衡阳市公共资源交易中心', meets: true, rooms: [{ name: 'HY-PBS-01', freeSeats: 1, meets: false }, { name: 'HY-PBS-02', freeSeats: 6, meets: true }] },
          },
        });
      });

      it('when seat-check breaks a host rule, nothing is sent; when the province is busy, it is to be retried', async () => {
        const adapter = adapterAt(NOW, {}, simulator.url);
        const before = simulator.received.length;
        const zhuzhou = await port(adapter).seatCheck({ center: '430200', start: '2026-12-08T09:00:00+08:00', end: '2026-12-08T17:30:00+08:00', seats: 3 }, 'a'.repeat(32));
        expect(zhuzhou.ok ? zhuzhou : zhuzhou.error.violations).to.deep.equal([{ path: '/data/AREA_CODE', message: 'must not be 430200' }]);
        expect(simulator.received.length).to.equal(before);
        simulator.failNext('state-429');
        const busy = await port(adapter).seatCheck({ center: '430300', start: '2026-12-08T09:00:00+08:00', end: '2026-12-08T17:30:00+08:00', seats: 3 }, 'b'.repeat(32));
        expect(busy.ok ? busy.value.kind : busy).to.equal('retry');
      });
    });
  });
});
