import { expect } from 'chai';
import axios from 'axios';
import { randomBytes } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import { loadConfig, type GatewayConfig } from '../../config/index.ts';
import { Keys } from '../../kernel/redis/keys.ts';
import { createRedis } from '../../kernel/redis/client.ts';
import { RoomLedger, type Booking } from '../../ledger/index.ts';
import { startPrivateCluster, type PrivateCluster } from '../../scripts/lib/private-cluster.ts';
import { at, futureDay } from '../helpers/dates.ts';
import { keysPerMaster, spawnGateway, stopGateway, type GatewayProcess } from '../helpers/cluster.ts';
import { API_KEY, INBOUND_SECRET, OUTBOUND_SECRET, testEnv } from '../helpers/gateway.ts';
import { ProvinceSimulator } from '../simulators/province.ts';
import { applyData, ProvinceClient } from '../simulators/province-traffic.ts';
import type { ProvinceApplyData } from '../../schemas/types.generated.ts';

const BUFFER_MS = 30 * 60 * 1000;

/** Pairs of bookings of one resource whose windows, widened by the buffer, overlap. */
function doubleBookings(bookings: Booking[]): [Booking, Booking][] {
  const clashes: [Booking, Booking][] = [];
  for (const [i, a] of bookings.entries()) {
    for (const b of bookings.slice(i + 1)) {
      if (a.resource === b.resource && a.start - BUFFER_MS < b.end && b.start - BUFFER_MS < a.end) clashes.push([a, b]);
    }
  }
  return clashes;
}

describe('province flow on a 3-master Redis Cluster through two api and two worker processes', () => {
  let cluster: PrivateCluster;
  let simulator: ProvinceSimulator;
  let config: Readonly<GatewayConfig>;
  let redis: Redis;
  let ledger: RoomLedger;
  const processes: GatewayProcess[] = [];
  /** one province client per api process: messages alternate between them */
  const apis: ProvinceClient[] = [];

  before(async function () {
    this.timeout(60_000);
    cluster = await startPrivateCluster();
    simulator = await new ProvinceSimulator({ secret: OUTBOUND_SECRET }).start();
    const namespace = `c-${randomBytes(6).toString('hex')}`;
    const env = { ...testEnv(namespace, simulator.url), REDIS_MODE: 'cluster', REDIS_NODES: cluster.nodes.join(','), WORKER_CONCURRENCY: '4' };
    config = loadConfig({ env });
    processes.push(
      ...(await Promise.all([spawnGateway('api', env), spawnGateway('api', env), spawnGateway('worker', env), spawnGateway('worker', env)])),
    );
    for (const { url } of processes) {
      if (url) apis.push(new ProvinceClient({ gatewayUrl: url, secret: INBOUND_SECRET }));
    }
    redis = createRedis(config.redis, 'command');
    ledger = new RoomLedger(redis, new Keys(namespace), config.ledger.rooms, config.ledger.bufferMinutes);
  });

  after(async function () {
    this.timeout(60_000);
    await Promise.all(processes.map((gateway) => stopGateway(gateway)));
    redis?.disconnect();
    await simulator?.stop();
    await cluster?.stop();
  });

  function apiUrl(n: number): string {
    const url = processes.filter((gateway) => gateway.url)[n % apis.length]?.url;
    if (!url) throw new Error('no api process');
    return url;
  }

  function api(n: number): ProvinceClient {
    const client = apis[n % apis.length];
    if (!client) throw new Error('no api process');
    return client;
  }

  async function decide(n: number, data: ProvinceApplyData) {
    const answer = await api(n).send('apply', data);
    expect(answer.status, JSON.stringify(answer.data)).to.equal(200);
    return simulator.waitForNotify(data.SERIES_NUMBER);
  }

  it('when applies come in turn through either api process, places each by best fit, turnover buffer and calendar as one ledger would', async () => {
    const day = futureDay({ open: true });
    const closed = futureDay({ open: false });
    const applies = [
      applyData({ start: at(day, '09:00'), end: at(day, '12:00'), SEAT_COUNT: 3 }),
      applyData({ start: at(day, '09:30'), end: at(day, '11:00'), SEAT_COUNT: 3 }),
      applyData({ start: at(day, '10:00'), end: at(day, '11:30'), SEAT_COUNT: 3 }),
      // 20 minutes after the first ends: not its room; 80 minutes after the second: that one
      applyData({ start: at(day, '12:20'), end: at(day, '15:00'), SEAT_COUNT: 3 }),
      applyData({ start: at(closed, '09:00'), end: at(closed, '12:00'), SEAT_COUNT: 3 }),
      applyData({ start: at(day, '09:00'), end: at(day, '12:00'), SEAT_COUNT: 15 }),
    ];
    const outcomes: string[] = [];
    for (const [n, apply] of applies.entries()) {
      const notify = await decide(n, apply);
      expect(notify.signatureValid).to.equal(true);
      outcomes.push(notify.data['STATUS'] === '1' ? String(notify.data['EVAL_ROOM_NAME']) : `rejected ${String(notify.data['REMARK'])}`);
    }
    expect(outcomes).to.deep.equal(['ZZ-PBS-05', 'ZZ-PBS-06', 'ZZ-PBS-03', 'ZZ-PBS-06', 'rejected CENTER_CLOSED', 'rejected NO_CAPACITY']);
    const owners = new Set(applies.slice(0, 4).map((apply) => `province:${apply.SERIES_NUMBER}`));
    const booked = (await ledger.bookings()).filter((booking) => owners.has(booking.owner));
    expect(booked.map((booking) => [booking.owner, booking.resource]).sort()).to.deep.equal(
      [
        [`province:${applies[0]?.SERIES_NUMBER}`, 'ZZ-PBS-05'],
        [`province:${applies[1]?.SERIES_NUMBER}`, 'ZZ-PBS-06'],
        [`province:${applies[2]?.SERIES_NUMBER}`, 'ZZ-PBS-03'],
        [`province:${applies[3]?.SERIES_NUMBER}`, 'ZZ-PBS-06'],
      ].sort(),
    );
  });

  it('when overlapping applies burst into both api processes at once, answers every one and books no room or seat twice', async () => {
    const day = futureDay({ open: true, skip: 1 });
    const windows = [['09:00', '12:00'], ['10:00', '13:00'], ['11:30', '15:00'], ['13:00', '17:00']] as const;
    const applies = Array.from({ length: 16 }, (_, n) => {
      const [start, end] = windows[n % windows.length] ?? windows[0];
      return applyData({ start: at(day, start), end: at(day, end), SEAT_COUNT: 1 + (n % 6) });
    });
    const answers = await Promise.all(applies.map((apply, n) => api(n).send('apply', apply)));
    expect(answers.map((answer) => answer.status)).to.deep.equal(applies.map(() => 200));
    const notifies = await Promise.all(applies.map((apply) => simulator.waitForNotify(apply.SERIES_NUMBER)));
    const approved = notifies.filter((notify) => notify.data['STATUS'] === '1');
    // 6 rooms and 12 hall seats hold at least 6 of these before any window fills
    expect(approved.length).to.be.greaterThan(5);
    for (const notify of notifies) {
      const apply = applies.find((candidate) => candidate.SERIES_NUMBER === notify.data['SERIES_NUMBER']);
      if (notify.data['STATUS'] === '1') expect(notify.data['SEAT_NUMBER']).to.have.length(apply?.SEAT_COUNT ?? -1);
      else expect(notify.data['REMARK']).to.equal('NO_CAPACITY');
    }
    const owners = new Set(applies.map((apply) => `province:${apply.SERIES_NUMBER}`));
    const bookings = (await ledger.bookings()).filter((booking) => owners.has(booking.owner));
    expect(doubleBookings(bookings)).to.deep.equal([]);
    expect(new Set(bookings.map((booking) => booking.owner)).size).to.equal(approved.length);
  });

  it('when the same DATAUUID is pushed to the other api process, answers the same TRACKING_NO and decides it once', async () => {
    const day = futureDay({ open: true, skip: 2 });
    const apply = applyData({ start: at(day, '09:00'), end: at(day, '12:00') });
    const envelope = api(0).envelope('apply', apply);
    const first = await api(0).post('apply', envelope);
    const again = await api(1).post('apply', envelope);
    expect([first.status, again.status]).to.deep.equal([200, 200]);
    const trackingNo = (first.data as { Data: { TRACKING_NO: string } }).Data.TRACKING_NO;
    expect((again.data as { Data: { TRACKING_NO: string } }).Data.TRACKING_NO).to.equal(trackingNo);
    await simulator.waitForNotify(apply.SERIES_NUMBER);
    // the search index ({ix}) and the records ({in:province}) know one message for it, through either process
    for (const url of [apiUrl(0), apiUrl(1)]) {
      const found = await axios.get(`${url}/api/v1/messages?dataUuid=${envelope.validation.DATAUUID}`, { headers: { 'X-Api-Key': API_KEY } });
      expect((found.data as { items: { trackingNo: string }[] }).items.map((item) => item.trackingNo)).to.deep.equal([trackingNo]);
    }
    expect(simulator.notifiesFor(apply.SERIES_NUMBER)).to.have.length(1);
    const booked = (await ledger.bookings()).filter((booking) => booking.owner === `province:${apply.SERIES_NUMBER}`);
    expect(booked).to.have.length(1);
  });

  it('when the province refuses a notify for good, keeps it as a dead letter that either api process lists, and a replay delivers it', async () => {
    simulator.failNext('refuse');
    const day = futureDay({ open: true, skip: 3 });
    const apply = applyData({ start: at(day, '09:00'), end: at(day, '12:00') });
    expect((await api(0).send('apply', apply)).status).to.equal(200);
    const headers = { 'X-Api-Key': API_KEY };
    type Letter = { id: string; reason: string; trackingNo: string };
    const letter = await new Promise<Letter>((resolve, reject) => {
      const poll = async () => {
        const items = ((await axios.get(`${apiUrl(1)}/api/v1/dead-letters`, { headers })).data as { items: Letter[] }).items;
        const found = items.find((item) => item.reason.startsWith('DELIVERY_REFUSED'));
        if (found) resolve(found);
        else setImmediate(() => void poll().catch(reject));
      };
      void poll().catch(reject);
    });
    expect(simulator.notifiesFor(apply.SERIES_NUMBER)).to.have.length(0);
    const replay = await axios.post(`${apiUrl(0)}/api/v1/dead-letters/${letter.id}/replay`, {}, { headers });
    expect(replay.status).to.equal(202);
    expect((await simulator.waitForNotify(apply.SERIES_NUMBER)).data['STATUS']).to.equal('1');
  });

  it('after the flow, every master holds gateway keys: the ledger, the queues and the province intake hash to different masters', async () => {
    const perMaster = await keysPerMaster(redis as unknown as Cluster);
    expect(perMaster).to.have.length(3);
    for (const count of perMaster) expect(count).to.be.greaterThan(0);
  });
});
