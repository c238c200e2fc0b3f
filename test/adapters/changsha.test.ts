import { readFileSync } from 'node:fs';
import { createChangshaAdapter } from '../../adapters/changsha/index.ts';
import { signatureHeaders } from '../../adapters/changsha/signature.ts';
import { loadConfig } from '../../config/index.ts';
import type { SlotRequested } from '../../schemas/types.generated.ts';
import { CHANGSHA, testEnv } from '../helpers/gateway.ts';
import { ChangshaClient, slotRequestedData } from '../simulators/changsha-client.ts';
import { describeAdapterContract } from './contract.ts';

const config = loadConfig({ env: testEnv('contract', 'http://127.0.0.1:9', 'redis://127.0.0.1:9') });
const NOW = Date.parse('2026-12-01T09:00:00+08:00');
const client = new ChangshaClient({ gatewayUrl: 'http://127.0.0.1:9', keyId: CHANGSHA.inboundKeyId, secret: CHANGSHA.inboundSecret, now: () => NOW });

/** An example of ../shared/partners/examples (copied beside the tests, so the suite runs wherever the clone is). */
function readExample(name: string): { eventId: string; eventType: string; occurredAt: string; data: Record<string, unknown> } {
  return JSON.parse(readFileSync(new URL(`../fixtures/partners/${name}`, import.meta.url), 'utf8')) as { eventId: string; eventType: string; occurredAt: string; data: Record<string, unknown> };
}

// examples/changsha-session-status.json: the host's pause, in the direction Zhuzhou hosts
const sessionStatusExample = readExample('changsha-session-status.json') as { eventId: string; data: Record<string, string> };
const slotReleasedExample = readExample('changsha-slot-released.json');

/** The request id Zhuzhou, as host, chose for its seats at Changsha (as in examples/changsha-session-status.json). */
const ZZ_REQUEST = 'ZZR-20261130-0012';

function sign(operation: string, body: unknown, options: { at?: number; wrongKey?: boolean } = {}) {
  const raw = JSON.stringify(body);
  const headers = signatureHeaders(options.wrongKey ? 'unknown-key' : CHANGSHA.inboundKeyId, CHANGSHA.inboundSecret, Math.floor((options.at ?? NOW) / 1000), raw);
  return { operation, rawBody: Buffer.from(raw), headers: { 'x-ych-key-id': headers['X-YCH-Key-Id'], 'x-ych-signature': headers['X-YCH-Signature'] }, receivedAt: options.at ?? NOW };
}

describeAdapterContract({
  partner: 'changsha',
  now: NOW,
  clockToleranceSeconds: config.partners.changsha.clockToleranceSeconds,
  adapterAt: (clock) => createChangshaAdapter({ config, clock }),
  message: () => ({
    operation: 'events',
    body: client.event('slot.requested', { ...slotRequestedData({ start: '2026-12-05T14:00:00+08:00', end: '2026-12-05T18:00:00+08:00' }), projectCode: 'M4301000260021190001', sectionCode: 'M4301000260021190001002', seats: 4 }),
  }),
  conflicting: (body) => {
    const event = body as { eventId: string; data: SlotRequested };
    return { ...event, eventId: `${event.eventId}x`, data: { ...event.data, seats: event.data.seats + 1 } };
  },
  sign,
  invalid: () => ({
    operation: 'events',
    body: { eventId: 'x', eventType: 'slot.requested', occurredAt: 'yesterday', data: { ...slotRequestedData({ start: '2026-12-05T14:00:00+08:00', end: '2026-12-05T18:00:00+08:00' }), seats: 16, color: 'red' } },
    paths: ['/eventId', '/occurredAt', '/data/seats', '/data'],
  }),
  canonical: { kind: 'hold', partner: 'changsha', booking: { hostCenter: '430100', hostCenterName: '', tenderProjectCode: 'M4301000260021190001', bidSectionCode: 'M4301000260021190001002', sector: 'ZFCG', start: '2026-12-05T14:00:00+08:00', end: '2026-12-05T18:00:00+08:00', seats: 4, projectName: '长沙市智慧教育装备采购项目' } },
  decision: {
    decision: { requestId: 'CSR-2026-1125-007', kind: 'hold', outcome: 'held', reason: '', roomId: 'ZZ-PBS-03', roomAddress: '株洲市天元区黄河南路市民中心B座3楼303', seatIds: ['ZZ-PBS-03-01', 'ZZ-PBS-03-02', 'ZZ-PBS-03-03', 'ZZ-PBS-03-04'], decidedAt: '2026-11-25T01:20:02.000Z', offerId: 'ZZO-20261125-0091', holdExpiresAt: '2026-11-25T01:50:02.000Z' },
    messageId: 'zz_evt_20261125_0091',
    operation: 'slot.offered',
    // examples/changsha-slot-offered.json, occurredAt aside
    body: { eventId: 'zz_evt_20261125_0091', eventType: 'slot.offered', data: { requestId: 'CSR-2026-1125-007', offerId: 'ZZO-20261125-0091', roomId: 'ZZ-PBS-03', seatNumbers: ['ZZ-PBS-03-01', 'ZZ-PBS-03-02', 'ZZ-PBS-03-03', 'ZZ-PBS-03-04'], holdExpiresAt: '2026-11-25T09:50:02+08:00' } },
  },
  moreMessages: [
    {
      name: 'a session.status paused with its reason (Changsha hosting)',
      operation: 'events',
      body: client.event('session.status', { requestId: 'CSR-2026-1125-007', status: 'paused', at: '2026-12-05T15:10:00+08:00', reason: '专家申请回避，暂停评标' }),
      canonical: { kind: 'status', partner: 'changsha', requestId: 'CSR-2026-1125-007', lifecycle: { status: 'paused', at: '2026-12-05T15:10:00+08:00', reason: '专家申请回避，暂停评标' } },
    },
    {
      name: 'a slot.offered from Changsha for Zhuzhou\'s request (as examples/changsha-slot-offered.json), its hold expiry given in UTC',
      operation: 'events',
      body: client.event('slot.offered', { requestId: ZZ_REQUEST, offerId: 'CSO-20261201-0031', roomId: 'CS-PBS-A1', seatNumbers: ['CS-PBS-A1-01', 'CS-PBS-A1-02'], holdExpiresAt: '2026-12-01T01:30:00Z' }),
      canonical: { kind: 'offered', partner: 'changsha', requestId: ZZ_REQUEST, offerId: 'CSO-20261201-0031', roomId: 'CS-PBS-A1', seatIds: ['CS-PBS-A1-01', 'CS-PBS-A1-02'], holdExpiresAt: '2026-12-01T09:30:00+08:00' },
    },
    {
      name: 'a slot.declined from Changsha for Zhuzhou\'s request, with its reason',
      operation: 'events',
      body: client.event('slot.declined', { requestId: ZZ_REQUEST, reason: 'NO_CAPACITY' }),
      canonical: { kind: 'declined', partner: 'changsha', requestId: ZZ_REQUEST, reason: 'NO_CAPACITY' },
    },
    {
      name: 'the slot.released example (Changsha as host releases its request)',
      operation: 'events',
      body: slotReleasedExample,
      canonical: { kind: 'release', partner: 'changsha', requestId: 'CSR-2026-1125-007', reason: 'PROJECT_POSTPONED' },
    },
    {
      name: 'a slot.released of the seats Changsha offered for Zhuzhou\'s request',
      operation: 'events',
      body: client.event('slot.released', { requestId: ZZ_REQUEST, reason: 'OTHER' }),
      canonical: { kind: 'release', partner: 'changsha', requestId: ZZ_REQUEST, reason: 'OTHER' },
    },
    {
      name: 'a session.status ended given in UTC, to Beijing time',
      operation: 'events',
      body: client.event('session.status', { requestId: 'CSR-2026-1125-007', status: 'ended', at: '2026-12-05T08:30:00Z' }),
      canonical: { kind: 'status', requestId: 'CSR-2026-1125-007', lifecycle: { status: 'ended', at: '2026-12-05T16:30:00+08:00' } },
    },
  ],
  moreInvalid: [
    { name: 'a session.status paused comes without a reason', operation: 'events', body: client.event('session.status', { requestId: 'CSR-2026-1125-007', status: 'paused', at: '2026-12-05T15:10:00+08:00' }), paths: ['/data/reason'] },
    {
      name: 'a session.status has an unknown status, an empty reason and an extra field',
      operation: 'events',
      body: client.event('session.status', { requestId: 'CSR-2026-1125-007', status: 'archived', at: '2026-12-05T15:10:00+08:00', reason: '', room: 'A' }),
      paths: ['/data/status', '/data/reason', '/data'],
    },
  ],
  sentAtFields: ['occurredAt'],
  host: {
    messages: [
      {
        name: 'Zhuzhou\'s seat request (slot.requested, as examples/changsha-slot-requested.json), its window given in UTC written in Beijing time',
        message: {
          kind: 'request',
          requestId: ZZ_REQUEST,
          request: {
            tenderProjectCode: 'M4302000260004521001',
            bidSectionCode: 'M4302000260004521001001',
            projectName: '株洲市芦淞区建设南路市政道路提质改造工程',
            category: 'municipal',
            start: '2026-12-08T01:00:00.000Z',
            end: '2026-12-08T09:30:00.000Z',
            seats: 2,
            hostCenter: '430200',
          },
        },
        messageId: 'zz_evt_20261201_0101',
        operation: 'slot.requested',
        body: {
          eventId: 'zz_evt_20261201_0101',
          eventType: 'slot.requested',
          data: {
            requestId: ZZ_REQUEST,
            projectCode: 'M4302000260004521001',
            sectionCode: 'M4302000260004521001001',
            projectName: '株洲市芦淞区建设南路市政道路提质改造工程',
            category: 'municipal',
            start: '2026-12-08T09:00:00+08:00',
            end: '2026-12-08T17:30:00+08:00',
            seats: 2,
            hostCenter: '430200',
          },
        },
      },
      {
        name: 'Zhuzhou\'s confirm of Changsha\'s offer (slot.confirmed, as examples/changsha-slot-confirmed.json)',
        message: { kind: 'confirm', requestId: ZZ_REQUEST, offerId: 'CSO-20261201-0031' },
        messageId: 'zz_evt_20261201_0102',
        operation: 'slot.confirmed',
        body: { eventId: 'zz_evt_20261201_0102', eventType: 'slot.confirmed', data: { requestId: ZZ_REQUEST, offerId: 'CSO-20261201-0031' } },
      },
      {
        name: 'Zhuzhou\'s release of its request (slot.released, the reason of examples/changsha-slot-released.json)',
        message: { kind: 'release', requestId: ZZ_REQUEST, reason: 'PROJECT_POSTPONED' },
        messageId: 'zz_evt_20261201_0103',
        operation: 'slot.released',
        body: { eventId: 'zz_evt_20261201_0103', eventType: 'slot.released', data: { requestId: ZZ_REQUEST, reason: slotReleasedExample.data['reason'] } },
      },
      {
        name: 'a pause of Zhuzhou\'s evaluation (session.status, the contract example)',
        message: { kind: 'status', requestId: sessionStatusExample.data['requestId'] ?? '', lifecycle: { status: 'paused', at: '2026-12-09T02:40:00.000Z', reason: sessionStatusExample.data['reason'] ?? '' } },
        messageId: sessionStatusExample.eventId,
        operation: 'session.status',
        body: { eventId: sessionStatusExample.eventId, eventType: 'session.status', data: sessionStatusExample.data },
      },
      {
        name: 'the end of Zhuzhou\'s evaluation (session.status without a reason)',
        message: { kind: 'status', requestId: 'ZZR-20261130-0012', lifecycle: { status: 'ended', at: '2026-12-09T15:05:00+08:00' } },
        messageId: 'zz_evt_20261209_0110',
        operation: 'session.status',
        body: { eventId: 'zz_evt_20261209_0110', eventType: 'session.status', data: { requestId: 'ZZR-20261130-0012', status: 'ended', at: '2026-12-09T15:05:00+08:00' } },
      },
    ],
  },
  acceptedStatus: 202,
  trackingNoOf: (answer) => (answer as { trackingId: string }).trackingId,
});
