import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { EXAMPLE_HOST_PLAN } from '../fixtures/host-plan.ts';
import { createProvinceAdapter } from '../../adapters/province/index.ts';
import { buildEnvelope, type Envelope } from '../../adapters/province/signature.ts';
import { loadConfig } from '../../config/index.ts';
import { formatCompactBeijing, parseCompactBeijing } from '../../kernel/beijing-time.ts';
import type { ProvinceApplyData } from '../../schemas/types.generated.ts';
import { INBOUND_SECRET, testEnv } from '../helpers/gateway.ts';
import { applyData } from '../simulators/province-traffic.ts';
import { describeAdapterContract } from './contract.ts';

const config = loadConfig({ env: testEnv('contract', 'http://127.0.0.1:9', 'redis://127.0.0.1:9') });
const NOW = parseCompactBeijing('20261201090000');

// copies of ../shared/partners/examples, so the suite runs wherever the clone is
const EXAMPLES = new URL('../fixtures/partners', import.meta.url).pathname;

/** An example pushed by the province, signed as the province would (its TOKEN there is a placeholder). */
function example(name: string, operation: string): { operation: string; body: Envelope<Record<string, unknown>> } {
  const { validation, data } = readExample(name);
  return { operation, body: buildEnvelope({ secret: INBOUND_SECRET, method: 'HMAC-SM3', systemNo: 'HNSDD', dataUuid: validation.DATAUUID, time: validation.TIME, interfaceCode: operation as 'apply' }, data) };
}

/** An example as the gateway reads it: what Zhuzhou sends, or what the province answers. */
function readExample(name: string): Envelope<Record<string, unknown>> {
  return JSON.parse(readFileSync(`${EXAMPLES}/${name}`, 'utf8')) as Envelope<Record<string, unknown>>;
}

// examples/province-host-apply.json and province-eval-status.json, as Zhuzhou sends them
const HOST_APPLY = readExample('province-host-apply.json');
const EVAL_STATUS = readExample('province-eval-status.json');

const PLAN = EXAMPLE_HOST_PLAN;

/** province.md: the answer to host-apply, host-change and host-cancel names the SERIES_NUMBER assigned. */
const assigned = (series: string) => ({ State: '200', Success: true, Msg: '成功', Data: { SERIES_NUMBER: series } });

function withData(message: { operation: string; body: Envelope<Record<string, unknown>> }, data: Record<string, unknown>) {
  return { operation: message.operation, body: { ...message.body, data: { ...message.body.data, ...data } } };
}

function sign(operation: string, body: unknown, options: { at?: number; wrongKey?: boolean } = {}) {
  const { validation, data } = body as Envelope<object>;
  const signed = buildEnvelope(
    {
      secret: options.wrongKey ? 'not-the-province-secret-0000' : INBOUND_SECRET,
      method: 'HMAC-SM3',
      systemNo: 'HNSDD',
      dataUuid: validation.DATAUUID,
      time: formatCompactBeijing(options.at ?? NOW),
      interfaceCode: operation as 'apply',
    },
    data,
  );
  return { operation, rawBody: Buffer.from(JSON.stringify(signed)), headers: { 'content-type': 'application/json' }, receivedAt: options.at ?? NOW };
}

describeAdapterContract({
  partner: 'province',
  now: NOW,
  clockToleranceSeconds: config.partners.province.clockToleranceSeconds,
  adapterAt: (clock) => createProvinceAdapter({ config, clock }),
  message: () => {
    const data = applyData({ start: '20261203090000', end: '20261203173000' });
    return { operation: 'apply', body: { validation: { DATAUUID: randomBytes(16).toString('hex'), SYSTEM_NO: 'HNSDD', TIME: formatCompactBeijing(NOW), SIGN_METHOD: 'HMAC-SM3', TOKEN: '0'.repeat(64) }, data } };
  },
  conflicting: (body) => {
    const envelope = body as Envelope<ProvinceApplyData>;
    return { validation: { ...envelope.validation, DATAUUID: 'b'.repeat(32) }, data: { ...envelope.data, SEAT_COUNT: envelope.data.SEAT_COUNT + 1 } };
  },
  sign,
  invalid: () => ({
    operation: 'apply',
    body: { validation: { DATAUUID: 'x', SYSTEM_NO: 'HNSDD', TIME: '2026', TOKEN: '0'.repeat(64) }, data: { ...applyData({ start: '20261203090000', end: '20261203173000' }), SEAT_COUNT: 0, COLOR: 'red' } },
    paths: ['/validation/DATAUUID', '/validation/TIME', '/data/SEAT_COUNT', '/data'],
  }),
  canonical: { kind: 'apply', partner: 'province', booking: { hostCenter: '430100', hostCenterName: '长沙市公共资源交易中心', tenderProjectCode: 'M4301000260018837001', bidSectionCode: 'M4301000260018837001002', sector: 'GCJS', projectType: 'A02', start: '2026-12-03T09:00:00+08:00', end: '2026-12-03T17:30:00+08:00', seats: 3, contact: { name: '李明', phone: '0731-28881234' }, remark: '' } },
  decision: {
    decision: { requestId: 'SQ20261125090000000117', kind: 'apply', outcome: 'approved', reason: '', roomId: 'ZZ-PBS-05', roomAddress: '株洲市天元区黄河南路市民中心B座3楼305', seatIds: ['ZZ-PBS-05-01', 'ZZ-PBS-05-02', 'ZZ-PBS-05-03'], decidedAt: '2026-11-25T01:00:07.000Z' },
    messageId: 'c0ffee00c0ffee00c0ffee00c0ffee01',
    operation: 'notify',
    // examples/province-notify-approved.json
    body: { SERIES_NUMBER: 'SQ20261125090000000117', STATUS: '1', AREA_CODE: '430200', CENTER_NAME: '株洲市公共资源交易中心', EVAL_ROOM_NAME: 'ZZ-PBS-05', EVAL_ROOM_ADDR: '株洲市天元区黄河南路市民中心B座3楼305', SEAT_NUMBER: ['ZZ-PBS-05-01', 'ZZ-PBS-05-02', 'ZZ-PBS-05-03'], REMARK: '' },
  },
  moreMessages: [
    {
      name: 'the host-result example (a guest approves Zhuzhou\'s host application)',
      ...example('province-host-result-approved.json', 'host-result'),
      canonical: {
        kind: 'guest-result',
        partner: 'province',
        applicationId: 'SQ20261201100001000245',
        guest: { center: '430300', centerName: '湘潭市公共资源交易中心', decision: 'approved', roomName: 'XT-PBS-02', roomAddress: '湘潭市岳塘区政务服务中心4楼402', seatIds: ['XT-PBS-02-01', 'XT-PBS-02-02'] },
        remark: '',
      },
    },
    {
      name: 'a host-result rejecting with its reason',
      ...withData(example('province-host-result-approved.json', 'host-result'), { SUB_AREA_CODE: '430400', CENTER_NAME: '衡阳市公共资源交易中心', STATUS: '2', EVAL_ROOM_NAME: '', EVAL_ROOM_ADDR: '', SEAT_NUMBER: [], REMARK: 'NO_CAPACITY' }),
      canonical: { kind: 'guest-result', guest: { center: '430400', centerName: '衡阳市公共资源交易中心', decision: 'rejected', roomName: '', roomAddress: '', seatIds: [] }, remark: 'NO_CAPACITY' },
    },
    {
      name: 'the host-outcome example (failed)',
      ...example('province-host-outcome-failed.json', 'host-outcome'),
      canonical: { kind: 'application-outcome', partner: 'province', applicationId: 'SQ20261201100001000245', outcome: 'failed', remark: '衡阳市公共资源交易中心(430400)不同意：NO_CAPACITY；已释放湘潭市公共资源交易中心(430300)席位并通知取消' },
    },
    { name: 'a host-outcome in force', ...withData(example('province-host-outcome-failed.json', 'host-outcome'), { OUTCOME: '1', REMARK: '' }), canonical: { kind: 'application-outcome', outcome: 'in-force' } },
    { name: 'a host-outcome cancelled under its QX number', ...withData(example('province-host-outcome-failed.json', 'host-outcome'), { SERIES_NUMBER: 'QX20261202100001000250', OUTCOME: '5', REMARK: '' }), canonical: { kind: 'application-outcome', applicationId: 'QX20261202100001000250', outcome: 'cancelled' } },
    { name: 'a host-outcome expired', ...withData(example('province-host-outcome-failed.json', 'host-outcome'), { OUTCOME: '6', REMARK: '' }), canonical: { kind: 'application-outcome', outcome: 'expired' } },
    {
      name: 'the eval-status example, forwarded to Zhuzhou as guest (a pause with its reason)',
      ...example('province-eval-status.json', 'eval-status'),
      canonical: { kind: 'status', partner: 'province', requestId: 'SQ20261130143002000198', lifecycle: { status: 'paused', at: '2026-12-09T10:40:00+08:00', reason: '专家申请回避，暂停评标，等待补抽专家' } },
    },
    {
      name: 'an eval-status "1" with no remark (started, or resumed: the province does not tell them apart)',
      ...withData(example('province-eval-status.json', 'eval-status'), { EVAL_STATUS: '1', REMARK: '' }),
      canonical: { kind: 'status', lifecycle: { status: 'started', at: '2026-12-09T10:40:00+08:00' } },
    },
    { name: 'an eval-status "2" (ended)', ...withData(example('province-eval-status.json', 'eval-status'), { EVAL_STATUS: '2', REMARK: '' }), canonical: { kind: 'status', lifecycle: { status: 'ended', at: '2026-12-09T10:40:00+08:00' } } },
    { name: 'an eval-status "3" (archived)', ...withData(example('province-eval-status.json', 'eval-status'), { EVAL_STATUS: '3', REMARK: '' }), canonical: { kind: 'status', lifecycle: { status: 'archived', at: '2026-12-09T10:40:00+08:00' } } },
  ],
  moreInvalid: [
    {
      name: 'a host-result rejects but names a room and seats, without a reason',
      ...withData(example('province-host-result-approved.json', 'host-result'), { STATUS: '2' }),
      paths: ['/data/EVAL_ROOM_NAME', '/data/EVAL_ROOM_ADDR', '/data/SEAT_NUMBER', '/data/REMARK'],
    },
    { name: 'a host-result approves without a room or seats', ...withData(example('province-host-result-approved.json', 'host-result'), { EVAL_ROOM_NAME: '', SEAT_NUMBER: [] }), paths: ['/data/EVAL_ROOM_NAME', '/data/SEAT_NUMBER'] },
    { name: 'a host-result names one seat twice', ...withData(example('province-host-result-approved.json', 'host-result'), { SEAT_NUMBER: ['XT-PBS-02-01', 'XT-PBS-02-01'] }), paths: ['/data/SEAT_NUMBER'] },
    { name: 'a host-result has no REMARK and an unknown field', body: { ...example('province-host-result-approved.json', 'host-result').body, data: { ...Object.fromEntries(Object.entries(example('province-host-result-approved.json', 'host-result').body.data).filter(([key]) => key !== 'REMARK')), COLOR: 'red' } }, operation: 'host-result', paths: ['/data/REMARK', '/data'] },
    { name: 'a host-outcome has an OUTCOME outside "1", "3", "5", "6"', ...withData(example('province-host-outcome-failed.json', 'host-outcome'), { OUTCOME: '2' }), paths: ['/data/OUTCOME'] },
    { name: 'a host-result names a QX number', ...withData(example('province-host-result-approved.json', 'host-result'), { SERIES_NUMBER: 'QX20261202100001000250' }), paths: ['/data/SERIES_NUMBER'] },
    { name: 'an eval-status has an EVAL_STATUS outside "1", "4", "2", "3" and a bad STATUS_TIME', ...withData(example('province-eval-status.json', 'eval-status'), { EVAL_STATUS: '5', STATUS_TIME: '2026-12-09 10:40' }), paths: ['/data/EVAL_STATUS', '/data/STATUS_TIME'] },
  ],
  sentAtFields: [],
  hostApplications: {
    messages: [
      {
        name: 'the host-apply of the example plan (examples/province-host-apply.json)',
        message: { kind: 'apply', plan: PLAN },
        messageId: HOST_APPLY.validation.DATAUUID,
        operation: 'host-apply',
        body: HOST_APPLY.data,
      },
      {
        name: 'a host-change: the complete new plan, the application it replaces and the reason',
        message: { kind: 'change', plan: { ...PLAN, start: '2026-12-09T01:00:00Z', end: '2026-12-09T09:30:00Z', guests: [{ center: '430300', seats: 3 }] }, replaces: 'SQ20261201100001000245', reason: '评标顺延一天，湘潭副场专家增至3人，衡阳副场取消' },
        messageId: 'a'.repeat(32),
        operation: 'host-change',
        body: {
          ...HOST_APPLY.data,
          ORIGINAL_SERIES_NUMBER: 'SQ20261201100001000245',
          BID_EVAL_START_TIME: '20261209090000',
          BID_EVAL_END_TIME: '20261209173000',
          SUB_DETAIL: [{ SUB_AREA_CODE: '430300', SEAT_COUNT: 3 }],
          REMARK: '评标顺延一天，湘潭副场专家增至3人，衡阳副场取消',
        },
      },
      {
        name: 'a host-cancel: the application and the reason, no other field',
        message: { kind: 'cancel', replaces: 'BG20261202100001000247', reason: '招标人申请终止' },
        messageId: 'b'.repeat(32),
        operation: 'host-cancel',
        body: { ORIGINAL_SERIES_NUMBER: 'BG20261202100001000247', REMARK: '招标人申请终止' },
      },
      {
        name: 'the eval-status of a pause (examples/province-eval-status.json)',
        message: { kind: 'status', applicationId: 'SQ20261130143002000198', status: 'paused', at: '2026-12-09T10:40:00+08:00', reason: '专家申请回避，暂停评标，等待补抽专家' },
        messageId: EVAL_STATUS.validation.DATAUUID,
        operation: 'eval-status',
        body: EVAL_STATUS.data,
      },
      {
        name: 'the eval-status of a resume, which goes as "1" like a start',
        message: { kind: 'status', applicationId: 'SQ20261130143002000198', status: 'resumed', at: '2026-12-09T03:30:00.000Z' },
        messageId: 'c'.repeat(32),
        operation: 'eval-status',
        body: { SERIES_NUMBER: 'SQ20261130143002000198', EVAL_STATUS: '1', STATUS_TIME: '20261209113000', REMARK: '' },
      },
      {
        name: 'the eval-status of the archive ("3")',
        message: { kind: 'status', applicationId: 'BG20261202100001000247', status: 'archived', at: '2026-12-10T09:00:00+08:00' },
        messageId: 'd'.repeat(32),
        operation: 'eval-status',
        body: { SERIES_NUMBER: 'BG20261202100001000247', EVAL_STATUS: '3', STATUS_TIME: '20261210090000', REMARK: '' },
      },
    ],
    refused: [
      {
        name: 'a host-apply ends before it starts, its section is not of its project, and a guest is Zhuzhou itself or named twice',
        message: {
          kind: 'apply',
          plan: {
            ...PLAN,
            start: '2026-12-08T17:30:00+08:00',
            end: '2026-12-08T09:00:00+08:00',
            bidSectionCode: 'M4302000260004529999001',
            guests: [{ center: '430200', seats: 1 }, { center: '430300', seats: 1 }, { center: '430300', seats: 2 }],
          },
        },
        paths: ['/data/BID_EVAL_END_TIME', '/data/BID_SECTION_CODE', '/data/SUB_DETAIL/0/SUB_AREA_CODE', '/data/SUB_DETAIL/2/SUB_AREA_CODE'],
      },
      {
        name: 'a host-change ends on the next day (Beijing time) and names a guest outside domain.md',
        message: { kind: 'change', plan: { ...PLAN, end: '2026-12-09T09:00:00+08:00', guests: [{ center: '439900', seats: 2 }] }, replaces: 'SQ20261201100001000245', reason: '顺延' },
        paths: ['/data/BID_EVAL_END_TIME', '/data/SUB_DETAIL/0/SUB_AREA_CODE'],
      },
    ],
    answers: [
      { name: 'a host-apply is answered with its SQ number (province.md)', operation: 'host-apply', answer: assigned('SQ20261201100001000245'), applicationId: 'SQ20261201100001000245' },
      { name: 'a host-change is answered with its BG number', operation: 'host-change', answer: assigned('BG20261202100001000247'), applicationId: 'BG20261202100001000247' },
      { name: 'a host-cancel is answered with its QX number', operation: 'host-cancel', answer: assigned('QX20261202100001000250'), applicationId: 'QX20261202100001000250' },
      { name: 'a host-change is answered with an SQ number, not a BG one', operation: 'host-change', answer: assigned('SQ20261201100001000245'), applicationId: undefined },
      { name: 'a host-apply is answered with a TRACKING_NO (examples/province-response-200.json, the answer to a push)', operation: 'host-apply', answer: readExample('province-response-200.json'), applicationId: undefined },
      { name: 'an eval-status is answered, which names no application', operation: 'eval-status', answer: assigned('SQ20261130143002000198'), applicationId: undefined },
    ],
  },
  acceptedStatus: 200,
  trackingNoOf: (answer) => (answer as { Data: { TRACKING_NO: string } }).Data.TRACKING_NO,
});
