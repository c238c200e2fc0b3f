import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { Keys } from '../../kernel/redis/keys.ts';
import { loadConfig } from '../../config/index.ts';
import { RoomLedger, type LedgerRequest } from '../../ledger/index.ts';
import { deleteNamespace, testEnv, testRedisUrl } from '../helpers/gateway.ts';

const HOUR = 3600 * 1000;
const DAY_START = Date.parse('2027-03-03T08:00:00+08:00');

describe('room ledger on real Redis', () => {
  let redis: Redis;
  let namespace: string;
  let ledger: RoomLedger;

  beforeEach(() => {
    namespace = `t-${randomBytes(6).toString('hex')}`;
    const config = loadConfig({ env: testEnv(namespace, 'http://127.0.0.1:9') });
    redis = new Redis(testRedisUrl());
    ledger = new RoomLedger(redis, new Keys(namespace), config.ledger.rooms, config.ledger.bufferMinutes);
  });
  afterEach(async () => {
    redis.disconnect();
    await deleteNamespace(testRedisUrl(), namespace);
  });

  function request(overrides: Partial<LedgerRequest> & Pick<LedgerRequest, 'op' | 'id'>): LedgerRequest {
    return { partner: 'province', start: DAY_START + HOUR, end: DAY_START + 4 * HOUR, seats: 3, now: DAY_START, notifyId: randomBytes(16).toString('hex'), trackingNo: `T-${overrides.id}`, decidedAt: new Date(DAY_START).toISOString(), ...overrides };
  }

  it('when the same request is decided twice, the second call returns the first decision and books nothing more', async () => {
    const first = await ledger.decide(request({ op: 'apply', id: 'SQ1' }));
    const second = await ledger.decide(request({ op: 'apply', id: 'SQ1' }));
    expect(first.held).to.equal(false);
    expect(second.held).to.equal(false);
    if (first.held || second.held) return;
    expect(second.alreadyDecided).to.equal(true);
    expect(second.decision).to.deep.equal(first.decision);
    expect(await ledger.bookings()).to.have.length(1);
  });

  it('when a ledger from before the occupancy index decides, the index is built from its sets a resource first, they go, and nothing is double-booked', async () => {
    const config = loadConfig({ env: testEnv(namespace, 'http://127.0.0.1:9') });
    const keys = new Keys(namespace).ledger;
    // every single-project room taken 09:00–12:00, written as the ledger wrote it before the index
    const rooms = config.ledger.rooms.filter((room) => room.kind === 'room');
    const [s, e] = [(DAY_START + HOUR) / 1000, (DAY_START + 4 * HOUR) / 1000];
    for (const [n, room] of rooms.entries()) await redis.zadd(keys.occupancy(room.id), s, `${s}:${e}:province:SQ${n}`);
    expect((await ledger.bookings()).map((booking) => booking.owner)).to.have.length(rooms.length);
    const after = await ledger.decide(request({ op: 'apply', id: 'SQ-late', seats: 2 }));
    if (after.held) return expect.fail('an apply is never held');
    // no room is free: the hall takes it, seat by seat
    expect(after.decision.outcome).to.equal('approved');
    expect(rooms.map((room) => room.id)).to.not.include(after.decision.roomId);
    expect(await redis.zcard(keys.occupancyIndex)).to.equal(rooms.length + 1);
    expect(await redis.exists(...rooms.map((room) => keys.occupancy(room.id)))).to.equal(0);
    const bookings = await ledger.bookings();
    expect(new Set(bookings.map((booking) => booking.owner)).size).to.equal(rooms.length + 1);
    const clashes = bookings.filter((booking, n, all) => all.some((other, m) => m !== n && other.resource === booking.resource && other.start < booking.end && booking.start < other.end));
    expect(clashes).to.deep.equal([]);
  });

  it('when asked for a window, bookings returns those overlapping it, ends excluded, and only those', async () => {
    const DAY = 24 * HOUR;
    // 09:00–12:00 today, 13:00–15:00 today, 09:00–12:00 two days on
    await ledger.decide(request({ op: 'apply', id: 'SQ1' }));
    await ledger.decide(request({ op: 'apply', id: 'SQ2', start: DAY_START + 5 * HOUR, end: DAY_START + 7 * HOUR }));
    await ledger.decide(request({ op: 'apply', id: 'SQ3', start: DAY_START + 2 * DAY + HOUR, end: DAY_START + 2 * DAY + 4 * HOUR }));
    const owners = async (from: number, to: number) => [...new Set((await ledger.bookings({ from, to })).map((booking) => booking.owner))].sort();
    expect(await owners(DAY_START, DAY_START + DAY)).to.deep.equal(['province:SQ1', 'province:SQ2']);
    // 11:00–13:00 overlaps the first only: the second starts at 13:00, the end of the window
    expect(await owners(DAY_START + 3 * HOUR, DAY_START + 5 * HOUR)).to.deep.equal(['province:SQ1']);
    // from 12:00: the first has ended
    expect(await owners(DAY_START + 4 * HOUR, DAY_START + DAY)).to.deep.equal(['province:SQ2']);
    expect(await owners(DAY_START + DAY, DAY_START + 3 * DAY)).to.deep.equal(['province:SQ3']);
    expect((await ledger.bookings()).length).to.equal((await ledger.bookings({ from: DAY_START - DAY, to: DAY_START + 4 * DAY })).length);
  });

  it('when the worker dies between deciding an original and re-queuing what waited on it, deciding again still lists the waiting message', async () => {
    const held = await ledger.decide(request({ op: 'change', id: 'BG1', replaces: 'SQ1', trackingNo: 'T-BG1' }));
    expect(held.held).to.equal(true);
    const decided = await ledger.decide(request({ op: 'apply', id: 'SQ1' }));
    expect(decided.held === false && decided.resume).to.deep.equal(['T-BG1']);
    // the crash: `resumed` was never called; the job runs again
    const again = await ledger.decide(request({ op: 'apply', id: 'SQ1' }));
    expect(again.held === false && again.resume).to.deep.equal(['T-BG1']);
    await ledger.resumed('province', 'SQ1', 'T-BG1');
    const afterwards = await ledger.decide(request({ op: 'apply', id: 'SQ1' }));
    expect(afterwards.held === false && afterwards.resume).to.deep.equal([]);
  });

  it('when a change moves to a window its own old booking overlaps, that booking counts as free', async () => {
    await ledger.decide(request({ op: 'apply', id: 'SQ1', seats: 9 }));
    const change = await ledger.decide(request({ op: 'change', id: 'BG1', replaces: 'SQ1', seats: 9, start: DAY_START + 2 * HOUR, end: DAY_START + 6 * HOUR }));
    expect(change.held === false && change.decision).to.deep.include({ outcome: 'approved', roomId: 'ZZ-PBS-01' });
    const bookings = await ledger.bookings();
    expect(bookings).to.deep.equal([{ resource: 'ZZ-PBS-01', owner: 'province:BG1', start: DAY_START + 2 * HOUR, end: DAY_START + 6 * HOUR }]);
  });

  it('when a cancel names a request already cancelled, it is rejected NOT_IN_FORCE and frees nothing else', async () => {
    await ledger.decide(request({ op: 'apply', id: 'SQ1' }));
    await ledger.decide(request({ op: 'apply', id: 'SQ2' }));
    await ledger.decide(request({ op: 'cancel', id: 'QX1', replaces: 'SQ1' }));
    const second = await ledger.decide(request({ op: 'cancel', id: 'QX2', replaces: 'SQ1' }));
    expect(second.held === false && second.decision).to.deep.include({ outcome: 'rejected', reason: 'NOT_IN_FORCE' });
    expect((await ledger.bookings()).map((booking) => booking.owner)).to.deep.equal(['province:SQ2']);
  });
  it('when a confirm names an offer that was never made while the hold is live, it is answered HOLD_EXPIRED and the hold is released with it', async () => {
    await ledger.decide(request({ op: 'hold', id: 'H1', partner: 'changsha', offerId: 'OF-1', holdUntil: DAY_START + HOUR }));
    const confirm = await ledger.decide(request({ op: 'confirm', id: 'H1', partner: 'changsha', offerId: 'OF-0', now: DAY_START + 60_000 }));
    expect(confirm.held === false && confirm.decision).to.deep.include({ outcome: 'released', reason: 'HOLD_EXPIRED' });
    expect(await ledger.bookings()).to.deep.equal([]);
    const expiry = await ledger.decide(request({ op: 'expire', id: 'H1', partner: 'changsha', offerId: 'OF-1', now: DAY_START + HOUR }));
    expect(expiry.held === false && expiry.decision.outcome).to.equal('unchanged');
  });

  it('when a change replaces a hall booking and a single-project room fits, it moves to the room (the hall only when no room fits)', async () => {
    await ledger.decide(request({ op: 'apply', id: 'SQ1', seats: 10 }));
    const change = await ledger.decide(request({ op: 'change', id: 'BG1', replaces: 'SQ1', seats: 3 }));
    expect(change.held === false && change.decision).to.deep.include({ outcome: 'approved', roomId: 'ZZ-PBS-05' });
  });
});
