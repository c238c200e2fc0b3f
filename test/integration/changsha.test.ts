import axios from 'axios';
import { Redis } from 'ioredis';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPrivateRedis } from '../../scripts/lib/private-redis.ts';
import { expect } from 'chai';
import type { ChildProcess } from 'node:child_process';
import { at, futureDay } from '../helpers/dates.ts';
import { API_KEY, CHANGSHA, spawnGatewayProcess, startTestGateway, stopProcess, testEnv, type TestGateway } from '../helpers/gateway.ts';
import type { ChangshaWireEvent } from '../simulators/changsha.ts';
import { slotRequestedData } from '../simulators/changsha-client.ts';
import { fixedClock } from '../../kernel/clock.ts';
import { jobId } from '../../queues/names.ts';
import { applyData } from '../simulators/province-traffic.ts';
import type { Booking } from '../../ledger/index.ts';

/** `yyyyMMdd` and HH:mm to ISO 8601 with +08:00, as Changsha writes times. */
function iso(day: string, time: string): string {
  return `${day.slice(0, 4)}-${day.slice(4, 6)}-${day.slice(6, 8)}T${time}:00+08:00`;
}

const headers = { 'X-Api-Key': API_KEY };
const of = (type: string, requestId: string) => (event: ChangshaWireEvent) => event.eventType === type && (event.data as { requestId?: string }).requestId === requestId;

describe('Changsha intake: every answer of changsha.md', () => {
  let gateway: TestGateway;
  const day = futureDay({ open: true });
  beforeEach(async () => {
    gateway = await startTestGateway({ workers: false });
  });
  afterEach(async () => {
    await gateway.close();
  });

  it('when a signed slot.requested is valid, answers 202 with a tracking id; the same eventId again gets the same body', async () => {
    const event = gateway.changsha.event('slot.requested', slotRequestedData({ start: iso(day, '14:00'), end: iso(day, '18:00') }));
    const first = await gateway.changsha.post(event);
    const second = await gateway.changsha.post(event);
    expect(first.status).to.equal(202);
    expect(first.data).to.have.property('accepted', true);
    expect((first.data as { trackingId: string }).trackingId).to.match(/^[0-9A-Z]{26}$/);
    expect(second.status).to.equal(202);
    expect(second.data).to.deep.equal(first.data);
  });

  it('when the event is malformed, answers 400 problem+json listing every violation', async () => {
    const data = { ...slotRequestedData({ start: iso(day, '14:00'), end: iso(day, '18:00') }), seats: 16, color: 'red' };
    const response = await gateway.changsha.send('slot.requested', data);
    expect(response.status).to.equal(400);
    expect(response.headers['content-type']).to.match(/^application\/problem\+json/);
    expect(response.data).to.deep.include({ title: 'Invalid event', status: 400, detail: '2 violations' });
    expect((response.data as { errors: unknown[] }).errors).to.have.deep.members([
      { path: '/data/seats', message: 'must be <= 15' },
      { path: '/data', message: 'must NOT have additional properties: color' },
    ]);
  });

  it('when the signature is wrong, the key id unknown or the time stale, answers 401 Invalid signature', async () => {
    const data = () => slotRequestedData({ start: iso(day, '14:00'), end: iso(day, '18:00') });
    const wrongSecret = await gateway.changsha.send('slot.requested', data(), { secret: 'not-the-changsha-secret-000' });
    const unknownKey = await gateway.changsha.send('slot.requested', data(), { keyId: 'someone-else' });
    const stale = await gateway.changsha.send('slot.requested', data(), { timestamp: Math.floor(Date.now() / 1000) - 301 });
    for (const response of [wrongSecret, unknownKey, stale]) {
      expect(response.status).to.equal(401);
      expect(response.data).to.include({ title: 'Invalid signature', status: 401 });
    }
  });

  it('when signed with the previous secret during a rotation, or with several v1 of which one matches, accepts', async () => {
    const previous = await gateway.changsha.send('slot.requested', slotRequestedData({ start: iso(day, '14:00'), end: iso(day, '18:00') }), { secret: CHANGSHA.inboundPreviousSecret });
    expect(previous.status).to.equal(202);
    const event = gateway.changsha.event('slot.requested', slotRequestedData({ start: iso(day, '14:00'), end: iso(day, '18:00') }));
    const raw = JSON.stringify(event);
    const { signBody } = await import('../../adapters/changsha/signature.ts');
    const t = Math.floor(Date.now() / 1000);
    const response = await gateway.changsha.post(raw, { 'X-YCH-Signature': `t=${t},v1=${signBody('an-old-forgotten-secret-0000', t, raw)},v1=${signBody(CHANGSHA.inboundSecret, t, raw)}` });
    expect(response.status).to.equal(202);
  });

  it('when Changsha rotates to a second key id configured in CHANGSHA_INBOUND_KEYS, both key ids are accepted, each with its current and previous secret', async () => {
    await gateway.close();
    const second = { secret: 'changsha-second-key-secret-02', previousSecret: 'changsha-second-key-secret-01' };
    gateway = await startTestGateway({ workers: false, env: { CHANGSHA_INBOUND_KEYS: JSON.stringify({ 'changsha-key-2': second }) } });
    const data = () => slotRequestedData({ start: iso(day, '14:00'), end: iso(day, '18:00') });
    const answers = [
      await gateway.changsha.send('slot.requested', data()),
      await gateway.changsha.send('slot.requested', data(), { secret: CHANGSHA.inboundPreviousSecret }),
      await gateway.changsha.send('slot.requested', data(), { keyId: 'changsha-key-2', secret: second.secret }),
      await gateway.changsha.send('slot.requested', data(), { keyId: 'changsha-key-2', secret: second.previousSecret }),
    ];
    expect(answers.map((answer) => answer.status)).to.deep.equal([202, 202, 202, 202]);
    // a key id's secret is not accepted under another key id, and an unconfigured key id stays unknown
    const crossed = await gateway.changsha.send('slot.requested', data(), { keyId: 'changsha-key-2', secret: CHANGSHA.inboundSecret });
    const unknown = await gateway.changsha.send('slot.requested', data(), { keyId: 'changsha-key-3', secret: second.secret });
    expect([crossed.status, unknown.status]).to.deep.equal([401, 401]);
  });

  it('when a known requestId comes with other content, answers 409', async () => {
    const data = slotRequestedData({ start: iso(day, '14:00'), end: iso(day, '18:00') });
    expect((await gateway.changsha.send('slot.requested', data)).status).to.equal(202);
    const again = await gateway.changsha.send('slot.requested', { ...data, seats: data.seats + 1 });
    expect(again.status).to.equal(409);
    expect(again.headers['content-type']).to.match(/^application\/problem\+json/);
  });

  it('when the window or the host breaks the rules, answers 422 listing each', async () => {
    const data = { ...slotRequestedData({ start: iso(day, '18:00'), end: iso(day, '14:00') }), hostCenter: '430300' };
    const response = await gateway.changsha.send('slot.requested', data);
    expect(response.status).to.equal(422);
    const paths = (response.data as { errors: { path: string }[] }).errors.map((error) => error.path);
    expect(paths).to.include.members(['/data/end', '/data/hostCenter']);
  });

  it('when the body is over 256 KiB, answers 413 problem+json', async () => {
    const response = await gateway.changsha.post(JSON.stringify({ pad: 'x'.repeat(262_145) }));
    expect(response.status).to.equal(413);
    expect(response.headers['content-type']).to.match(/^application\/problem\+json/);
  });

  it('when over the rate limit, answers 429 with Retry-After', async () => {
    const limited = await startTestGateway({ workers: false, env: { CHANGSHA_RATE_LIMIT: '2' } });
    try {
      const answers = await Promise.all(Array.from({ length: 6 }, () => limited.changsha.send('slot.released', { requestId: 'CSR-limit-1', reason: 'OTHER' })));
      const limitedAnswer = answers.find((answer) => answer.status === 429);
      expect(limitedAnswer?.headers['retry-after']).to.match(/^\d+$/);
      expect(limitedAnswer?.data).to.include({ title: 'Too many requests', status: 429 });
    } finally {
      await limited.close();
    }
  });
});

describe('Changsha intake when Redis is down', () => {
  it('answers 503 problem+json with Retry-After, and once Redis is back from its AOF, nothing of that message was recorded', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'zzgw-cs-503-'));
    let redis = await startPrivateRedis(dir);
    const gateway = await startTestGateway({ workers: false, redisUrl: redis.url });
    try {
      await redis.stop();
      const day = futureDay({ open: true });
      const response = await gateway.changsha.send('slot.requested', slotRequestedData({ start: iso(day, '09:00'), end: iso(day, '10:00') }));
      expect(response.status).to.equal(503);
      expect(response.headers['retry-after']).to.match(/^\d+$/);
      expect(response.headers['content-type']).to.match(/^application\/problem\+json/);
      expect(response.data).to.include({ title: 'Service unavailable', status: 503 });
      redis = await startPrivateRedis(dir, redis.port);
      const check = new Redis(redis.url);
      try {
        expect(await check.keys(`${gateway.config.redis.namespace}:{in:changsha}:*`)).to.deep.equal([]);
        expect(await check.keys(`${gateway.config.redis.namespace}:trace:*`)).to.deep.equal([]);
      } finally {
        check.disconnect();
      }
    } finally {
      await gateway.close();
      await redis.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('Zhuzhou as guest for Changsha: holds, confirms, releases, expiry', () => {
  let gateway: TestGateway;
  beforeEach(async () => {
    gateway = await startTestGateway();
  });
  afterEach(async () => {
    await gateway.close();
  });

  it('when Changsha asks for 4 seats, offers the best-fit room with exactly 4 seats and a hold expiry; a confirm keeps the booking', async () => {
    const day = futureDay({ open: true });
    const data = slotRequestedData({ start: iso(day, '14:00'), end: iso(day, '18:00'), seats: 4 });
    await gateway.changsha.send('slot.requested', data);
    const offer = await gateway.changshaSimulator.waitForEvent(of('slot.offered', data.requestId));
    const offered = offer.data as { offerId: string; roomId: string; seatNumbers: string[]; holdExpiresAt: string };
    expect(offered.roomId).to.equal('ZZ-PBS-03');
    expect(offered.seatNumbers).to.deep.equal(['ZZ-PBS-03-01', 'ZZ-PBS-03-02', 'ZZ-PBS-03-03', 'ZZ-PBS-03-04']);
    expect(offered.holdExpiresAt).to.match(/\+08:00$/);
    const minutes = (Date.parse(offered.holdExpiresAt) - Date.now()) / 60000;
    expect(minutes).to.be.within(28, 30.1);

    await gateway.changsha.send('slot.confirmed', { requestId: data.requestId, offerId: offered.offerId });
    await waitFor(async () => (await gateway.runtime.ledger.lookup('changsha', data.requestId))?.state === 'in-force');
    expect((await gateway.runtime.ledger.bookings()).map((booking) => booking.owner)).to.deep.equal([`changsha:${data.requestId}`]);
  });

  it('when the day is closed, declines CENTER_CLOSED; when nothing fits, NO_CAPACITY', async () => {
    const closed = futureDay({ open: false });
    const onClosedDay = slotRequestedData({ start: iso(closed, '09:00'), end: iso(closed, '12:00') });
    const tooBig = slotRequestedData({ start: iso(futureDay({ open: true }), '09:00'), end: iso(futureDay({ open: true }), '12:00'), seats: 15 });
    await gateway.changsha.send('slot.requested', onClosedDay);
    await gateway.changsha.send('slot.requested', tooBig);
    expect((await gateway.changshaSimulator.waitForEvent(of('slot.declined', onClosedDay.requestId))).data).to.deep.include({ reason: 'CENTER_CLOSED' });
    expect((await gateway.changshaSimulator.waitForEvent(of('slot.declined', tooBig.requestId))).data).to.deep.include({ reason: 'NO_CAPACITY' });
  });

  it('when Changsha releases a hold, the seats are free again and nothing is sent back', async () => {
    const day = futureDay({ open: true });
    const data = slotRequestedData({ start: iso(day, '09:00'), end: iso(day, '12:00'), seats: 3 });
    await gateway.changsha.send('slot.requested', data);
    await gateway.changshaSimulator.waitForEvent(of('slot.offered', data.requestId));
    await gateway.changsha.send('slot.released', { requestId: data.requestId, reason: 'PROJECT_POSTPONED' });
    await waitFor(async () => (await gateway.runtime.ledger.bookings()).length === 0);
    expect(gateway.changshaSimulator.eventsOf('slot.released', data.requestId)).to.deep.equal([]);
  });

  it('when a release arrives before its request, the request ends holding nothing and no offer is made', async () => {
    const day = futureDay({ open: true });
    const data = slotRequestedData({ start: iso(day, '09:00'), end: iso(day, '12:00') });
    await gateway.changsha.send('slot.released', { requestId: data.requestId, reason: 'PROJECT_CANCELLED' });
    const response = await gateway.changsha.send('slot.requested', data);
    const trackingId = (response.data as { trackingId: string }).trackingId;
    await waitFor(async () => (await gateway.runtime.redis.hget(gateway.runtime.keys.intake('changsha').record(trackingId), 'state')) === 'processed');
    expect(await gateway.runtime.ledger.bookings()).to.deep.equal([]);
    expect(gateway.changshaSimulator.eventsOf('slot.offered', data.requestId)).to.deep.equal([]);
  });
});

describe('Changsha holds that lapse (the clock is the gateway\'s, moved by the test)', () => {
  const clock = fixedClock(Date.now());
  let gateway: TestGateway;
  beforeEach(async () => {
    gateway = await startTestGateway({ clock });
  });
  afterEach(async () => {
    await gateway.close();
  });

  it('when a hold is not confirmed in time, its delayed job releases it and tells Changsha HOLD_EXPIRED', async () => {
    const day = futureDay({ open: true });
    const data = slotRequestedData({ start: iso(day, '09:00'), end: iso(day, '12:00') });
    await gateway.changsha.send('slot.requested', data);
    const offered = await gateway.changshaSimulator.waitForEvent(of('slot.offered', data.requestId));
    const offerId = (offered.data as { offerId: string }).offerId;
    const expiry = jobId('expiry', 'changsha', data.requestId, offerId);
    const job = await gateway.runtime.inboundQueue.getJob(expiry);
    expect(await job?.getState()).to.equal('delayed');
    expect(await gateway.runtime.ledger.bookings()).to.have.length.above(0);
    // its time comes on the gateway's clock; the queue runs it now instead of in half an hour
    clock.advance(gateway.config.ledger.holdMinutes * 60_000 + 1000);
    await job?.promote();
    const released = await gateway.changshaSimulator.waitForEvent(of('slot.released', data.requestId));
    expect(released.data).to.deep.equal({ requestId: data.requestId, reason: 'HOLD_EXPIRED' });
    expect(await gateway.runtime.ledger.bookings()).to.deep.equal([]);
  });
});


describe('Changsha confirms on an injected clock', () => {
  it('when a confirm comes after the hold lapsed, answers slot.released HOLD_EXPIRED and books nothing', async () => {
    const clock = fixedClock(Date.now());
    const gateway = await startTestGateway({ clock });
    try {
      const day = futureDay({ open: true });
      const data = slotRequestedData({ start: iso(day, '09:00'), end: iso(day, '12:00') });
      await gateway.changsha.send('slot.requested', data);
      const offer = await gateway.changshaSimulator.waitForEvent(of('slot.offered', data.requestId));
      // the 30-minute hold has lapsed on the gateway's clock; its delayed job is still half an hour away
      clock.advance(31 * 60 * 1000);
      await gateway.changsha.send('slot.confirmed', { requestId: data.requestId, offerId: (offer.data as { offerId: string }).offerId });
      const released = await gateway.changshaSimulator.waitForEvent(of('slot.released', data.requestId));
      expect(released.data).to.deep.equal({ requestId: data.requestId, reason: 'HOLD_EXPIRED' });
      expect((await gateway.runtime.ledger.lookup('changsha', data.requestId))?.state).to.equal('expired');
      expect(await gateway.runtime.ledger.bookings()).to.deep.equal([]);
    } finally {
      await gateway.close();
    }
  });

  it('when a confirm comes in time, the hold becomes a booking and nothing is sent back', async () => {
    const clock = fixedClock(Date.now());
    const gateway = await startTestGateway({ clock });
    try {
      const day = futureDay({ open: true });
      const data = slotRequestedData({ start: iso(day, '09:00'), end: iso(day, '12:00') });
      await gateway.changsha.send('slot.requested', data);
      const offer = await gateway.changshaSimulator.waitForEvent(of('slot.offered', data.requestId));
      clock.advance(29 * 60 * 1000);
      await gateway.changsha.send('slot.confirmed', { requestId: data.requestId, offerId: (offer.data as { offerId: string }).offerId });
      await waitFor(async () => (await gateway.runtime.ledger.lookup('changsha', data.requestId))?.state === 'in-force');
      expect(gateway.changshaSimulator.eventsOf('slot.released', data.requestId)).to.deep.equal([]);
    } finally {
      await gateway.close();
    }
  });
});

describe('outbound to Changsha: token, signature, answers', () => {
  let gateway: TestGateway;
  beforeEach(async () => {
    gateway = await startTestGateway();
  });
  afterEach(async () => {
    await gateway.close();
  });

  async function offerFor(seats = 1) {
    const day = futureDay({ open: true });
    const data = slotRequestedData({ start: iso(day, '09:00'), end: iso(day, '10:00'), seats });
    await gateway.changsha.send('slot.requested', data);
    return gateway.changshaSimulator.waitForEvent(of('slot.offered', data.requestId));
  }

  it('when several events go out, one token serves them all, and every event carries a valid signature', async () => {
    await Promise.all([offerFor(), offerFor(), offerFor()]);
    expect(gateway.changshaSimulator.tokensIssued).to.equal(1);
    expect(gateway.changshaSimulator.rejected).to.deep.equal([]);
  });

  it('when Changsha refuses the token with 401, fetches a new one once and delivers', async () => {
    await offerFor();
    gateway.changshaSimulator.expireAllTokens();
    await offerFor();
    expect(gateway.changshaSimulator.tokensIssued).to.equal(2);
  });

  it('when Changsha answers 429 with Retry-After: 1, the next attempt waits that long (clamped to the backoff maximum) and the offer is delivered', async () => {
    gateway.changshaSimulator.failNext('http-429');
    const day = futureDay({ open: true });
    const data = slotRequestedData({ start: iso(day, '09:00'), end: iso(day, '10:00') });
    const trackingNo = ((await gateway.changsha.send('slot.requested', data)).data as { trackingId: string }).trackingId;
    await gateway.changshaSimulator.waitForEvent(of('slot.offered', data.requestId));
    const attempts = async () => (await gateway.runtime.traces.read(trackingNo)).filter((entry) => entry.stage === 'delivery-attempt');
    await waitFor(async () => (await attempts()).some((entry) => entry['kind'] === 'delivered'));
    const [limited, delivered] = await attempts();
    const waited = Math.min(1000, gateway.config.partners.changsha.delivery.backoffMaxMs);
    expect(limited).to.include({ kind: 'retry', status: 429, retryAfterAskedMs: 1000, retryAfterMs: waited });
    expect(delivered?.['kind']).to.equal('delivered');
    expect(Date.parse(delivered?.at ?? '') - Date.parse(limited?.at ?? '')).to.be.at.least(waited);
  });

  it('when Changsha refuses an event with 400, it goes to the dead letters', async () => {
    gateway.changshaSimulator.failNext('http-400');
    const day = futureDay({ open: true });
    const data = slotRequestedData({ start: iso(day, '09:00'), end: iso(day, '10:00') });
    await gateway.changsha.send('slot.requested', data);
    await waitFor(async () => (await gateway.runtime.deadLetters.list()).length > 0);
    const [letter] = await gateway.runtime.deadLetters.list();
    expect(letter?.reason).to.match(/^DELIVERY_REFUSED: HTTP 400/);
    expect(letter?.partner).to.equal('changsha');
  });

  it('when the token endpoint fails, the event is retried until a token is had', async () => {
    gateway.changshaSimulator.failTokenEndpoint(2);
    const offer = await offerFor();
    expect(offer.eventType).to.equal('slot.offered');
  });
});

describe('Zhuzhou as host: seat requests to Changsha', () => {
  let gateway: TestGateway;
  beforeEach(async () => {
    gateway = await startTestGateway();
  });
  afterEach(async () => {
    await gateway.close();
  });

  async function create(seats = 3) {
    const day = futureDay({ open: true });
    const response = await axios.post(
      `${gateway.url}/api/v1/seat-requests`,
      { start: iso(day, '09:00'), end: iso(day, '12:00'), seats, projectCode: 'M4302000260031190001', sectionCode: 'M4302000260031190001001', category: 'municipal', projectName: '株洲市政道路改造工程' },
      { headers, validateStatus: () => true },
    );
    expect(response.status).to.equal(201);
    return (response.data as { requestId: string }).requestId;
  }

  const stateOf = async (id: string) => ((await axios.get(`${gateway.url}/api/v1/seat-requests/${id}`, { headers })).data as { state: string; trace: { stage: string }[] });

  it('when the center asks for seats, slot.requested goes to Changsha; a matching offer is confirmed', async () => {
    gateway.changshaSimulator.autoRespond('offer', gateway.url);
    const id = await create(3);
    const requested = await gateway.changshaSimulator.waitForEvent(of('slot.requested', id));
    expect(requested.data).to.deep.include({ hostCenter: '430200', seats: 3, category: 'municipal' });
    const confirmed = await gateway.changshaSimulator.waitForEvent(of('slot.confirmed', id));
    expect((confirmed.data as { offerId: string }).offerId).to.match(/^CSO-/);
    const state = await stateOf(id);
    expect(state.state).to.equal('confirmed');
    expect(state.trace.map((entry) => entry.stage)).to.include.members(['seat-request-created', 'answer-queued', 'offer-confirmed']);
  });

  it('when the offer does not match what was asked, releases it and the request stays open', async () => {
    gateway.changshaSimulator.autoRespond('offer-mismatch', gateway.url);
    const id = await create(3);
    const released = await gateway.changshaSimulator.waitForEvent(of('slot.released', id));
    expect(released.data).to.deep.equal({ requestId: id, reason: 'OTHER' });
    expect((await stateOf(id)).state).to.equal('requested');
  });

  it('when Changsha declines, the request shows declined', async () => {
    gateway.changshaSimulator.autoRespond('decline', gateway.url);
    const id = await create(3);
    await waitFor(async () => (await stateOf(id)).state === 'declined');
  });

  it('when the center deletes a confirmed request, slot.released PROJECT_CANCELLED goes to Changsha', async () => {
    gateway.changshaSimulator.autoRespond('offer', gateway.url);
    const id = await create(2);
    await gateway.changshaSimulator.waitForEvent(of('slot.confirmed', id));
    const deleted = await axios.delete(`${gateway.url}/api/v1/seat-requests/${id}`, { headers });
    expect(deleted.data).to.deep.include({ state: 'released' });
    const released = await gateway.changshaSimulator.waitForEvent(of('slot.released', id));
    expect(released.data).to.deep.equal({ requestId: id, reason: 'PROJECT_CANCELLED' });
  });

  it('when the input is incomplete or the window is past, answers 400 or 422 listing the problems', async () => {
    const bad = await axios.post(`${gateway.url}/api/v1/seat-requests`, { seats: 0 }, { headers, validateStatus: () => true });
    expect(bad.status).to.equal(400);
    expect((bad.data as { errors: unknown[] }).errors.length).to.be.greaterThan(3);
    const past = await axios.post(
      `${gateway.url}/api/v1/seat-requests`,
      { start: '2020-01-02T09:00:00+08:00', end: '2020-01-02T10:00:00+08:00', seats: 1, projectCode: 'M4302000260031190001', sectionCode: 'M4302000260031190001001', category: 'road', projectName: 'x' },
      { headers, validateStatus: () => true },
    );
    expect(past.status).to.equal(422);
  });
});

describe('availability exchange with Changsha', () => {
  let gateway: TestGateway;
  beforeEach(async () => {
    gateway = await startTestGateway();
  });
  afterEach(async () => {
    await gateway.close();
  });

  it('when a poll runs, Changsha availability is kept for the dashboard', async () => {
    await gateway.runtime.periodicQueue.add('availability-poll', { partner: 'changsha' });
    await waitFor(async () => (await axios.get(`${gateway.url}/api/v1/availability/changsha`, { headers, validateStatus: () => true })).status === 200);
    const snapshot = (await axios.get(`${gateway.url}/api/v1/availability/changsha`, { headers })).data as { center: string; rooms: { roomId: string }[] };
    expect(snapshot.center).to.equal('430100');
    expect(snapshot.rooms.map((room) => room.roomId)).to.include('CS-PBS-A1');
  });

  it('when Changsha pushes availability.published, it is kept like a polled one', async () => {
    const example = JSON.parse(readFileSync(new URL('../fixtures/partners/changsha-availability.json', import.meta.url), 'utf8')) as { data: object };
    const response = await gateway.changsha.send('availability.published', example.data);
    expect(response.status).to.equal(202);
    await waitFor(async () => (await axios.get(`${gateway.url}/api/v1/availability/changsha`, { headers, validateStatus: () => true })).status === 200);
    const snapshot = (await axios.get(`${gateway.url}/api/v1/availability/changsha`, { headers })).data as { rooms: { roomId: string; free: unknown[] }[] };
    expect(snapshot.rooms).to.deep.equal([
      { roomId: 'CS-PBS-A1', seats: 9, free: [{ start: '2026-11-26T08:00:00+08:00', end: '2026-11-26T18:00:00+08:00' }] },
      { roomId: 'CS-PBS-A2', seats: 5, free: [] },
    ]);
  });

  it('when the ledger changes, Zhuzhou availability is published to Changsha shortly after, without the booked window', async () => {
    const day = futureDay({ open: true, daysAhead: 2 });
    const apply = applyData({ start: at(day, '09:00'), end: at(day, '12:00'), SEAT_COUNT: 9 });
    await gateway.province.send('apply', apply);
    const published = await gateway.changshaSimulator.waitForEvent((event) => event.eventType === 'availability.published');
    const rooms = (published.data as { center: string; rooms: { roomId: string; free: { start: string; end: string }[] }[] }).rooms;
    expect((published.data as { center: string }).center).to.equal('430200');
    const big = rooms.find((room) => room.roomId === 'ZZ-PBS-01');
    const dayIso = `${day.slice(0, 4)}-${day.slice(4, 6)}-${day.slice(6, 8)}`;
    const freeThatDay = big?.free.filter((window) => window.start.startsWith(dayIso));
    // 08:00-18:00 minus 09:00-12:00 widened by 30 minutes
    expect(freeThatDay).to.deep.equal([
      { start: `${dayIso}T08:00:00+08:00`, end: `${dayIso}T08:30:00+08:00` },
      { start: `${dayIso}T12:30:00+08:00`, end: `${dayIso}T18:00:00+08:00` },
    ]);
  });
});

describe('province and Changsha racing for the same rooms through two worker processes', () => {
  let gateway: TestGateway;
  const workers: ChildProcess[] = [];
  before(async () => {
    gateway = await startTestGateway({ workers: false });
    const env = { ...testEnv(gateway.config.redis.namespace, gateway.simulator.url, undefined, gateway.changshaSimulator.url), GATEWAY_ROLE: 'worker', WORKER_CONCURRENCY: '4' };
    workers.push(...(await Promise.all([spawnGatewayProcess(env), spawnGatewayProcess(env)])));
  });
  after(async () => {
    await Promise.all(workers.map((worker) => stopProcess(worker)));
    await gateway.close();
  });

  it('when applies and slot requests for the same windows are fired together, no seat is ever held or booked twice', async () => {
    const day = futureDay({ open: true, skip: 3 });
    const windows = [['09:00', '12:00'], ['10:30', '13:00'], ['13:00', '16:00']] as const;
    const sends = Array.from({ length: 30 }, (_, n) => {
      const [start, end] = windows[n % windows.length] ?? windows[0];
      const seats = 1 + (n % 5);
      if (n % 2 === 0) {
        const apply = applyData({ start: at(day, start), end: at(day, end), SEAT_COUNT: seats });
        return { id: apply.SERIES_NUMBER, send: () => gateway.province.send('apply', apply) };
      }
      const slot = slotRequestedData({ start: iso(day, start), end: iso(day, end), seats });
      return { id: slot.requestId, send: () => gateway.changsha.send('slot.requested', slot) };
    });
    const answers = await Promise.all(sends.map((item) => item.send()));
    expect(answers.every((answer) => answer.status === 200 || answer.status === 202)).to.equal(true);
    await Promise.all(
      sends.map((item) =>
        item.id.startsWith('SQ')
          ? gateway.simulator.waitForNotify(item.id)
          : gateway.changshaSimulator.waitForEvent((event) => (event.eventType === 'slot.offered' || event.eventType === 'slot.declined') && (event.data as { requestId: string }).requestId === item.id),
      ),
    );
    const bookings = await gateway.runtime.ledger.bookings();
    expect(overlaps(bookings, 30 * 60 * 1000)).to.deep.equal([]);
    expect(new Set(bookings.map((booking) => booking.owner.split(':')[0])).size).to.equal(2);
  });
});

function overlaps(bookings: Booking[], bufferMs: number): [Booking, Booking][] {
  const clashes: [Booking, Booking][] = [];
  for (const [i, a] of bookings.entries()) {
    for (const b of bookings.slice(i + 1)) {
      if (a.resource === b.resource && a.start - bufferMs < b.end && b.start - bufferMs < a.end) clashes.push([a, b]);
    }
  }
  return clashes;
}

/** Waits for a condition that a worker brings about, checking again after each turn of the event loop. */
async function waitFor(condition: () => Promise<boolean>): Promise<void> {
  while (!(await condition())) await new Promise<void>((resolve) => setImmediate(resolve));
}
