import { expect } from 'chai';
import { isMakeBeforeBreak, ledgerClashes } from '../../chaos/checker.ts';
import { hostOwner, type Booking } from '../../ledger/index.ts';

const HOUR = 60 * 60 * 1000;
const BUFFER = 30 * 60 * 1000;
const NINE = Date.parse('2026-12-08T09:00:00+08:00');

function booking(owner: string, resource: string, fromHour: number, toHour: number): Booking {
  return { owner, resource, start: NINE + fromHour * HOUR, end: NINE + toHour * HOUR };
}

describe('chaos checker: double bookings and make before break (ledger rule 7)', () => {
  it('when a host evaluation\'s change hold overlaps its booking in force on the same seats, counts no double booking', () => {
    const clashes = ledgerClashes(
      [booking(hostOwner('HE1'), 'ZZ-PBS-05-01', 0, 8), booking(hostOwner('HE1', 1), 'ZZ-PBS-05-01', 1, 9), booking(hostOwner('HE1'), 'ZZ-PBS-05-02', 0, 8), booking(hostOwner('HE1', 1), 'ZZ-PBS-05-02', 1, 9)],
      BUFFER,
    );
    expect(clashes).to.deep.equal({ doubleBookings: 0, bufferViolations: 0, makeBeforeBreak: 2, examples: [] });
  });

  it('when a second change hold overlaps the first change in force, or lies within the buffer of it, counts neither a double booking nor a buffer violation', () => {
    const clashes = ledgerClashes([booking(hostOwner('HE1', 1), 'ZZ-PBS-03', 0, 4), booking(hostOwner('HE1', 2), 'ZZ-PBS-03', 2, 6), booking(hostOwner('HE1', 3), 'ZZ-PBS-03', 6.25, 8)], BUFFER);
    expect(clashes).to.include({ doubleBookings: 0, bufferViolations: 0, makeBeforeBreak: 2 });
  });

  it('when a change hold of one evaluation overlaps another evaluation\'s booking, counts a double booking', () => {
    const clashes = ledgerClashes([booking(hostOwner('HE1'), 'ZZ-PBS-03', 0, 8), booking(hostOwner('HE2', 1), 'ZZ-PBS-03', 1, 9)], BUFFER);
    expect(clashes).to.include({ doubleBookings: 1, makeBeforeBreak: 0 });
    expect(clashes.examples).to.deep.equal(['ZZ-PBS-03 booked twice: host:HE1 and host:HE2:C1']);
  });

  it('when a change hold overlaps a partner\'s booking, or two partners\' bookings overlap, counts each as a double booking', () => {
    const clashes = ledgerClashes(
      [booking(hostOwner('HE1', 1), 'ZZ-PBS-05-01', 0, 8), booking('province:SQ20261201100001000245', 'ZZ-PBS-05-01', 1, 9), booking('changsha:CSR-2026-1125-007', 'ZZ-PBS-05-02', 0, 8), booking('province:SQ20261201100001000246', 'ZZ-PBS-05-02', 1, 9)],
      BUFFER,
    );
    expect(clashes).to.include({ doubleBookings: 2, makeBeforeBreak: 0 });
  });

  it('when a host evaluation\'s first plan is booked twice under one owner, counts a double booking (no change is involved)', () => {
    const clashes = ledgerClashes([booking(hostOwner('HE1'), 'ZZ-PBS-03', 0, 8), booking(hostOwner('HE1'), 'ZZ-PBS-03', 1, 9)], BUFFER);
    expect(clashes).to.include({ doubleBookings: 1, makeBeforeBreak: 0 });
  });

  it('when two evaluations\' bookings come closer than the buffer, counts a buffer violation', () => {
    const clashes = ledgerClashes([booking(hostOwner('HE1'), 'ZZ-PBS-03', 0, 4), booking(hostOwner('HE2', 1), 'ZZ-PBS-03', 4.25, 8)], BUFFER);
    expect(clashes).to.include({ doubleBookings: 0, bufferViolations: 1, makeBeforeBreak: 0 });
  });

  it('tells make before break by owner: a change beside its own evaluation, not another evaluation, a partner or a look-alike name', () => {
    expect(isMakeBeforeBreak('host:HE1', 'host:HE1:C1')).to.equal(true);
    expect(isMakeBeforeBreak('host:HE1:C2', 'host:HE1')).to.equal(true);
    expect(isMakeBeforeBreak('host:HE1:C1', 'host:HE1:C2')).to.equal(true);
    expect(isMakeBeforeBreak('host:HE1', 'host:HE1')).to.equal(false);
    expect(isMakeBeforeBreak('host:HE1:C1', 'host:HE1:C1')).to.equal(false);
    expect(isMakeBeforeBreak('host:HE1:C1', 'host:HE10')).to.equal(false);
    expect(isMakeBeforeBreak('host:HE1:C1', 'province:HE1')).to.equal(false);
    expect(isMakeBeforeBreak('changsha:HE1:C1', 'changsha:HE1')).to.equal(false);
    expect(isMakeBeforeBreak('host:HE1:C0', 'host:HE1')).to.equal(false);
  });
});
