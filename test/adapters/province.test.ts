import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
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
  const { validation, data } = JSON.parse(readFileSync(`${EXAMPLES}/${name}`, 'utf8')) as Envelope<Record<string, unknown>>;
  return { operation, body: buildEnvelope({ secret: INBOUND_SECRET, method: 'HMAC-SM3', systemNo: 'HNSDD', dataUuid: validation.DATAUUID, time: validation.TIME, interfaceCode: operation as 'apply' }, data) };
}

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
  acceptedStatus: 200,
  trackingNoOf: (answer) => (answer as { Data: { TRACKING_NO: string } }).Data.TRACKING_NO,
});
