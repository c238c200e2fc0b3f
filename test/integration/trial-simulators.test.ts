import axios from 'axios';
import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildEnvelope, type ProvinceInterface } from '../../adapters/province/signature.ts';
import { signatureHeaders } from '../../adapters/changsha/signature.ts';
import { formatCompactBeijing, formatIsoBeijing } from '../../kernel/beijing-time.ts';
import { at, futureDay } from '../helpers/dates.ts';
import { API_KEY, CHANGSHA, OUTBOUND_SECRET, startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import type { ChangshaSimulator } from '../simulators/changsha.ts';
import { describeEvaluation, hostEvaluationInput, HostPlanner } from '../simulators/host-planning.ts';
import { DEFAULT_DISPATCHER_SETTINGS, planGuestAnswers } from '../simulators/province-host.ts';
import type { HostPush, ProvinceSimulator } from '../simulators/province.ts';
import { SeededRandom } from '../simulators/prng.ts';

/** Timings that make a play instant: no guest waits, none is slow, nothing overtakes. */
const INSTANT = { answerMs: 0, slowMs: 0, cancelMs: 0, slowRate: 0, outcomeFirstRate: 0, earlyResultRate: 0 } as const;

const GUESTS = [
  { SUB_AREA_CODE: '430300', SEAT_COUNT: 2 },
  { SUB_AREA_CODE: '430400', SEAT_COUNT: 3 },
  { SUB_AREA_CODE: '430600', SEAT_COUNT: 1 },
];

function hostApplyData(day: string, guests = GUESTS): Record<string, unknown> {
  return {
    AREA_CODE: '430200',
    CENTER_NAME: '株洲市公共资源交易中心',
    TENDER_PROJECT_CODE: 'M4302000260004521001',
    BID_SECTION_CODE: 'M4302000260004521001001',
    TENDER_PROJECT_NAME: '株洲市芦淞区建设南路市政道路提质改造工程',
    TRADE_TYPE: 'GCJS',
    TENDER_PROJECT_TYPE: 'A02',
    BID_EVAL_START_TIME: at(day, '09:00'),
    BID_EVAL_END_TIME: at(day, '17:30'),
    EVAL_ROOM_NAME: 'ZZ-PBS-03',
    HOST_SEAT_COUNT: 5,
    TENDER_AGENT_CONTRACT: '王芳',
    TENDER_AGENT_PHONE: '0731-22681234',
    SUB_DETAIL: guests,
    REMARK: '',
  };
}

/** Zhuzhou's call to the province (simulator), signed as the gateway signs it. */
async function zhuzhouSends(simulator: ProvinceSimulator, operation: ProvinceInterface, data: Record<string, unknown>) {
  const envelope = buildEnvelope(
    { secret: OUTBOUND_SECRET, method: 'HMAC-SM3', systemNo: 'ZZ430200', dataUuid: randomUUID().replace(/-/g, ''), time: formatCompactBeijing(Date.now()), interfaceCode: operation },
    data,
  );
  const answer = await axios.post<{ State: string; Data: { SERIES_NUMBER?: string } }>(`${simulator.url}/${operation}`, envelope, { validateStatus: () => true });
  const series = answer.data.Data.SERIES_NUMBER;
  if (answer.status !== 200 || series === undefined) return expect.fail(`${operation} not answered with a SERIES_NUMBER: ${JSON.stringify(answer.data)}`);
  return series;
}

/** What a play pushed, without what changes from run to run (the series number, the gateway's tracking numbers). */
function shape(pushes: HostPush[]) {
  return pushes.map((push) => ({ operation: push.operation, status: push.status, beforeAnswer: push.beforeAnswer, slow: push.slow, data: { ...push.data, SERIES_NUMBER: undefined } }));
}

describe('trial simulators: the province as dispatcher of Zhuzhou\'s host applications, and Changsha offering or declining (real gateway over loopback)', () => {
  let gateway: TestGateway;
  const day = futureDay({ open: true });

  beforeEach(async () => {
    // the pushes only need the gateway's intake: no workers
    gateway = await startTestGateway({ workers: false });
  });
  afterEach(async () => {
    await gateway.close();
  });

  describe('province dispatcher mode', () => {
    it('when every guest approves, pushes one host-result per guest (room, address, exactly its SEAT_COUNT seats), then outcome "1", each accepted 200 by the gateway', async () => {
      gateway.simulator.dispatch({ seed: 1, ...INSTANT, approveRate: 1 });
      const series = await zhuzhouSends(gateway.simulator, 'host-apply', hostApplyData(day));
      const pushes = await gateway.simulator.waitForPlay(series);
      expect(pushes.map((push) => [push.operation, push.data['SUB_AREA_CODE'] ?? push.data['OUTCOME'], push.status])).to.deep.equal([
        ['host-result', '430300', 200],
        ['host-result', '430400', 200],
        ['host-result', '430600', 200],
        ['host-outcome', '1', 200],
      ]);
      for (const push of pushes) expect(push.answer).to.deep.include({ State: '200', Success: true });
      for (const [index, guest] of GUESTS.entries()) {
        const data = pushes[index]?.data ?? {};
        expect(data).to.include({ SERIES_NUMBER: series, STATUS: '1', REMARK: '' });
        expect(String(data['EVAL_ROOM_NAME'])).to.match(new RegExp(`^${guest.SUB_AREA_CODE}-PBS-0[1-3]$`));
        expect(String(data['EVAL_ROOM_ADDR'])).to.match(/评标室0[1-3]$/);
        expect(data['SEAT_NUMBER']).to.have.length(guest.SEAT_COUNT);
      }
      expect(gateway.simulator.host.applications.get(series)?.state).to.equal('in-force');
    });

    it('when a guest rejects, pushes its host-result "2" with the reason and outcome "3" naming it; the guests after it get no result', async () => {
      gateway.simulator.dispatch({ seed: 1, ...INSTANT, approveRate: 0, rejectReasons: ['NO_CAPACITY'] });
      const series = await zhuzhouSends(gateway.simulator, 'host-apply', hostApplyData(day));
      const pushes = await gateway.simulator.waitForPlay(series);
      expect(pushes.map((push) => push.status)).to.deep.equal([200, 200]);
      expect(pushes[0]?.data).to.deep.include({ SUB_AREA_CODE: '430300', STATUS: '2', EVAL_ROOM_NAME: '', EVAL_ROOM_ADDR: '', SEAT_NUMBER: [], REMARK: 'NO_CAPACITY' });
      expect(pushes[1]?.data).to.deep.equal({ SERIES_NUMBER: series, OUTCOME: '3', REMARK: '湘潭市公共资源交易中心(430300)不同意：NO_CAPACITY' });
      expect(gateway.simulator.host.applications.get(series)?.state).to.equal('failed');
    });

    it('when the outcome overtakes, outcome "1" reaches the gateway before the last guest\'s result, and both are accepted', async () => {
      gateway.simulator.dispatch({ seed: 1, ...INSTANT, approveRate: 1, outcomeFirstRate: 1 });
      const series = await zhuzhouSends(gateway.simulator, 'host-apply', hostApplyData(day));
      const pushes = await gateway.simulator.waitForPlay(series);
      expect(pushes.map((push) => [push.operation, push.data['SUB_AREA_CODE'] ?? push.data['OUTCOME'], push.status])).to.deep.equal([
        ['host-result', '430300', 200],
        ['host-result', '430400', 200],
        ['host-outcome', '1', 200],
        ['host-result', '430600', 200],
      ]);
    });

    it('when the first result overtakes the answer, the gateway has accepted that host-result before Zhuzhou gets the host-apply\'s SERIES_NUMBER', async () => {
      gateway.simulator.dispatch({ seed: 1, ...INSTANT, approveRate: 1, earlyResultRate: 1 });
      const series = await zhuzhouSends(gateway.simulator, 'host-apply', hostApplyData(day));
      // the answer is in: the early push was made and answered already
      const early = gateway.simulator.hostPushes.filter((push) => push.series === series);
      expect(early.map((push) => [push.operation, push.data['SUB_AREA_CODE'], push.beforeAnswer, push.status])).to.deep.equal([['host-result', '430300', true, 200]]);
      const pushes = await gateway.simulator.waitForPlay(series);
      expect(pushes.map((push) => push.beforeAnswer)).to.deep.equal([true, false, false, false]);
    });

    it('with seed 2 and slow guests possible, 430300 answers slowly: its result reaches the gateway after the other two, then the outcome', async () => {
      gateway.simulator.dispatch({ seed: 2, ...INSTANT, approveRate: 1, slowRate: 0.4, slowMs: 20 });
      const series = await zhuzhouSends(gateway.simulator, 'host-apply', hostApplyData(day));
      const pushes = await gateway.simulator.waitForPlay(series);
      expect(pushes.map((push) => [push.data['SUB_AREA_CODE'] ?? push.data['OUTCOME'], push.slow])).to.deep.equal([
        ['430400', false],
        ['430600', false],
        ['430300', true],
        ['1', false],
      ]);
    });

    it('when a host-change comes into force, its guests are played under the BG number and the original is replaced', async () => {
      gateway.simulator.dispatch({ seed: 5, ...INSTANT, approveRate: 1 });
      const original = await zhuzhouSends(gateway.simulator, 'host-apply', hostApplyData(day));
      await gateway.simulator.waitForPlay(original);
      const change = await zhuzhouSends(gateway.simulator, 'host-change', { ...hostApplyData(day, [{ SUB_AREA_CODE: '430700', SEAT_COUNT: 4 }]), ORIGINAL_SERIES_NUMBER: original, REMARK: '副场调整' });
      expect(change).to.match(/^BG/);
      const pushes = await gateway.simulator.waitForPlay(change);
      expect(pushes.map((push) => [push.data['SUB_AREA_CODE'] ?? push.data['OUTCOME'], push.status])).to.deep.equal([['430700', 200], ['1', 200]]);
      expect(gateway.simulator.host.applications.get(original)?.state).to.equal('replaced');
    });

    it('when Zhuzhou cancels an application still undecided, outcome "5" goes under its number and under the QX number, and the guests still to answer push nothing', async () => {
      // every guest would answer a minute later: the cancel comes first
      gateway.simulator.dispatch({ seed: 1, ...INSTANT, approveRate: 1, answerMs: 60_000 });
      const series = await zhuzhouSends(gateway.simulator, 'host-apply', hostApplyData(day));
      const cancel = await zhuzhouSends(gateway.simulator, 'host-cancel', { ORIGINAL_SERIES_NUMBER: series, REMARK: '招标人申请延期' });
      const pushes = await gateway.simulator.waitForPlay(cancel);
      expect(pushes.map((push) => [push.operation, push.data['OUTCOME'], push.status])).to.deep.equal([['host-outcome', '5', 200]]);
      expect(gateway.simulator.hostPushes.filter((push) => push.series === series).map((push) => [push.operation, push.data['OUTCOME'], push.status])).to.deep.equal([['host-outcome', '5', 200]]);
      expect(gateway.simulator.host.applications.get(series)?.state).to.equal('cancelled');
      // the pending play of the application ends without a push once dispatching stops
      gateway.simulator.stopDispatching();
      expect((await gateway.simulator.waitForPlay(series)).map((push) => push.operation)).to.deep.equal(['host-outcome']);
    });

    it('given the same seed, two dispatchers push the same decisions in the same order; another seed decides otherwise', async () => {
      const mixed = { answerMs: 0, slowMs: 0, cancelMs: 0 };
      gateway.simulator.dispatch({ seed: 42, ...mixed });
      const first: unknown[] = [];
      for (let n = 0; n < 4; n++) first.push(shape(await gateway.simulator.waitForPlay(await zhuzhouSends(gateway.simulator, 'host-apply', { ...hostApplyData(day), BID_SECTION_CODE: `M4302000260004521001${String(n).padStart(3, '0')}` }))));
      gateway.simulator.dispatch({ seed: 42, ...mixed });
      const again: unknown[] = [];
      for (let n = 0; n < 4; n++) again.push(shape(await gateway.simulator.waitForPlay(await zhuzhouSends(gateway.simulator, 'host-apply', { ...hostApplyData(day), BID_SECTION_CODE: `M4302000260004521001${String(n).padStart(3, '0')}` }))));
      expect(again).to.deep.equal(first);
      // the plans alone, over many applications: the seed decides them
      const plans = (seed: number) => {
        const random = new SeededRandom(seed);
        return Array.from({ length: 20 }, () => planGuestAnswers(GUESTS, random, DEFAULT_DISPATCHER_SETTINGS));
      };
      expect(plans(42)).to.deep.equal(plans(42));
      expect(plans(43)).to.not.deep.equal(plans(42));
    });

    it('over many applications with the default rates, most guests approve, some reject, some answer slowly, and some results and outcomes come out of order', () => {
      const random = new SeededRandom(7);
      const plays = Array.from({ length: 200 }, () => planGuestAnswers(GUESTS, random, DEFAULT_DISPATCHER_SETTINGS));
      const results = plays.flat().filter((step) => step.kind === 'result');
      const approved = results.filter((step) => step.decision.approve).length;
      expect(approved / results.length).to.be.greaterThan(0.6);
      expect(results.some((step) => !step.decision.approve)).to.equal(true);
      expect(results.some((step) => step.slow)).to.equal(true);
      expect(results.some((step) => step.beforeAnswer)).to.equal(true);
      // out of order: a result after the outcome
      expect(plays.some((play) => play.findIndex((step) => step.kind === 'outcome') < play.length - 1)).to.equal(true);
      // each play ends its outcome exactly once
      for (const play of plays) expect(play.filter((step) => step.kind === 'outcome')).to.have.length(1);
    });
  });

  describe('Changsha trial mode', () => {
    /** Zhuzhou's slot.requested to the Changsha simulator, with a token and signed as the gateway signs. */
    async function zhuzhouRequests(simulator: ChangshaSimulator, requestId: string, seats: number) {
      const token = await axios.post<{ access_token: string }>(`${simulator.url}/oauth/token`, `grant_type=client_credentials&client_id=${CHANGSHA.clientId}&client_secret=${CHANGSHA.clientSecret}`, {
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      });
      const raw = JSON.stringify({
        eventId: `zz_evt_${randomUUID().replace(/-/g, '')}`,
        eventType: 'slot.requested',
        occurredAt: formatIsoBeijing(Date.now()),
        data: { requestId, projectCode: 'M4302000260004521001', sectionCode: 'M4302000260004521001001', projectName: '株洲市芦淞区建设南路市政道路提质改造工程', category: 'municipal', start: `${day.slice(0, 4)}-${day.slice(4, 6)}-${day.slice(6)}T09:00:00+08:00`, end: `${day.slice(0, 4)}-${day.slice(4, 6)}-${day.slice(6)}T12:00:00+08:00`, seats, hostCenter: '430200' },
      });
      const answer = await axios.post(`${simulator.url}/open-api/v2/events`, raw, {
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token.data.access_token}`, ...signatureHeaders(CHANGSHA.outboundKeyId, CHANGSHA.outboundSecret, Math.floor(Date.now() / 1000), raw) },
        transformRequest: [(data: unknown) => data],
        validateStatus: () => true,
      });
      expect(answer.status).to.equal(202);
      return simulator.waitForSent((sent) => sent.event.data['requestId'] === requestId);
    }

    it('when told never to decline, answers slot.requested with slot.offered of exactly the seats asked, holding them holdMinutes, accepted 202 by the gateway', async () => {
      const simulator = gateway.changshaSimulator;
      simulator.autoRespond('trial', gateway.url, { seed: 3, declineRate: 0, holdMinutes: 20, answerMs: 0 });
      const before = Date.now();
      const sent = await zhuzhouRequests(simulator, 'ZZR-TRIAL-0001', 4);
      expect(sent.status).to.equal(202);
      expect(sent.event.eventType).to.equal('slot.offered');
      const data = sent.event.data as { offerId: string; roomId: string; seatNumbers: string[]; holdExpiresAt: string };
      expect(data.seatNumbers).to.have.length(4);
      expect(data.roomId).to.match(/^CS-PBS-A[12]$/);
      expect(data.offerId).to.match(/^CSO-/);
      const hold = Date.parse(data.holdExpiresAt) - before;
      expect(hold).to.be.within(20 * 60_000 - 1000, 20 * 60_000 + 5000);
      expect(data.holdExpiresAt).to.match(/\+08:00$/);
    });

    it('when told always to decline, answers slot.requested with slot.declined NO_CAPACITY, accepted 202 by the gateway', async () => {
      const simulator = gateway.changshaSimulator;
      simulator.autoRespond('trial', gateway.url, { seed: 3, declineRate: 1, answerMs: 0 });
      const sent = await zhuzhouRequests(simulator, 'ZZR-TRIAL-0002', 2);
      expect(sent.status).to.equal(202);
      expect(sent.event).to.deep.include({ eventType: 'slot.declined', data: { requestId: 'ZZR-TRIAL-0002', reason: 'NO_CAPACITY' } });
    });

    it('given the same seed, the same requests are offered or declined alike; with the default rate most are offered and some declined', async () => {
      const simulator = gateway.changshaSimulator;
      const decide = async (seed: number, prefix: string) => {
        simulator.autoRespond('trial', gateway.url, { seed, answerMs: 0 });
        const answers: string[] = [];
        // one at a time: the draws follow the order of the requests
        for (let n = 0; n < 12; n++) answers.push((await zhuzhouRequests(simulator, `${prefix}-${n}`, 3)).event.eventType);
        return answers;
      };
      const first = await decide(11, 'ZZR-SEED-A');
      expect(await decide(11, 'ZZR-SEED-B')).to.deep.equal(first);
      expect(first.filter((type) => type === 'slot.offered').length).to.be.greaterThan(6);
      expect(first).to.include('slot.declined');
    });

    it('without trial mode, auto-response stays off by default: a slot.requested gets no answer', async () => {
      const simulator = gateway.changshaSimulator;
      const token = await axios.post<{ access_token: string }>(`${simulator.url}/oauth/token`, `grant_type=client_credentials&client_id=${CHANGSHA.clientId}&client_secret=${CHANGSHA.clientSecret}`, {
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      });
      const raw = JSON.stringify({ eventId: 'zz_evt_default_off_01', eventType: 'slot.requested', occurredAt: formatIsoBeijing(Date.now()), data: { requestId: 'ZZR-OFF-1', seats: 1 } });
      const answer = await axios.post(`${simulator.url}/open-api/v2/events`, raw, {
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token.data.access_token}`, ...signatureHeaders(CHANGSHA.outboundKeyId, CHANGSHA.outboundSecret, Math.floor(Date.now() / 1000), raw) },
        transformRequest: [(data: unknown) => data],
        validateStatus: () => true,
      });
      expect(answer.status).to.equal(202);
      // an answer would be sent on the next turn of the event loop
      await new Promise<void>((resolve) => setImmediate(resolve));
      expect(simulator.sentToGateway).to.deep.equal([]);
    });
  });

  describe('launcher host planning', () => {
    it('the plans it draws follow the API contract: codes, same-day +08:00 window in opening hours, 1-3 distinct guests that are not 430200, projectType only for GCJS; the same seed draws the same plans', () => {
      const draw = (seed: number) => {
        const random = new SeededRandom(seed);
        return Array.from({ length: 50 }, () => hostEvaluationInput(random, Date.parse('2026-12-03T10:00:00+08:00')));
      };
      const plans = draw(9);
      expect(draw(9)).to.deep.equal(plans);
      for (const plan of plans) {
        expect(plan.projectCode).to.match(/^[A-Z0-9]{20}$/);
        expect(plan.sectionCode).to.match(/^[A-Z0-9]{23}$/);
        expect(plan.sectionCode.startsWith(plan.projectCode)).to.equal(true);
        expect(plan.start).to.match(/^\d{4}-\d{2}-\d{2}T\d{2}:00:00\+08:00$/);
        expect(plan.end.slice(0, 10)).to.equal(plan.start.slice(0, 10));
        expect(Date.parse(plan.end)).to.be.greaterThan(Date.parse(plan.start));
        expect(Number(plan.start.slice(11, 13))).to.be.at.least(8);
        expect(Number(plan.end.slice(11, 13))).to.be.at.most(18);
        expect(plan.guests.length).to.be.within(1, 3);
        expect(new Set(plan.guests.map((guest) => guest.center)).size).to.equal(plan.guests.length);
        expect(plan.guests.map((guest) => guest.center)).to.not.include('430200');
        expect(plan.projectType === undefined).to.equal(plan.tradeType === 'ZFCG');
      }
      expect(plans.some((plan) => plan.guests.some((guest) => guest.center === '430100'))).to.equal(true);
    });

    it('when the gateway has no /api/v1/host-evaluations (404), planning turns itself off and prints nothing', async () => {
      // a gateway of before the route: everything under /api/v1/host-evaluations is 404
      const requests: string[] = [];
      const server: Server = createServer((req, res) => {
        requests.push(`${req.method ?? ''} ${req.url ?? ''}`);
        res.writeHead(404, { 'Content-Type': 'application/problem+json' });
        res.end(JSON.stringify({ title: 'Not found', status: 404 }));
      }).listen(0, '127.0.0.1');
      await once(server, 'listening');
      try {
        const lines: string[] = [];
        const planner = new HostPlanner({ gatewayUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, apiKey: API_KEY, random: new SeededRandom(1), log: (line) => lines.push(line), pollMs: 1, watchMs: 1000 });
        expect((await planner.planOnce()).result).to.equal('unavailable');
        expect(planner.available).to.equal(false);
        expect((await planner.planOnce()).result).to.equal('unavailable');
        expect(requests).to.deep.equal(['POST /api/v1/host-evaluations']);
        expect(lines).to.deep.equal([]);
      } finally {
        server.close();
      }
    });

    it('describes an evaluation as the API shows it: state, host room, each leg with its partner, state, room and reason', () => {
      expect(
        describeEvaluation({
          id: 'HE1',
          state: 'failed',
          reason: '430400 NO_CAPACITY',
          lifecycle: 'not-started',
          hostRoom: { roomId: 'ZZ-PBS-03', state: 'freed' },
          legs: [
            { center: '430300', partner: 'province', state: 'approved', roomName: '430300-PBS-01', reason: null },
            { center: '430400', partner: 'province', state: 'declined', roomName: null, reason: 'NO_CAPACITY' },
          ],
          change: null,
        }),
      ).to.equal('failed; host room ZZ-PBS-03 freed; legs: 430300 province approved 430300-PBS-01, 430400 province declined NO_CAPACITY; (430400 NO_CAPACITY)');
    });
  });
});
