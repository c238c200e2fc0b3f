import axios from 'axios';
import { expect } from 'chai';
import { futureDay } from '../helpers/dates.ts';
import { API_KEY, startTestGateway, type TestGateway } from '../helpers/gateway.ts';

const isoOf = (day: string, time: string) => `${day.slice(0, 4)}-${day.slice(4, 6)}-${day.slice(6, 8)}T${time}:00+08:00`;

describe('GET /api/v1/seat-check: the free seats of a guest center before a host evaluation is planned', () => {
  let gateway: TestGateway;
  const day = futureDay({ open: true });
  const get = (query: Record<string, string>, headers: Record<string, string> = { 'X-Api-Key': API_KEY }) =>
    axios.get(`${gateway.url}/api/v1/seat-check`, { params: query, headers, validateStatus: () => true });

  before(async () => {
    gateway = await startTestGateway({ workers: false });
  });
  after(async () => {
    await gateway.close();
  });

  it('when the center is a province center, asks the province now and answers its rooms, free seats and whether each meets the request', async () => {
    gateway.simulator.host.setFreeSeats('430300', [{ name: 'XT-PBS-01', freeSeats: 2 }, { name: 'XT-PBS-02', freeSeats: 8 }]);
    const answer = await get({ center: '430300', start: isoOf(day, '09:00'), end: isoOf(day, '12:00'), seats: '4' });
    expect(answer.status, JSON.stringify(answer.data)).to.equal(200);
    expect(answer.data).to.deep.include({ center: '430300', partner: 'province', source: 'seat-check', meets: true });
    expect((answer.data as { rooms: unknown[] }).rooms).to.deep.equal([
      { name: 'XT-PBS-01', freeSeats: 2, meets: false },
      { name: 'XT-PBS-02', freeSeats: 8, meets: true },
    ]);
    expect((await gateway.simulator.waitFor('seat-check')).data).to.include({ AREA_CODE: '430300', SEAT_COUNT: 4 });
  });

  it('when the center is Changsha (430100), answers from the availability Changsha last published: a room meets when one free window covers the whole window with enough seats', async () => {
    await gateway.runtime.availability.store({
      kind: 'availability',
      partner: 'changsha',
      trackingNo: 'AV1',
      receivedAt: new Date().toISOString(),
      center: '430100',
      from: isoOf(day, '00:00'),
      to: isoOf(day, '23:59'),
      rooms: [
        { roomId: 'CS-PBS-A1', seats: 9, free: [{ start: isoOf(day, '08:00'), end: isoOf(day, '18:00') }] },
        { roomId: 'CS-PBS-A2', seats: 12, free: [{ start: isoOf(day, '10:00'), end: isoOf(day, '18:00') }] },
        { roomId: 'CS-PBS-A3', seats: 2, free: [{ start: isoOf(day, '08:00'), end: isoOf(day, '18:00') }] },
      ],
    });
    const answer = await get({ center: '430100', start: isoOf(day, '09:00'), end: isoOf(day, '12:00'), seats: '4' });
    expect(answer.status, JSON.stringify(answer.data)).to.equal(200);
    expect(answer.data).to.deep.include({ partner: 'changsha', source: 'availability', meets: true });
    expect((answer.data as { rooms: unknown[] }).rooms).to.deep.equal([
      { name: 'CS-PBS-A1', freeSeats: 9, meets: true },
      { name: 'CS-PBS-A2', freeSeats: 0, meets: false },
      { name: 'CS-PBS-A3', freeSeats: 2, meets: false },
    ]);
  });

  it('when the query is incomplete or malformed, answers 400 listing every violation', async () => {
    const answer = await get({ center: '4303', start: 'tomorrow', seats: 'many' });
    expect(answer.status).to.equal(400);
    expect(answer.headers['content-type']).to.match(/^application\/problem\+json/);
    const paths = (answer.data as { errors: { path: string }[] }).errors.map((error) => error.path).sort();
    expect(paths).to.include.members(['/center', '/start', '/seats']);
    expect(JSON.stringify(answer.data)).to.include('end');
  });

  it('when the window is already past, or the center is the host itself, answers 422 naming the rule', async () => {
    const past = await get({ center: '430300', start: '2020-01-02T09:00:00+08:00', end: '2020-01-02T10:00:00+08:00', seats: '2' });
    expect(past.status, JSON.stringify(past.data)).to.equal(422);
    expect((past.data as { errors: unknown[] }).errors).to.have.length.above(0);
    const host = await get({ center: '430200', start: isoOf(day, '09:00'), end: isoOf(day, '10:00'), seats: '2' });
    expect(host.status).to.equal(422);
  });

  it('when the province does not answer (HTTP 500), answers 502 saying so; without the API key, 401', async () => {
    gateway.simulator.failNext('http-500');
    const failed = await get({ center: '430400', start: isoOf(day, '09:00'), end: isoOf(day, '10:00'), seats: '2' });
    expect(failed.status, JSON.stringify(failed.data)).to.equal(502);
    expect(failed.data).to.include({ title: 'The partner did not answer the seat-check' });
    expect((await get({ center: '430400', start: isoOf(day, '09:00'), end: isoOf(day, '10:00'), seats: '2' }, {})).status).to.equal(401);
  });
});
