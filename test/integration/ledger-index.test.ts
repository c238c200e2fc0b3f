import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { Keys } from '../../kernel/redis/keys.ts';
import { loadConfig, type RoomConfig } from '../../config/index.ts';
import { RoomLedger, type Booking, type LedgerRequest, type LedgerResult } from '../../ledger/index.ts';
import { deleteNamespace, testEnv, testRedisUrl } from '../helpers/gateway.ts';

const HOUR = 3600 * 1000;
const DAY_START = Date.parse('2027-03-03T08:00:00+08:00');

/** Two bookings of one resource overlapping (the buffer aside): what the ledger must never leave. */
function clashes(bookings: Booking[]): Booking[] {
  return bookings.filter((booking, n, all) => all.some((other, m) => m !== n && other.resource === booking.resource && other.start < booking.end && booking.start < other.end));
}

describe('room ledger: the occupancy index as masks, on real Redis', () => {
  let redis: Redis;
  let namespace: string;
  let defaultRooms: readonly RoomConfig[];
  let bufferMinutes: number;

  beforeEach(() => {
    namespace = `t-${randomBytes(6).toString('hex')}`;
    const config = loadConfig({ env: testEnv(namespace, 'http://127.0.0.1:9') });
    defaultRooms = config.ledger.rooms;
    bufferMinutes = config.ledger.bufferMinutes;
    redis = new Redis(testRedisUrl());
  });
  afterEach(async () => {
    redis.disconnect();
    await deleteNamespace(testRedisUrl(), namespace);
  });

  const ledgerWith = (rooms: readonly RoomConfig[]) => new RoomLedger(redis, new Keys(namespace), rooms, bufferMinutes);

  function apply(id: string, seats: number, hours: [number, number] = [1, 4]): LedgerRequest {
    return { op: 'apply', id, partner: 'province', start: DAY_START + hours[0] * HOUR, end: DAY_START + hours[1] * HOUR, seats, now: DAY_START, notifyId: randomBytes(16).toString('hex'), trackingNo: `T-${id}`, decidedAt: new Date(DAY_START).toISOString() };
  }

  function decided(result: LedgerResult) {
    if (result.held) return expect.fail('an apply is never held');
    return result.decision;
  }

  it('when an index from before the masks lists resource names, the next decision rewrites it as masks over the layout, keeps every booking, and books nothing twice', async () => {
    const keys = new Keys(namespace).ledger;
    const rooms = defaultRooms.filter((room) => room.kind === 'room');
    const hall = defaultRooms.find((room) => room.kind === 'hall');
    if (!hall) return expect.fail('the default rooms have a hall');
    const [s, e] = [(DAY_START + HOUR) / 1000, (DAY_START + 4 * HOUR) / 1000];
    // every room and the hall's first 10 seats taken 09:00–12:00, as the index of names wrote them
    for (const [n, room] of rooms.entries()) await redis.zadd(keys.occupancyIndex, s, `${s}:${e}:province:SQ${n}|${room.id}`);
    const hallSeats = Array.from({ length: 10 }, (_, n) => `${hall.id}-${String(n + 1).padStart(2, '0')}`);
    await redis.zadd(keys.occupancyIndex, s, `${s}:${e}:province:SQ-hall|${hallSeats.join(',')}`);
    await redis.set(keys.occupancyIndexBuilt, '1');
    await redis.set(`${keys.base}:occ-index:span`, String(e - s));
    const ledger = ledgerWith(defaultRooms);
    const before = await ledger.bookings();
    expect(before).to.have.length(rooms.length + 10);

    // three seats wanted, two free in the hall: no room nor enough seats
    expect(decided(await ledger.decide(apply('SQ-three', 3))).reason).to.equal('NO_CAPACITY');
    const two = decided(await ledger.decide(apply('SQ-two', 2)));
    expect(two.outcome).to.equal('approved');
    expect(two.seatIds).to.deep.equal([`${hall.id}-11`, `${hall.id}-12`]);

    expect(await redis.hget(keys.occupancyIndexMeta, 'layout')).to.be.a('string');
    expect(await redis.exists(keys.occupancyIndexBuilt, `${keys.base}:occ-index:span`)).to.equal(0);
    const members = await redis.zrange(keys.occupancyIndex, '0', '-1');
    expect(members.some((member) => member.includes(hall.id) || member.includes('ZZ-PBS'))).to.equal(false);
    const after = await ledger.bookings();
    expect(after.filter((booking) => booking.owner !== 'province:SQ-two')).to.have.deep.members(before);
    expect(clashes(after)).to.deep.equal([]);
  });

  it('when the rooms change, the next decision rewrites the masks over the new layout, keeps a removed room by name, and nothing is double-booked when it comes back', async () => {
    const keys = new Keys(namespace).ledger;
    const [first, second] = defaultRooms;
    if (!first || !second) return expect.fail('the default rooms have two rooms');
    const before = ledgerWith(defaultRooms);
    const inFirst = decided(await before.decide(apply('SQ-a', first.seats)));
    expect(inFirst.roomId).to.not.equal('');
    const booked = await before.bookings();

    // a room removed and a new one added ahead of the rest: every bit moves
    const added: RoomConfig = { ...second, id: 'ZZ-NEW-01', seats: 2 };
    const changed = [added, ...defaultRooms.filter((room) => room.id !== inFirst.roomId)];
    const during = ledgerWith(changed);
    const newRoom = decided(await during.decide(apply('SQ-b', 2)));
    expect(newRoom.roomId).to.equal('ZZ-NEW-01');
    const layout = await redis.hget(keys.occupancyIndexMeta, 'layout');
    expect(layout?.split(',')[0]).to.equal('ZZ-NEW-01');
    const kept = await during.bookings();
    expect(kept.filter((booking) => booking.owner === 'province:SQ-a')).to.deep.equal(booked);

    // the room comes back: its booking is a bit again, and nothing takes it in that window
    const again = ledgerWith([...defaultRooms]);
    const wantsIt = decided(await again.decide({ ...apply('SQ-c', first.seats), start: DAY_START + 2 * HOUR, end: DAY_START + 3 * HOUR }));
    expect(wantsIt.roomId).to.not.equal(inFirst.roomId);
    const all = await again.bookings();
    expect(all.filter((booking) => booking.owner === 'province:SQ-a')).to.deep.equal(booked);
    expect(clashes(all)).to.deep.equal([]);
  });

  it('when a hall has more seats than one mask word holds, seats past the first word are taken, freed and never given twice', async () => {
    const hall: RoomConfig = { ...(defaultRooms.find((room) => room.kind === 'hall') as RoomConfig), id: 'ZZ-BIG', seats: 70 };
    const ledger = ledgerWith([hall]);
    const first = decided(await ledger.decide(apply('SQ-1', 40)));
    const second = decided(await ledger.decide(apply('SQ-2', 29)));
    expect(first.outcome).to.equal('approved');
    expect(second.seatIds).to.deep.equal(Array.from({ length: 29 }, (_, n) => `ZZ-BIG-${String(n + 41).padStart(2, '0')}`));
    expect(decided(await ledger.decide(apply('SQ-3', 2))).reason).to.equal('NO_CAPACITY');
    const last = decided(await ledger.decide(apply('SQ-4', 1)));
    expect(last.seatIds).to.deep.equal(['ZZ-BIG-70']);
    expect(clashes(await ledger.bookings())).to.deep.equal([]);
    expect(await ledger.bookings()).to.have.length(70);

    // cancelling the 29 frees exactly them, deep in the second and third words
    const cancel = decided(await ledger.decide({ ...apply('SQ-5', 0), op: 'cancel', replaces: 'SQ-2' }));
    expect(cancel.outcome).to.equal('cancelled');
    const refill = decided(await ledger.decide(apply('SQ-6', 29)));
    expect(refill.seatIds).to.deep.equal(second.seatIds);
  });
});
