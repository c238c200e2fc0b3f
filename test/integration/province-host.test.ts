import { expect } from 'chai';
import type { HostPlan } from '../../adapters/host-applications.ts';
import { at, futureDay } from '../helpers/dates.ts';
import { startTestGateway, waitForStage, type TestGateway } from '../helpers/gateway.ts';
import { parseCompactBeijing } from '../../kernel/beijing-time.ts';
import { applyData, hostOutcomeData, hostResultData, seriesNumber } from '../simulators/province-traffic.ts';

type ProvinceAnswer = { State: string; Msg: string; Data: { TRACKING_NO?: string; errors?: { path: string; message: string }[] } };

/** Waits until the worker has finished with a message: processed, or handed to operators. */
async function settled(gateway: TestGateway, trackingNo: string): Promise<string | null> {
  for (;;) {
    const state = await gateway.runtime.messages.state('province', trackingNo);
    if (state !== 'received') return state;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

function trackingNoOf(answer: { data: unknown }): string {
  const trackingNo = (answer.data as ProvinceAnswer).Data.TRACKING_NO;
  if (trackingNo === undefined) return expect.fail(`no TRACKING_NO in ${JSON.stringify(answer.data)}`);
  return trackingNo;
}

describe('province host interfaces through a real gateway (real Redis, province simulator over HTTP)', () => {
  let gateway: TestGateway;
  const day = futureDay({ open: true });
  const iso = (time: string) => `${day.slice(0, 4)}-${day.slice(4, 6)}-${day.slice(6, 8)}T${time}:00+08:00`;
  const plan = (): HostPlan => ({
    tenderProjectCode: 'M4302000260004521001',
    bidSectionCode: 'M4302000260004521001001',
    projectName: '株洲市芦淞区建设南路市政道路提质改造工程',
    sector: 'GCJS',
    projectType: 'A02',
    start: iso('09:00'),
    end: iso('17:30'),
    hostRoomId: 'ZZ-PBS-03',
    hostSeats: 5,
    contact: { name: '王芳', phone: '0731-22681234' },
    guests: [
      { center: '430300', seats: 2 },
      { center: '430400', seats: 2 },
    ],
  });

  beforeEach(async () => {
    gateway = await startTestGateway();
  });
  afterEach(async () => {
    await gateway.close();
  });

  function hostPort() {
    const port = gateway.runtime.adapters.province.hostApplications;
    if (!port) throw new Error('the province adapter has no host applications facet');
    return port;
  }

  it('when a host-result arrives before any answer named its application, answers 200, and the worker holds it for that answer, with no dead letter', async () => {
    const series = seriesNumber('SQ');
    const answer = await gateway.province.send('host-result', hostResultData({ series, center: '430300', seats: 2, approve: true }));
    expect(answer.status).to.equal(200);
    expect(answer.data).to.include({ State: '200', Success: true, Msg: '成功' });
    const trackingNo = trackingNoOf(answer);
    await waitForStage(gateway.runtime, trackingNo, 'held');
    expect(await settled(gateway, trackingNo)).to.equal('held');
    const trace = await gateway.runtime.traces.read(trackingNo);
    expect(trace.find((entry) => entry.stage === 'held')).to.deep.include({ waitingFor: series });
    expect(trace.find((entry) => entry.stage === 'canonical')).to.not.equal(undefined);
    expect(await gateway.runtime.redis.llen(gateway.runtime.keys.hostApplicationHeld(series))).to.equal(1);
    expect(await gateway.runtime.deadLetters.list()).to.deep.equal([]);
  });

  it('when a host-outcome arrives before any answer named its application, answers 200 and is held without a dead letter', async () => {
    const answer = await gateway.province.send('host-outcome', hostOutcomeData({ series: seriesNumber('SQ'), outcome: '3', remark: '衡阳市公共资源交易中心(430400)不同意：NO_CAPACITY' }));
    expect(answer.status).to.equal(200);
    const trackingNo = trackingNoOf(answer);
    await waitForStage(gateway.runtime, trackingNo, 'held');
    expect(await settled(gateway, trackingNo)).to.equal('held');
    expect(await gateway.runtime.deadLetters.list()).to.deep.equal([]);
  });

  it('when a host-result comes again under a new DATAUUID, answers the first answer; another result for the same guest and SERIES_NUMBER answers 409 请求冲突', async () => {
    const data = hostResultData({ series: seriesNumber('SQ'), center: '430300', seats: 2, approve: true });
    const first = await gateway.province.send('host-result', data);
    const again = await gateway.province.send('host-result', data);
    expect(again.data).to.deep.equal(first.data);
    const other = await gateway.province.send('host-result', { ...data, STATUS: '2', EVAL_ROOM_NAME: '', EVAL_ROOM_ADDR: '', SEAT_NUMBER: [], REMARK: 'NO_CAPACITY' });
    expect(other.status).to.equal(409);
    expect(other.data).to.include({ State: '409', Msg: '请求冲突' });
    // the other guest's result for the same application is its own
    expect((await gateway.province.send('host-result', { ...data, SUB_AREA_CODE: '430400', CENTER_NAME: '衡阳市公共资源交易中心' })).status).to.equal(200);
  });

  it('when a second, different host-outcome comes for the same SERIES_NUMBER, answers 409', async () => {
    const series = seriesNumber('SQ');
    expect((await gateway.province.send('host-outcome', hostOutcomeData({ series, outcome: '1' }))).status).to.equal(200);
    expect((await gateway.province.send('host-outcome', hostOutcomeData({ series, outcome: '6' }))).status).to.equal(409);
  });

  it('when a host-result names a guest outside domain.md\'s area codes, answers 422 业务校验失败 at /data/SUB_AREA_CODE and records nothing', async () => {
    const answer = await gateway.province.send('host-result', hostResultData({ series: seriesNumber('SQ'), center: '439900', seats: 2, approve: true }));
    expect(answer.status).to.equal(422);
    expect(answer.data).to.deep.include({ State: '422', Msg: '业务校验失败', Data: { errors: [{ path: '/data/SUB_AREA_CODE', message: 'is not an area code of domain.md' }] } });
    expect(await gateway.runtime.inboundQueue.count()).to.equal(0);
  });

  it('when an eval-status names a request Zhuzhou does not hold in force, answers 422 NOT_IN_FORCE', async () => {
    const answer = await gateway.simulator.pushEvalStatus(seriesNumber('SQ'), '1', gateway.runtime.clock.now());
    expect(answer.status).to.equal(422);
    const errors = (answer.data as ProvinceAnswer).Data.errors ?? [];
    expect(errors).to.deep.equal([{ path: '/data/SERIES_NUMBER', message: 'NOT_IN_FORCE' }]);
  });

  it('when the province forwards the host\'s eval-status for a request Zhuzhou approved, "1" then "2" are answered 200 and processed as lifecycle, with no dead letter', async () => {
    const apply = applyData({ start: at(day, '09:00'), end: at(day, '17:30') });
    expect((await gateway.province.send('apply', apply)).status).to.equal(200);
    expect((await gateway.simulator.waitForNotify(apply.SERIES_NUMBER)).data['STATUS']).to.equal('1');
    const started = await gateway.simulator.pushEvalStatus(apply.SERIES_NUMBER, '1', parseCompactBeijing(at(day, '09:00')));
    expect(started.status).to.equal(200);
    expect(await settled(gateway, trackingNoOf(started))).to.equal('processed');
    const ended = await gateway.simulator.pushEvalStatus(apply.SERIES_NUMBER, '2', parseCompactBeijing(at(day, '15:00')));
    expect(ended.status).to.equal(200);
    expect(await settled(gateway, trackingNoOf(ended))).to.equal('processed');
    const lifecycle = (await gateway.runtime.traces.read(trackingNoOf(ended))).find((entry) => entry.stage === 'lifecycle');
    expect(lifecycle).to.deep.include({ requestId: apply.SERIES_NUMBER, status: 'ended' });
    expect(await gateway.runtime.deadLetters.list()).to.deep.equal([]);
  });

  it('seat-check round trip: the gateway asks over HTTP, signed, and reads the simulator\'s free seats as a typed result', async () => {
    gateway.simulator.host.setFreeSeats('430300', [{ name: 'XT-PBS-01', freeSeats: 2 }, { name: 'XT-PBS-02', freeSeats: 8 }]);
    const result = await hostPort().seatCheck({ center: '430300', start: iso('09:00'), end: iso('17:30'), seats: 4 }, gateway.runtime.adapters.province.messageIdFor(`seat-check:430300:${day}`));
    expect(result.ok ? result.value : result.error.violations).to.deep.equal({
      kind: 'checked',
      status: 200,
      result: { center: '430300', centerName: '湘潭市公共资源交易中心', meets: true, rooms: [{ name: 'XT-PBS-01', freeSeats: 2, meets: false }, { name: 'XT-PBS-02', freeSeats: 8, meets: true }] },
    });
    // answered, so the simulator has it already
    const asked = await gateway.simulator.waitFor('seat-check');
    expect(asked.signatureValid).to.equal(true);
    expect(asked.data).to.deep.equal({ AREA_CODE: '430300', BID_EVAL_START_TIME: at(day, '09:00'), BID_EVAL_END_TIME: at(day, '17:30'), SEAT_COUNT: 4 });
  });

  it('host-apply gets its SERIES_NUMBER; the province\'s results for both guests and the outcome in force are accepted and held for the evaluation (none recorded this answer) without a dead letter; eval-status is then accepted, and a jump to archived is refused STATE_CONFLICT', async () => {
    const adapter = gateway.runtime.adapters.province;
    const applied = await adapter.deliver((() => {
      const encoded = hostPort().encode({ kind: 'apply', plan: plan() }, adapter.messageIdFor('host:E-int-1:apply'));
      if (!encoded.ok) return expect.fail(JSON.stringify(encoded.error.violations));
      return encoded.value;
    })());
    expect(applied.kind).to.equal('delivered');
    const series = applied.kind === 'delivered' ? hostPort().applicationIdOf('host-apply', applied.answer) : undefined;
    if (series === undefined) return expect.fail('no SERIES_NUMBER assigned');

    const pushes = [
      await gateway.simulator.pushResult(series, '430300', { approve: true }),
      await gateway.simulator.pushResult(series, '430400', { approve: true }),
      await gateway.simulator.pushOutcome(series, '1'),
    ];
    expect(pushes.map((push) => push.status)).to.deep.equal([200, 200, 200]);
    // sent past the flow (straight through the adapter), the answer was recorded by no evaluation: the pushes wait for it
    for (const push of pushes) expect(await settled(gateway, trackingNoOf(push))).to.equal('held');
    expect(await gateway.runtime.deadLetters.list()).to.deep.equal([]);

    const status = (state: 'started' | 'archived') => {
      const encoded = hostPort().encode({ kind: 'status', applicationId: series, status: state, at: iso('09:00') }, adapter.messageIdFor(`host:E-int-1:status:${state}`));
      if (!encoded.ok) return expect.fail(JSON.stringify(encoded.error.violations));
      return adapter.deliver(encoded.value);
    };
    expect((await status('started')).kind).to.equal('delivered');
    const archived = await status('archived');
    expect(archived).to.deep.include({ kind: 'refused', status: 422 });
    expect(archived.kind === 'refused' ? archived.answer : undefined).to.deep.include({ Data: { errors: [{ path: '/data/EVAL_STATUS', message: 'STATE_CONFLICT' }] } });
  });
});
