import { randomBytes } from 'node:crypto';
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
  acceptedStatus: 200,
  trackingNoOf: (answer) => (answer as { Data: { TRACKING_NO: string } }).Data.TRACKING_NO,
});
