import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { Keys } from '../../kernel/redis/keys.ts';
import { loadConfig } from '../../config/index.ts';
import { RoomLedger, type LedgerRequest, type LifecycleReportInput } from '../../ledger/index.ts';
import { deleteNamespace, testEnv, testRedisUrl } from '../helpers/gateway.ts';

const MINUTE = 60 * 1000;
const HOUR = 60 * MINUTE;
const DAY_START = Date.parse('2027-03-03T08:00:00+08:00');
// 09:00–15:00 Beijing time, the booking every test reports on
const START = DAY_START + HOUR;
const END = DAY_START + 7 * HOUR;

describe('room ledger: the host\'s lifecycle of a booking (Zhuzhou as guest), on real Redis', () => {
  let redis: Redis;
  let namespace: string;
  let ledger: RoomLedger;
  let bufferMinutes: number;

  beforeEach(() => {
    namespace = `t-${randomBytes(6).toString('hex')}`;
    const config = loadConfig({ env: testEnv(namespace, 'http://127.0.0.1:9') });
    bufferMinutes = config.ledger.bufferMinutes;
    redis = new Redis(testRedisUrl());
    ledger = new RoomLedger(redis, new Keys(namespace), config.ledger.rooms, config.ledger.bufferMinutes);
  });
  afterEach(async () => {
    redis.disconnect();
    await deleteNamespace(testRedisUrl(), namespace);
  });

  function request(overrides: Partial<LedgerRequest> & Pick<LedgerRequest, 'op' | 'id'>): LedgerRequest {
    return { partner: 'changsha', start: START, end: END, seats: 9, now: DAY_START, notifyId: randomBytes(16).toString('hex'), trackingNo: `T-${overrides.id}`, decidedAt: new Date(DAY_START).toISOString(), ...overrides };
  }

  /** A Changsha request held and confirmed: in force in ZZ-PBS-01 (9 seats, the only room that fits). */
  async function confirmed(id: string): Promise<void> {
    const held = await ledger.decide({ ...request({ op: 'hold', id }), offerId: `O-${id}`, holdUntil: DAY_START + 30 * MINUTE });
    expect(held.held === false && held.decision.outcome).to.equal('held');
    const done = await ledger.decide(request({ op: 'confirm', id, offerId: `O-${id}`, trackingNo: `T-${id}-confirm` }));
    expect(done.held === false && done.decision.outcome).to.equal('confirmed');
  }

  function report(overrides: Partial<LifecycleReportInput> & Pick<LifecycleReportInput, 'status' | 'at' | 'trackingNo'>): LifecycleReportInput {
    return { partner: 'changsha', id: 'CSR-1', ...overrides };
  }

  it('when the host ends early, the room is occupied until the reported end and free from that end plus the buffer, not a minute before', async () => {
    await confirmed('CSR-1');
    const endedAt = DAY_START + 4 * HOUR; // 12:00
    const ended = await ledger.recordLifecycle(report({ status: 'ended', at: endedAt, trackingNo: 'T-end' }));
    expect(ended).to.deep.include({ outcome: 'recorded', status: 'ended', end: endedAt, bookedEnd: END });
    expect(await ledger.bookings()).to.deep.equal([{ resource: 'ZZ-PBS-01', owner: 'changsha:CSR-1', start: START, end: endedAt }]);
    // what was booked stays as it was decided (reconciliation and exceptions compare against it)
    expect(await ledger.describe('changsha', 'CSR-1')).to.deep.include({ state: 'in-force', start: START, end: END });

    const freeFrom = endedAt + bufferMinutes * MINUTE;
    const tooEarly = await ledger.decide(request({ op: 'apply', partner: 'province', id: 'SQ-early', start: freeFrom - MINUTE, end: freeFrom + 2 * HOUR }));
    // the only room of 9 is still in its buffer: the request goes to the hall
    expect(tooEarly.held === false && tooEarly.decision).to.deep.include({ outcome: 'approved', roomId: 'ZZ-GW-A' });
    const inTime = await ledger.decide(request({ op: 'apply', partner: 'province', id: 'SQ-freed', start: freeFrom, end: freeFrom + 2 * HOUR }));
    expect(inTime.held === false && inTime.decision).to.deep.include({ outcome: 'approved', roomId: 'ZZ-PBS-01' });
  });

  it('when the reported end is after the booked end, or a second end comes later, the booking is never lengthened', async () => {
    await confirmed('CSR-1');
    const late = await ledger.recordLifecycle(report({ status: 'ended', at: END + HOUR, trackingNo: 'T-late' }));
    expect(late).to.deep.include({ outcome: 'recorded', status: 'ended', end: END });
    expect(late.bookedEnd).to.equal(undefined);
    await ledger.recordLifecycle(report({ status: 'ended', at: END - HOUR, trackingNo: 'T-earlier' }));
    const again = await ledger.recordLifecycle(report({ status: 'ended', at: END - 30 * MINUTE, trackingNo: 'T-later-again' }));
    expect(again).to.deep.include({ end: END - HOUR, bookedEnd: END });
    expect((await ledger.bookings()).map((booking) => booking.end)).to.deep.equal([END - HOUR]);
  });

  it('when the same report is recorded twice (a job run again), the second is a repeat and the history keeps one entry', async () => {
    await confirmed('CSR-1');
    await ledger.recordLifecycle(report({ status: 'started', at: START, trackingNo: 'T-start' }));
    const repeat = await ledger.recordLifecycle(report({ status: 'started', at: START, trackingNo: 'T-start' }));
    expect(repeat.outcome).to.equal('repeat');
    expect(await ledger.lifecycle('changsha', 'CSR-1')).to.deep.equal([{ status: 'started', at: START, trackingNo: 'T-start' }]);
  });

  it('when reports overtake each other, the history is in the host\'s order and the latest by time is the status', async () => {
    await confirmed('CSR-1');
    await ledger.recordLifecycle(report({ status: 'started', at: START, trackingNo: 'T-start' }));
    await ledger.recordLifecycle(report({ status: 'resumed', at: START + 2 * HOUR, trackingNo: 'T-resume' }));
    const paused = await ledger.recordLifecycle(report({ status: 'paused', at: START + HOUR, reason: '专家回避', trackingNo: 'T-pause' }));
    expect(paused.status).to.equal('resumed');
    expect(paused.history.map((entry) => entry.status)).to.deep.equal(['started', 'paused', 'resumed']);
    expect(paused.history[1]).to.deep.equal({ status: 'paused', at: START + HOUR, reason: '专家回避', trackingNo: 'T-pause' });
    const states = await ledger.requestStates(['changsha:CSR-1']);
    expect(states.get('changsha:CSR-1')?.lifecycle).to.deep.equal({ status: 'resumed', at: START + 2 * HOUR });
  });

  it('when the request is unknown, only held, or released, nothing is recorded and nothing freed', async () => {
    expect((await ledger.recordLifecycle(report({ id: 'CSR-unknown', status: 'started', at: START, trackingNo: 'T-1' }))).outcome).to.equal('not-in-force');
    await ledger.decide({ ...request({ op: 'hold', id: 'CSR-held' }), offerId: 'O-held', holdUntil: DAY_START + 30 * MINUTE });
    const onHold = await ledger.recordLifecycle(report({ id: 'CSR-held', status: 'ended', at: START + HOUR, trackingNo: 'T-2' }));
    expect(onHold).to.deep.include({ outcome: 'not-in-force', history: [], end: END });
    expect((await ledger.bookings()).map((booking) => booking.end)).to.deep.equal([END]);
    expect(await ledger.lifecycle('changsha', 'CSR-held')).to.deep.equal([]);
  });

  it('when an ended booking is then released, its shortened occupancy goes too', async () => {
    await confirmed('CSR-1');
    await ledger.recordLifecycle(report({ status: 'ended', at: START + HOUR, trackingNo: 'T-end' }));
    const released = await ledger.decide(request({ op: 'release', id: 'CSR-1', reason: 'OTHER', trackingNo: 'T-release' }));
    expect(released.held === false && released.decision.outcome).to.equal('released');
    expect(await ledger.bookings()).to.deep.equal([]);
  });
});
