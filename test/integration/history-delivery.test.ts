import { expect } from 'chai';
import { at, futureDay } from '../helpers/dates.ts';
import { startTestGateway, waitForDelivered, type TestGateway } from '../helpers/gateway.ts';
import { applyData } from '../simulators/province-traffic.ts';
import { HISTORY_HOUR_MS, HISTORY_MINUTE_MS, HISTORY_MINUTES, LATENCY_BUCKETS_MS, latencyBucket } from '../../telemetry/history.ts';

/** how long the simulated province takes to answer the notify: known, so the latency bucket is too */
const ANSWER_MS = 300;

describe('the overview history sees a real delivery (gateway, worker, province simulator over HTTP)', () => {
  let gateway: TestGateway;
  const day = futureDay({ open: true });

  before(async () => {
    // room for a loaded machine: the slow answer must not reach the timeout and turn into a retry
    gateway = await startTestGateway({ env: { PROVINCE_TIMEOUT_MS: '5000' } });
  });
  after(async () => {
    await gateway.close();
  });

  it('a province apply whose notify the province answers in about 300 ms shows as one message out and a latency of its bucket in the minute it was delivered', async () => {
    gateway.simulator.slowMs = ANSWER_MS;
    gateway.simulator.failNext('slow');
    const data = applyData({ start: at(day, '09:00'), end: at(day, '11:00'), SEAT_COUNT: 3 });
    const answer = await gateway.province.send('apply', data);
    expect(answer.status).to.equal(200);
    const trackingNo = (answer.data as { Data: { TRACKING_NO: string } }).Data.TRACKING_NO;
    const notify = await gateway.simulator.waitForNotify(data.SERIES_NUMBER);
    expect(notify.data['STATUS']).to.equal('1');
    await waitForDelivered(gateway.runtime, trackingNo);

    const history = await gateway.runtime.telemetry.statistics.history.read(['province'], []);
    const province = history.partners[0];
    if (!province) throw new Error('no province history');
    // a fresh gateway: the one delivery is the only minute with any
    const minutes = province.p50.flatMap((value, index) => (value === null ? [] : [index]));
    expect(minutes).to.have.length(1);
    const minute = minutes[0] as number;
    expect(province.out[minute]).to.equal(1);
    expect(province.out.reduce((sum, count) => sum + count)).to.equal(1);
    expect(province.in[minute] ?? 0).to.be.at.most(1);
    expect(province.in.reduce((sum, count) => sum + count)).to.equal(1);
    // one latency: both percentiles are its bucket, over the simulator's pause and within the timeout
    expect(province.p95[minute]).to.equal(province.p50[minute]);
    expect(province.p50[minute]).to.be.oneOf(LATENCY_BUCKETS_MS.slice(latencyBucket(ANSWER_MS + 1), latencyBucket(gateway.config.partners.province.delivery.timeoutMs) + 1));

    // in Redis: that minute's histogram holds exactly one latency
    const minuteStart = Date.parse(history.from) + minute * HISTORY_MINUTE_MS;
    const hour = Math.floor(minuteStart / HISTORY_HOUR_MS);
    const hash = await gateway.runtime.redis.hgetall(gateway.runtime.telemetry.statistics.history.key('p', 'province', 'latency', hour));
    const minuteOfHour = Math.floor(minuteStart / HISTORY_MINUTE_MS) - hour * 60;
    const counted = Object.entries(hash).filter(([field]) => field.startsWith(`${minuteOfHour}:`));
    expect(counted).to.deep.equal([[`${minuteOfHour}:${LATENCY_BUCKETS_MS.indexOf(province.p50[minute] as number)}`, '1']]);
    expect(minute).to.be.within(HISTORY_MINUTES - 2, HISTORY_MINUTES - 1);
  });
});
