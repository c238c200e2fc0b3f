import { expect } from 'chai';
import axios from 'axios';
import type { ChildProcess } from 'node:child_process';
import { at, futureDay } from '../helpers/dates.ts';
import { API_KEY, waitForDelivered, spawnGatewayProcess, startTestGateway, stopProcess, testEnv, type TestGateway } from '../helpers/gateway.ts';
import { applyData, seriesNumber } from '../simulators/province-traffic.ts';
import type { ProvinceApplyData } from '../../schemas/types.generated.ts';
import type { Booking } from '../../ledger/index.ts';
import { jobId } from '../../queues/names.ts';

function changeOf(original: { SERIES_NUMBER: string }, data: ProvinceApplyData, remark = '评标时间调整') {
  return { ...data, SERIES_NUMBER: seriesNumber('BG'), ORIGINAL_SERIES_NUMBER: original.SERIES_NUMBER, REMARK: remark };
}

function cancelOf(original: { SERIES_NUMBER: string }) {
  return { SERIES_NUMBER: seriesNumber('QX'), ORIGINAL_SERIES_NUMBER: original.SERIES_NUMBER, REMARK: '招标人申请延期' };
}

/** Pairs of bookings of one resource whose windows, widened by the buffer, overlap. */
function doubleBookings(bookings: Booking[], bufferMs: number): [Booking, Booking][] {
  const clashes: [Booking, Booking][] = [];
  for (const [i, a] of bookings.entries()) {
    for (const b of bookings.slice(i + 1)) {
      if (a.resource === b.resource && a.start - bufferMs < b.end && b.start - bufferMs < a.end) clashes.push([a, b]);
    }
  }
  return clashes;
}

describe('province link end to end (real Redis, province simulator over HTTP)', () => {
  let gateway: TestGateway;
  const day = futureDay({ open: true });

  beforeEach(async () => {
    gateway = await startTestGateway();
  });
  afterEach(async () => {
    await gateway.close();
  });

  async function decide(data: ProvinceApplyData) {
    expect((await gateway.province.send('apply', data)).status).to.equal(200);
    return gateway.simulator.waitForNotify(data.SERIES_NUMBER);
  }

  it('when 3 seats are asked, approves the smallest room that fits, naming exactly 3 seats and its address, signed as ZZ430200', async () => {
    const notify = await decide(applyData({ start: at(day, '09:00'), end: at(day, '17:30'), SEAT_COUNT: 3 }));
    expect(notify.signatureValid).to.equal(true);
    expect(notify.validation.SYSTEM_NO).to.equal('ZZ430200');
    expect(notify.data).to.deep.include({ STATUS: '1', AREA_CODE: '430200', CENTER_NAME: '株洲市公共资源交易中心', EVAL_ROOM_NAME: 'ZZ-PBS-05', REMARK: '' });
    expect(notify.data['SEAT_NUMBER']).to.deep.equal(['ZZ-PBS-05-01', 'ZZ-PBS-05-02', 'ZZ-PBS-05-03']);
    expect(notify.data['EVAL_ROOM_ADDR']).to.equal('株洲市天元区黄河南路市民中心B座3楼305');
  });

  it('when rooms fill up, goes to the next best room, then the hall by seat, then rejects NO_CAPACITY', async () => {
    const rooms: string[] = [];
    // 5 seats: ZZ-PBS-03, ZZ-PBS-04, ZZ-PBS-02 (7), ZZ-PBS-01 (9), then hall seats, then hall seats, then no capacity
    for (let n = 0; n < 7; n++) {
      const notify = await decide(applyData({ start: at(day, '09:00'), end: at(day, '12:00'), SEAT_COUNT: 5 }));
      rooms.push(notify.data['STATUS'] === '1' ? String(notify.data['EVAL_ROOM_NAME']) : String(notify.data['REMARK']));
      if (n === 4) expect(notify.data['SEAT_NUMBER']).to.deep.equal(['ZZ-GW-A-01', 'ZZ-GW-A-02', 'ZZ-GW-A-03', 'ZZ-GW-A-04', 'ZZ-GW-A-05']);
      if (n === 5) expect(notify.data['SEAT_NUMBER']).to.deep.equal(['ZZ-GW-A-06', 'ZZ-GW-A-07', 'ZZ-GW-A-08', 'ZZ-GW-A-09', 'ZZ-GW-A-10']);
    }
    expect(rooms).to.deep.equal(['ZZ-PBS-03', 'ZZ-PBS-04', 'ZZ-PBS-02', 'ZZ-PBS-01', 'ZZ-GW-A', 'ZZ-GW-A', 'NO_CAPACITY']);
    const rejected = gateway.simulator.received.at(-1);
    expect(rejected?.data).to.deep.include({ STATUS: '2', EVAL_ROOM_NAME: '', EVAL_ROOM_ADDR: '', SEAT_NUMBER: [] });
  });

  it('when a booking ends less than the 30-minute buffer before the next starts, the next gets another room; at 30 minutes, the same room', async () => {
    const first = await decide(applyData({ start: at(day, '09:00'), end: at(day, '12:00'), SEAT_COUNT: 3 }));
    const tooClose = await decide(applyData({ start: at(day, '12:20'), end: at(day, '15:00'), SEAT_COUNT: 3 }));
    const justEnough = await decide(applyData({ start: at(day, '15:30'), end: at(day, '17:00'), SEAT_COUNT: 3 }));
    expect(first.data['EVAL_ROOM_NAME']).to.equal('ZZ-PBS-05');
    expect(tooClose.data['EVAL_ROOM_NAME']).to.equal('ZZ-PBS-06');
    expect(justEnough.data['EVAL_ROOM_NAME']).to.equal('ZZ-PBS-05');
  });

  it('when the day is a statutory holiday or weekend, rejects CENTER_CLOSED', async () => {
    const closed = futureDay({ open: false });
    const notify = await decide(applyData({ start: at(closed, '09:00'), end: at(closed, '12:00') }));
    expect(notify.data).to.deep.include({ STATUS: '2', REMARK: 'CENTER_CLOSED' });
  });

  it('when a change fits its room over the new window, keeps that room and frees the old window', async () => {
    const original = applyData({ start: at(day, '09:00'), end: at(day, '12:00'), SEAT_COUNT: 3 });
    await decide(original);
    const change = changeOf(original, applyData({ start: at(day, '10:00'), end: at(day, '16:00'), SEAT_COUNT: 2 }));
    expect((await gateway.province.send('change', change)).status).to.equal(200);
    const notify = await gateway.simulator.waitForNotify(change.SERIES_NUMBER);
    expect(notify.data).to.deep.include({ STATUS: '1', EVAL_ROOM_NAME: 'ZZ-PBS-05' });
    expect(notify.data['SEAT_NUMBER']).to.have.length(2);
    const bookings = await gateway.runtime.ledger.bookings();
    expect(bookings.map((b) => b.owner)).to.deep.equal([`province:${change.SERIES_NUMBER}`]);
  });

  it('when a change cannot be placed, rejects it and the original stays in force', async () => {
    const original = applyData({ start: at(day, '09:00'), end: at(day, '12:00'), SEAT_COUNT: 3 });
    await decide(original);
    const change = changeOf(original, applyData({ start: at(day, '09:00'), end: at(day, '12:00'), SEAT_COUNT: 15 }));
    await gateway.province.send('change', change);
    const notify = await gateway.simulator.waitForNotify(change.SERIES_NUMBER);
    expect(notify.data).to.deep.include({ STATUS: '2', REMARK: 'NO_CAPACITY' });
    const bookings = await gateway.runtime.ledger.bookings();
    expect(bookings.map((booking) => [booking.owner, booking.resource])).to.deep.equal([[`province:${original.SERIES_NUMBER}`, 'ZZ-PBS-05']]);
  });

  it('when a change of an apply was rejected, a cancel of that apply is accepted, frees its room and is answered CANCELLED', async () => {
    const original = applyData({ start: at(day, '09:00'), end: at(day, '12:00'), SEAT_COUNT: 3 });
    await decide(original);
    const change = changeOf(original, applyData({ start: at(day, '09:00'), end: at(day, '12:00'), SEAT_COUNT: 15 }));
    await gateway.province.send('change', change);
    expect((await gateway.simulator.waitForNotify(change.SERIES_NUMBER)).data).to.deep.include({ STATUS: '2' });
    // province.md, Order and chains: a rejected change no longer names the request it named
    const cancel = cancelOf(original);
    expect((await gateway.province.send('cancel', cancel)).status).to.equal(200);
    expect((await gateway.simulator.waitForNotify(cancel.SERIES_NUMBER)).data).to.deep.include({ STATUS: '1', REMARK: 'CANCELLED' });
    expect(await gateway.runtime.ledger.bookings()).to.deep.equal([]);
  });

  it('when a change of an apply was approved, a cancel naming the apply is still a conflict (409): the change keeps its claim', async () => {
    const original = applyData({ start: at(day, '09:00'), end: at(day, '12:00'), SEAT_COUNT: 3 });
    await decide(original);
    const change = changeOf(original, applyData({ start: at(day, '13:00'), end: at(day, '15:00'), SEAT_COUNT: 3 }));
    await gateway.province.send('change', change);
    expect((await gateway.simulator.waitForNotify(change.SERIES_NUMBER)).data).to.deep.include({ STATUS: '1' });
    // approved: the change is now the request in force, and it keeps its claim on the original
    expect((await gateway.province.send('cancel', cancelOf(original))).status).to.equal(409);
  });

  it('when a cancel arrives, releases the booking and answers CANCELLED; a later change of it is NOT_IN_FORCE', async () => {
    const original = applyData({ start: at(day, '09:00'), end: at(day, '12:00') });
    await decide(original);
    const cancel = cancelOf(original);
    await gateway.province.send('cancel', cancel);
    const cancelled = await gateway.simulator.waitForNotify(cancel.SERIES_NUMBER);
    expect(cancelled.data).to.deep.include({ STATUS: '1', REMARK: 'CANCELLED' });
    expect(await gateway.runtime.ledger.bookings()).to.deep.equal([]);
  });

  it('when the change and cancel of a chain arrive before their apply, holds them and applies the chain in order', async () => {
    const apply = applyData({ start: at(day, '09:00'), end: at(day, '12:00'), SEAT_COUNT: 3 });
    const change = changeOf(apply, applyData({ start: at(day, '13:00'), end: at(day, '17:00'), SEAT_COUNT: 5 }));
    const cancel = cancelOf(change);
    expect((await gateway.province.send('cancel', cancel)).status).to.equal(200);
    expect((await gateway.province.send('change', change)).status).to.equal(200);
    expect((await gateway.province.send('apply', apply)).status).to.equal(200);
    const [applied, changed, cancelled] = await Promise.all([
      gateway.simulator.waitForNotify(apply.SERIES_NUMBER),
      gateway.simulator.waitForNotify(change.SERIES_NUMBER),
      gateway.simulator.waitForNotify(cancel.SERIES_NUMBER),
    ]);
    expect(applied.data['STATUS']).to.equal('1');
    expect(changed.data).to.deep.include({ STATUS: '1', EVAL_ROOM_NAME: 'ZZ-PBS-03' });
    expect(cancelled.data).to.deep.include({ STATUS: '1', REMARK: 'CANCELLED' });
    const order = gateway.simulator.received.map((message) => message.data['SERIES_NUMBER']);
    expect(order).to.deep.equal([apply.SERIES_NUMBER, change.SERIES_NUMBER, cancel.SERIES_NUMBER]);
    expect(await gateway.runtime.ledger.bookings()).to.deep.equal([]);
  });

  it('when a change names a rejected request, answers NOT_IN_FORCE', async () => {
    const closed = futureDay({ open: false });
    const apply = applyData({ start: at(closed, '09:00'), end: at(closed, '12:00') });
    await decide(apply);
    const change = changeOf(apply, applyData({ start: at(day, '09:00'), end: at(day, '12:00') }));
    await gateway.province.send('change', change);
    expect((await gateway.simulator.waitForNotify(change.SERIES_NUMBER)).data).to.deep.include({ STATUS: '2', REMARK: 'NOT_IN_FORCE' });
    // answered NOT_IN_FORCE, the change names nothing any more: a cancel of the apply is taken and answered in turn
    const cancel = cancelOf(apply);
    expect((await gateway.province.send('cancel', cancel)).status).to.equal(200);
    expect((await gateway.simulator.waitForNotify(cancel.SERIES_NUMBER)).data).to.deep.include({ STATUS: '2', REMARK: 'NOT_IN_FORCE' });
  });

  it('when the province queries a decided request, sends the same notify again with the same DATAUUID', async () => {
    const apply = applyData({ start: at(day, '09:00'), end: at(day, '12:00') });
    const first = await decide(apply);
    expect((await gateway.province.send('query', { SERIES_NUMBER: apply.SERIES_NUMBER })).status).to.equal(200);
    const again = await gateway.simulator.waitForNotify(apply.SERIES_NUMBER, (message) => message !== first);
    expect(again.validation.DATAUUID).to.equal(first.validation.DATAUUID);
    expect(again.data).to.deep.equal(first.data);
  });

  it('when the same apply is pushed twice, decides it once and notifies once', async () => {
    const apply = applyData({ start: at(day, '09:00'), end: at(day, '12:00') });
    const envelope = gateway.province.envelope('apply', apply);
    await gateway.province.post('apply', envelope);
    await gateway.province.post('apply', envelope);
    await gateway.province.send('apply', apply);
    await gateway.simulator.waitForNotify(apply.SERIES_NUMBER);
    const probe = applyData({ start: at(day, '13:00'), end: at(day, '14:00') });
    await decide(probe);
    expect(gateway.simulator.notifiesFor(apply.SERIES_NUMBER)).to.have.length(1);
    expect(await gateway.runtime.ledger.bookings()).to.have.length(2);
  });

  it('when delivery fails with HTTP 500, State 503 and a timeout, retries and delivers, tracing each attempt', async () => {
    gateway.simulator.failNext('http-500', 'state-503', 'hang');
    const apply = applyData({ start: at(day, '09:00'), end: at(day, '12:00') });
    const response = await gateway.province.send('apply', apply);
    const notify = await gateway.simulator.waitForNotify(apply.SERIES_NUMBER);
    expect(notify.data['STATUS']).to.equal('1');
    const trackingNo = (response.data as { Data: { TRACKING_NO: string } }).Data.TRACKING_NO;
    await waitForDelivered(gateway.runtime, trackingNo);
    const trace = await axios.get(`${gateway.url}/api/v1/messages/${trackingNo}`, { headers: { 'X-Api-Key': API_KEY } });
    const attempts = (trace.data as { trace: { stage: string; kind?: string }[] }).trace.filter((entry) => entry.stage === 'delivery-attempt');
    expect(attempts.map((attempt) => attempt.kind)).to.deep.equal(['retry', 'retry', 'retry', 'delivered']);
  });

  it('when the province refuses a notify for good, keeps it in the dead letters; a replay delivers it', async () => {
    gateway.simulator.failNext('refuse');
    const apply = applyData({ start: at(day, '09:00'), end: at(day, '12:00') });
    await gateway.province.send('apply', apply);
    const headers = { 'X-Api-Key': API_KEY };
    let letters: { id: string; reason: string; trackingNo: string }[] = [];
    await new Promise<void>((resolve) => {
      const poll = async () => {
        letters = ((await axios.get(`${gateway.url}/api/v1/dead-letters`, { headers })).data as { items: typeof letters }).items;
        if (letters.length > 0) resolve();
        else setImmediate(() => void poll());
      };
      void poll();
    });
    expect(letters[0]?.reason).to.match(/^DELIVERY_REFUSED/);
    expect(gateway.simulator.notifiesFor(apply.SERIES_NUMBER)).to.have.length(0);
    const replay = await axios.post(`${gateway.url}/api/v1/dead-letters/${letters[0]?.id}/replay`, {}, { headers });
    expect(replay.status).to.equal(202);
    const notify = await gateway.simulator.waitForNotify(apply.SERIES_NUMBER);
    expect(notify.data['STATUS']).to.equal('1');
  });

  it('finds a message by DATAUUID, SERIES_NUMBER and section code, with the contact masked', async () => {
    const apply = applyData({ start: at(day, '09:00'), end: at(day, '12:00') });
    const envelope = gateway.province.envelope('apply', apply);
    const accepted = await gateway.province.post('apply', envelope);
    await gateway.simulator.waitForNotify(apply.SERIES_NUMBER);
    await waitForDelivered(gateway.runtime, (accepted.data as { Data: { TRACKING_NO: string } }).Data.TRACKING_NO);
    const headers = { 'X-Api-Key': API_KEY };
    for (const query of [`dataUuid=${envelope.validation.DATAUUID}`, `series=${apply.SERIES_NUMBER}`, `section=${apply.BID_SECTION_CODE}`]) {
      const found = await axios.get(`${gateway.url}/api/v1/messages?${query}`, { headers });
      const items = (found.data as { items: { raw: { data: Record<string, string> }; trace: { stage: string }[] }[] }).items;
      expect(items, query).to.have.length(1);
      expect(items[0]?.raw.data['TENDER_AGENT_PHONE']).to.equal('073******1234');
      expect(items[0]?.raw.data['TENDER_AGENT_CONTRACT']).to.equal('李*');
      expect(items[0]?.trace.map((entry) => entry.stage)).to.include.members(['received', 'canonical', 'decision', 'answer-sent', 'delivery-attempt']);
      expect(JSON.stringify(items[0])).to.not.include('28881234');
    }
    const unauthorised = await axios.get(`${gateway.url}/api/v1/messages?series=${apply.SERIES_NUMBER}`, { validateStatus: () => true });
    expect(unauthorised.status).to.equal(401);
  });
});

describe('province link with two worker processes', () => {
  let gateway: TestGateway;
  const workers: ChildProcess[] = [];

  before(async () => {
    gateway = await startTestGateway({ workers: false });
    const env = { ...testEnv(gateway.config.redis.namespace, gateway.simulator.url), GATEWAY_ROLE: 'worker', WORKER_CONCURRENCY: '4' };
    workers.push(...(await Promise.all([spawnGatewayProcess(env), spawnGatewayProcess(env)])));
  });
  after(async () => {
    await Promise.all(workers.map((worker) => stopProcess(worker)));
    await gateway.close();
  });

  it('when 40 overlapping applies burst in, no room or seat is ever booked twice and every apply is answered', async () => {
    const day = futureDay({ open: true, skip: 1 });
    const windows = [['09:00', '12:00'], ['10:00', '13:00'], ['11:30', '15:00'], ['13:00', '17:00']] as const;
    const applies = Array.from({ length: 40 }, (_, n) => {
      const [start, end] = windows[n % windows.length] ?? windows[0];
      return applyData({ start: at(day, start), end: at(day, end), SEAT_COUNT: 1 + (n % 6) });
    });
    const answers = await Promise.all(applies.map((apply) => gateway.province.send('apply', apply)));
    expect(answers.map((answer) => answer.status)).to.deep.equal(applies.map(() => 200));
    const notifies = await Promise.all(applies.map((apply) => gateway.simulator.waitForNotify(apply.SERIES_NUMBER)));
    const approved = notifies.filter((notify) => notify.data['STATUS'] === '1');
    expect(approved.length).to.be.greaterThan(4);
    for (const notify of approved) {
      const apply = applies.find((candidate) => candidate.SERIES_NUMBER === notify.data['SERIES_NUMBER']);
      expect(notify.data['SEAT_NUMBER']).to.have.length(apply?.SEAT_COUNT ?? -1);
    }
    const bookings = await gateway.runtime.ledger.bookings();
    expect(doubleBookings(bookings, 30 * 60 * 1000)).to.deep.equal([]);
    expect(new Set(bookings.map((booking) => booking.owner)).size).to.equal(approved.length);
  });
});

/** An apply and a change of it, for chains whose original comes late or never. */
function applyAndItsChange() {
  const day = futureDay({ open: true, skip: 2 });
  const apply = applyData({ start: at(day, '09:00'), end: at(day, '12:00') });
  return { apply, change: changeOf(apply, applyData({ start: at(day, '13:00'), end: at(day, '15:00') })) };
}

describe('province chains whose original arrives late', () => {
  it('when a held change is resumed by its original, its record ends processed and its hold timeout hands nothing to operators', async () => {
    // 0.0005 h: the held-timeout job is due after 1.8 s, long after the original resumes the change
    const gateway = await startTestGateway({ env: { HELD_ORIGINAL_TIMEOUT_HOURS: '0.0005' } });
    try {
      const { apply, change } = applyAndItsChange();
      expect((await gateway.province.send('change', change)).status).to.equal(200);
      expect((await gateway.province.send('apply', apply)).status).to.equal(200);
      expect((await gateway.simulator.waitForNotify(change.SERIES_NUMBER)).data['STATUS']).to.equal('1');

      const [changeTrackingNo = ''] = await gateway.runtime.traces.find('series', change.SERIES_NUMBER);
      const timeoutJobId = jobId(changeTrackingNo, 'held-timeout');
      while ((await gateway.runtime.inboundQueue.getJobState(timeoutJobId)) !== 'completed') await new Promise<void>((resolve) => setImmediate(resolve));
      expect(await gateway.runtime.redis.hget(gateway.runtime.keys.intake('province').record(changeTrackingNo), 'state')).to.equal('processed');
      expect(await gateway.runtime.deadLetters.list()).to.deep.equal([]);
    } finally {
      await gateway.close();
    }
  });
});

describe('province chains whose original never arrives', () => {
  it('when a held change waits longer than the configured time, hands it to operators as a dead letter; a replay after its original arrives decides it', async () => {
    const gateway = await startTestGateway();
    try {
      const { apply, change } = applyAndItsChange();
      const trackingNo = ((await gateway.province.send('change', change)).data as { Data: { TRACKING_NO: string } }).Data.TRACKING_NO;
      const timeout = jobId(trackingNo, 'held-timeout');
      // its 24 hours are the queue's delay: the test runs the timeout job now rather than wait them
      const held = async () => (await gateway.runtime.inboundQueue.getJob(timeout))?.getState();
      while ((await held()) !== 'delayed') await new Promise<void>((resolve) => setImmediate(resolve));
      await (await gateway.runtime.inboundQueue.getJob(timeout))?.promote();
      const letter = await new Promise<{ id: string; reason: string }>((resolve) => {
        const poll = async () => {
          const [first] = await gateway.runtime.deadLetters.list();
          if (first) resolve(first);
          else setImmediate(() => void poll());
        };
        void poll();
      });
      expect(letter.reason).to.match(/^ORIGINAL_NOT_RECEIVED/);
      expect(gateway.simulator.notifiesFor(change.SERIES_NUMBER)).to.have.length(0);

      await gateway.province.send('apply', apply);
      const changed = await gateway.simulator.waitForNotify(change.SERIES_NUMBER);
      expect(changed.data['STATUS']).to.equal('1');
    } finally {
      await gateway.close();
    }
  });
});
