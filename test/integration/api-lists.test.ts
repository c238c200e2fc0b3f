import axios, { type AxiosResponse } from 'axios';
import { expect } from 'chai';
import { fixedClock } from '../../kernel/clock.ts';
import { DAY_MS, formatIsoBeijing } from '../../kernel/beijing-time.ts';
import { sendTogether } from '../../kernel/redis/client.ts';
import type { DeadLetter } from '../../stores/dead-letters.ts';
import type { ReconciliationRun } from '../../stores/reconciliation-runs.ts';
import type { SeatRequest, SeatRequestState } from '../../stores/seat-requests.ts';
import { machineSettings } from '../../usecases/hosting/flow.ts';
import { planEvaluation, type EvaluationState } from '../../usecases/hosting/machine.ts';
import type { HostEvaluationRecord } from '../../usecases/hosting/record.ts';
import type { HostEvaluationView } from '../../usecases/hosting/service.ts';
import { futureDay } from '../helpers/dates.ts';
import { API_KEY, startTestGateway, type TestGateway } from '../helpers/gateway.ts';

interface ListAnswer<T> {
  items: T[];
  total: number;
  next: string | null;
  date?: string;
}

interface Problem {
  title: string;
  status: number;
  errors: { path: string; message: string }[];
}

type Params = Record<string, string | string[]>;

/** A time as the lists take it: ISO 8601 with the Beijing offset. */
const iso = (ms: number) => formatIsoBeijing(ms);
const dayIso = (day: string) => `${day.slice(0, 4)}-${day.slice(4, 6)}-${day.slice(6, 8)}`;

describe('GET lists of /api/v1: every list walked by cursor to its end, filtered, saying how many match', function () {
  this.timeout(120_000);
  // whole seconds, so that the times given back as ISO 8601 name the same instants
  const T0 = Math.floor(Date.now() / 1000) * 1000;
  const clock = fixedClock(T0);
  let gateway: TestGateway;

  const get = async <T>(path: string, params: Params = {}) =>
    axios.get<T>(`${gateway.url}${path}`, { params, headers: { 'X-Api-Key': API_KEY }, validateStatus: () => true, paramsSerializer: { indexes: null } });

  /** Follows `next` from the first page to the last; every page must be a 200 of at most `limit` items. */
  async function walk<T>(path: string, params: Params, limit: number): Promise<{ items: T[]; totals: number[]; pages: number }> {
    const items: T[] = [];
    const totals: number[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const answer: AxiosResponse<ListAnswer<T>> = await get<ListAnswer<T>>(path, { ...params, limit: String(limit), ...(cursor === null ? {} : { cursor }) });
      expect(answer.status, JSON.stringify(answer.data)).to.equal(200);
      expect(answer.data.items.length).to.be.at.most(limit);
      items.push(...answer.data.items);
      totals.push(answer.data.total);
      cursor = answer.data.next;
      pages += 1;
      expect(pages, 'the walk ends').to.be.below(100);
    } while (cursor !== null);
    return { items, totals, pages };
  }

  /** Every id once, and exactly the expected ones. */
  function expectOnceEach(ids: string[], expected: string[]): void {
    expect(new Set(ids).size, 'no item twice').to.equal(ids.length);
    expect([...ids].sort(), 'none missed, none extra').to.deep.equal([...expected].sort());
  }

  before(async () => {
    gateway = await startTestGateway({ workers: false, clock });
  });
  after(async () => {
    await gateway.close();
  });

  describe('dead letters', () => {
    interface Seeded {
      id: string;
      at: number;
      partner: string;
      code: string;
      queue: string;
      state: 'pending' | 'replayed' | 'discarded';
    }
    const seeded: Seeded[] = [];
    const base = T0 - 2 * DAY_MS;

    before(async () => {
      for (let n = 0; n < 650; n++) {
        // the first 40 share one millisecond: their order is their id's
        const at = n < 40 ? base : base + (n - 39) * 1000;
        clock.set(at);
        const partner = n % 3 === 0 ? 'changsha' : 'province';
        const code = n % 4 === 0 ? 'DELIVERY_REFUSED' : 'RETRY_EXHAUSTED';
        const queue = `outbound-${partner}`;
        const letter = await gateway.runtime.deadLetters.add({ queue, jobName: 'deliver', jobId: `job-${n}`, data: { n }, partner, trackingNo: `TN-${n}`, reason: `${code}: attempt ${n}`, attempts: 3 });
        let state: Seeded['state'] = 'pending';
        if (n % 10 === 0) {
          await gateway.runtime.deadLetters.markReplayed(letter.id, `replay-${n}`);
          state = 'replayed';
        } else if (n % 10 === 5) {
          await gateway.runtime.deadLetters.discard(letter.id, 'ops', 'not to be sent');
          state = 'discarded';
        }
        seeded.push({ id: letter.id, at, partner, code, queue, state });
      }
      clock.set(T0);
    });

    it('when 650 letters are walked with the default page size, answers seven pages of at most 100, each saying 650, newest first (letters of one millisecond by id), every letter once', async () => {
      const first = await get<ListAnswer<DeadLetter>>('/api/v1/dead-letters');
      expect(first.status).to.equal(200);
      expect(first.data.items).to.have.length(100);
      expect(first.data.total).to.equal(650);
      expect(first.data.next).to.be.a('string');

      const { items, totals, pages } = await walk<DeadLetter>('/api/v1/dead-letters', {}, 100);
      expect(pages).to.equal(7);
      expect(totals.every((total) => total === 650)).to.equal(true);
      expectOnceEach(
        items.map((letter) => letter.id),
        seeded.map((letter) => letter.id),
      );
      const places = items.map((letter) => ({ at: Date.parse(letter.at), id: letter.id }));
      places.slice(1).forEach((place, n) => {
        const before = places[n];
        expect(before !== undefined && (before.at > place.at || (before.at === place.at && before.id > place.id)), `item ${n + 1} follows item ${n}`).to.equal(true);
      });
    });

    it('when filtered by partner, state, code, queue or time range, a walk in pages of 37 lists exactly the letters that match and every page says how many', async () => {
      const from = base + 100 * 1000;
      const to = base + 300 * 1000;
      const cases: { params: Params; expected: Seeded[] }[] = [
        { params: { partner: 'changsha' }, expected: seeded.filter((letter) => letter.partner === 'changsha') },
        { params: { state: 'pending', code: 'DELIVERY_REFUSED' }, expected: seeded.filter((letter) => letter.state === 'pending' && letter.code === 'DELIVERY_REFUSED') },
        { params: { queue: 'outbound-province', state: 'discarded' }, expected: seeded.filter((letter) => letter.queue === 'outbound-province' && letter.state === 'discarded') },
        { params: { state: 'replayed' }, expected: seeded.filter((letter) => letter.state === 'replayed') },
        { params: { from: iso(from), to: iso(to) }, expected: seeded.filter((letter) => letter.at >= from && letter.at < to) },
        { params: { from: iso(from), partner: 'province', code: 'RETRY_EXHAUSTED' }, expected: seeded.filter((letter) => letter.at >= from && letter.partner === 'province' && letter.code === 'RETRY_EXHAUSTED') },
      ];
      const part = await get<ListAnswer<DeadLetter>>('/api/v1/dead-letters', { code: 'REFUSED' });
      expect(part.data, 'a code is matched whole, not as part of another').to.deep.equal({ items: [], total: 0, next: null });
      for (const { params, expected } of cases) {
        expect(expected.length, JSON.stringify(params)).to.be.above(37);
        const { items, totals } = await walk<DeadLetter>('/api/v1/dead-letters', params, 37);
        expect(new Set(totals), JSON.stringify(params)).to.deep.equal(new Set([expected.length]));
        expectOnceEach(
          items.map((letter) => letter.id),
          expected.map((letter) => letter.id),
        );
      }
    });

    it('when letters are written during a walk, one newer than the page read is not listed, one older is listed once, and no other letter is missed or repeated', async () => {
      const first = await get<ListAnswer<DeadLetter>>('/api/v1/dead-letters', { limit: '100' });
      clock.set(T0);
      const newer = await gateway.runtime.deadLetters.add({ queue: 'outbound-province', jobName: 'deliver', jobId: 'newer', data: {}, partner: 'province', trackingNo: 'TN-newer', reason: 'RETRY_EXHAUSTED: newer', attempts: 3 });
      clock.set(base - 1000);
      const older = await gateway.runtime.deadLetters.add({ queue: 'outbound-province', jobName: 'deliver', jobId: 'older', data: {}, partner: 'province', trackingNo: 'TN-older', reason: 'RETRY_EXHAUSTED: older', attempts: 3 });
      clock.set(T0);

      const rest: DeadLetter[] = [];
      let cursor = first.data.next;
      let total = 0;
      while (cursor !== null) {
        const page = await get<ListAnswer<DeadLetter>>('/api/v1/dead-letters', { limit: '100', cursor });
        expect(page.status).to.equal(200);
        rest.push(...page.data.items);
        total = page.data.total;
        cursor = page.data.next;
      }
      const ids = [...first.data.items, ...rest].map((letter) => letter.id);
      expect(ids).to.not.include(newer.id);
      expectOnceEach(ids, [...seeded.map((letter) => letter.id), older.id]);
      expect(total, 'the total counts what is there now').to.equal(652);
    });
  });

  describe('messages', () => {
    const partners = ['province', 'changsha'] as const;
    interface Seeded {
      trackingNo: string;
      partner: string;
      at: number;
      state: 'received' | 'processed';
      operation: string;
      section: string;
    }
    const seeded: Seeded[] = [];

    before(async () => {
      for (let n = 0; n < 255; n++) {
        // 250 within the last 24 hours, 5 from two days ago
        const at = n < 250 ? T0 - (n + 1) * 60_000 : T0 - 2 * DAY_MS + n * 1000;
        const partner = partners[n % 2] ?? 'province';
        const trackingNo = `TN${String(n).padStart(6, '0')}`;
        const operation = partner === 'province' ? (n % 4 === 0 ? 'apply' : 'change') : 'event';
        const section = n % 3 === 0 ? 'E4302000001001' : 'E4302000002001';
        await gateway.runtime.messages.record(
          { partner, trackingNo, operation, receivedAt: at, rawBody: JSON.stringify({ n }), messageKey: `MK${n}`, searchIds: { section } },
          [],
        );
        await gateway.runtime.traces.index(trackingNo, { section });
        const state = n % 3 === 1 ? 'processed' : 'received';
        if (state === 'processed') await sendTogether(gateway.runtime.redis, [gateway.runtime.messages.stateCommand(partner, trackingNo, 'processed')]);
        seeded.push({ trackingNo, partner, at, state, operation, section });
      }
      clock.set(T0);
    });

    it('when no id is named, walks the messages received in the last 24 hours (by default), newest first, in pages of 60 to the last', async () => {
      const { items, totals, pages } = await walk<{ trackingNo: string; receivedAt: string; trace: unknown[] }>('/api/v1/messages', {}, 60);
      expect(pages).to.equal(5);
      expect(new Set(totals)).to.deep.equal(new Set([250]));
      expectOnceEach(
        items.map((message) => message.trackingNo),
        seeded.filter((message) => message.at > T0 - DAY_MS).map((message) => message.trackingNo),
      );
      const times = items.map((message) => Date.parse(message.receivedAt));
      expect(times).to.deep.equal([...times].sort((a, b) => b - a));
    });

    it('when filtered by partner, state, operation and a range reaching back two days, lists exactly the messages that match', async () => {
      const from = T0 - 3 * DAY_MS;
      const cases: { params: Params; expected: Seeded[] }[] = [
        { params: { partner: 'changsha' }, expected: seeded.filter((message) => message.partner === 'changsha' && message.at > T0 - DAY_MS) },
        { params: { state: 'processed', from: iso(from) }, expected: seeded.filter((message) => message.state === 'processed') },
        { params: { partner: 'province', operation: 'change', state: 'received' }, expected: seeded.filter((message) => message.partner === 'province' && message.operation === 'change' && message.state === 'received' && message.at > T0 - DAY_MS) },
        { params: { from: iso(from), to: iso(T0 - DAY_MS) }, expected: seeded.filter((message) => message.at < T0 - DAY_MS) },
      ];
      for (const { params, expected } of cases) {
        const { items, totals } = await walk<{ trackingNo: string }>('/api/v1/messages', params, 30);
        expect(new Set(totals), JSON.stringify(params)).to.deep.equal(new Set([expected.length]));
        expectOnceEach(
          items.map((message) => message.trackingNo),
          expected.map((message) => message.trackingNo),
        );
      }
    });

    it('when a section code is named, walks every message that carries it (whatever its age), in pages of 25, and filters them too', async () => {
      const section = 'E4302000001001';
      const { items, totals } = await walk<{ trackingNo: string; trace: unknown[] }>('/api/v1/messages', { section }, 25);
      const expected = seeded.filter((message) => message.section === section);
      expect(new Set(totals)).to.deep.equal(new Set([expected.length]));
      expectOnceEach(
        items.map((message) => message.trackingNo),
        expected.map((message) => message.trackingNo),
      );
      const changsha = await walk<{ trackingNo: string }>('/api/v1/messages', { section, partner: 'changsha' }, 25);
      expectOnceEach(
        changsha.items.map((message) => message.trackingNo),
        expected.filter((message) => message.partner === 'changsha').map((message) => message.trackingNo),
      );
    });
  });

  describe('reconciliations', () => {
    const runs: ReconciliationRun[] = [];

    before(async () => {
      for (let n = 0; n < 100; n++) {
        const startedAt = new Date(T0 - (100 - n) * 3_600_000).toISOString();
        const run: ReconciliationRun = {
          runId: `RUN-${Math.floor(n / 2)}`,
          reason: 'scheduled',
          startedAt,
          finishedAt: startedAt,
          partner: n % 2 === 0 ? 'province' : 'changsha',
          days: [],
          missed: n % 5 === 0 ? ['SQ1'] : [],
          different: [],
          extra: [],
          pending: [],
          errors: n % 7 === 0 ? ['the partner did not answer'] : [],
        };
        await gateway.runtime.reconciliations.add(run);
        runs.push(run);
      }
    });

    it('when the 100 runs kept are walked in pages of 30, and by partner, state and time, lists each matching run once and says how many', async () => {
      const key = (run: ReconciliationRun) => `${run.runId}/${run.partner}`;
      const state = (run: ReconciliationRun) => (run.errors.length > 0 ? 'errors' : run.missed.length > 0 ? 'findings' : 'clean');
      const from = T0 - 50 * 3_600_000;
      const cases: { params: Params; expected: ReconciliationRun[] }[] = [
        { params: {}, expected: runs },
        { params: { partner: 'changsha' }, expected: runs.filter((run) => run.partner === 'changsha') },
        { params: { state: 'clean' }, expected: runs.filter((run) => state(run) === 'clean') },
        { params: { state: 'errors', partner: 'province' }, expected: runs.filter((run) => state(run) === 'errors' && run.partner === 'province') },
        { params: { from: iso(from) }, expected: runs.filter((run) => Date.parse(run.startedAt) >= from) },
      ];
      for (const { params, expected } of cases) {
        const { items, totals } = await walk<ReconciliationRun>('/api/v1/reconciliations', params, 30);
        expect(new Set(totals), JSON.stringify(params)).to.deep.equal(new Set([expected.length]));
        expectOnceEach(items.map(key), expected.map(key));
      }
      const newest = await get<ListAnswer<ReconciliationRun>>('/api/v1/reconciliations', { limit: '1' });
      expect(newest.data.items[0]?.startedAt).to.equal(runs.at(-1)?.startedAt);
    });
  });

  describe('seat requests', () => {
    const states: SeatRequestState[] = ['requested', 'confirmed', 'declined', 'released'];
    const seeded: SeatRequest[] = [];
    const day = futureDay({ open: true });
    const dayStart = Date.parse(`${dayIso(day)}T00:00:00+08:00`);

    before(async () => {
      for (let n = 0; n < 130; n++) {
        // from day 0 08:00, one every 30 minutes, the day's order shuffled against creation
        const start = dayStart + 8 * 3_600_000 + ((n * 37) % 130) * 1_800_000;
        const seatRequest: SeatRequest = {
          requestId: `ZZR-LIST-${String(n).padStart(4, '0')}`,
          partner: n % 4 === 0 ? 'province' : 'changsha',
          state: states[n % 4] ?? 'requested',
          request: {
            tenderProjectCode: 'E4302000001',
            bidSectionCode: `E4302000001${String(n).padStart(3, '0')}`,
            projectName: 'list test',
            category: 'procurement',
            start: formatIsoBeijing(start),
            end: formatIsoBeijing(start + 3_600_000),
            seats: 2,
            hostCenter: '430200',
          },
          createdAt: formatIsoBeijing(T0),
          updatedAt: formatIsoBeijing(T0),
        };
        await gateway.runtime.seatRequests.create(seatRequest);
        seeded.push(seatRequest);
      }
    });

    it('when GET /api/v1/seat-requests is walked in pages of 50, lists the 130 requests earliest window first, each once, and by partner, state and window start', async () => {
      const { items, totals, pages } = await walk<SeatRequest>('/api/v1/seat-requests', {}, 50);
      expect(pages).to.equal(3);
      expect(new Set(totals)).to.deep.equal(new Set([130]));
      expectOnceEach(
        items.map((seatRequest) => seatRequest.requestId),
        seeded.map((seatRequest) => seatRequest.requestId),
      );
      const starts = items.map((seatRequest) => Date.parse(seatRequest.request.start));
      expect(starts).to.deep.equal([...starts].sort((a, b) => a - b));

      const from = dayStart + 20 * 3_600_000;
      const to = from + 24 * 3_600_000;
      const cases: { params: Params; expected: SeatRequest[] }[] = [
        { params: { partner: 'province' }, expected: seeded.filter((seatRequest) => seatRequest.partner === 'province') },
        { params: { state: 'confirmed' }, expected: seeded.filter((seatRequest) => seatRequest.state === 'confirmed') },
        {
          params: { from: iso(from), to: iso(to), partner: 'changsha' },
          expected: seeded.filter((seatRequest) => Date.parse(seatRequest.request.start) >= from && Date.parse(seatRequest.request.start) < to && seatRequest.partner === 'changsha'),
        },
      ];
      for (const { params, expected } of cases) {
        const walked = await walk<SeatRequest>('/api/v1/seat-requests', params, 20);
        expect(new Set(walked.totals), JSON.stringify(params)).to.deep.equal(new Set([expected.length]));
        expectOnceEach(
          walked.items.map((seatRequest) => seatRequest.requestId),
          expected.map((seatRequest) => seatRequest.requestId),
        );
      }
    });
  });

  describe('host evaluations', () => {
    const seeded: { id: string; start: number; state: EvaluationState; partners: string[] }[] = [];
    const first = futureDay({ open: true, skip: 1 });
    const second = futureDay({ open: true, skip: 2 });
    const startOf = (day: string) => Date.parse(`${dayIso(day)}T00:00:00+08:00`);

    before(async () => {
      const runtime = gateway.runtime;
      for (let n = 0; n < 90; n++) {
        const day = n < 60 ? first : second;
        const start = startOf(day) + 8 * 3_600_000 + (n % 60) * 600_000;
        const guests = n % 2 === 0 ? [{ center: '430100', seats: 2 }] : [{ center: '430300', seats: 2 }];
        const id = `HE-LIST-${String(n).padStart(4, '0')}`;
        const step = planEvaluation(id, { start, end: start + 3_600_000, hostSeats: 3, guests }, (center) => runtime.hostRoutes.partnerFor(center), T0, machineSettings(runtime));
        const state: EvaluationState = n % 5 === 0 ? 'cancelled' : 'requested';
        const record: HostEvaluationRecord = {
          ...step.evaluation,
          state,
          details: {
            '0': {
              projectCode: 'E4302000001',
              sectionCode: `E4302000001${String(n).padStart(3, '0')}`,
              projectName: 'list test',
              tradeType: 'ZFCG',
              agentContact: runtime.personalData.encrypt('张三'),
              agentPhone: runtime.personalData.encrypt('13800000000'),
            },
          },
          outbox: [],
          createdAt: T0,
          updatedAt: T0,
        };
        await runtime.hostEvaluations.create(record);
        seeded.push({ id, start, state, partners: record.legs.map((leg) => leg.partner) });
      }
    });

    it('when a day is named (date=), walks that day\'s evaluations earliest first in pages of 25 and answers the date; a range (from, to) spans both days; state and partner filter them', async () => {
      const firstDay = seeded.filter((evaluation) => evaluation.start < startOf(second));
      const byDay = await walk<HostEvaluationView>('/api/v1/host-evaluations', { date: dayIso(first) }, 25);
      expect(new Set(byDay.totals)).to.deep.equal(new Set([60]));
      expectOnceEach(
        byDay.items.map((view) => view.id),
        firstDay.map((evaluation) => evaluation.id),
      );
      const answered = await get<ListAnswer<HostEvaluationView>>('/api/v1/host-evaluations', { date: dayIso(first), limit: '25' });
      expect(answered.data.date).to.equal(dayIso(first));
      const next = await get<ListAnswer<HostEvaluationView>>('/api/v1/host-evaluations', { date: dayIso(first), limit: '25', cursor: answered.data.next ?? '' });
      expect(next.data.date, 'a later page of a day answers the day too').to.equal(dayIso(first));

      const from = startOf(first);
      const to = startOf(second) + DAY_MS;
      const cases: { params: Params; expected: typeof seeded }[] = [
        { params: { from: iso(from), to: iso(to) }, expected: seeded },
        { params: { from: iso(from), to: iso(to), state: 'cancelled' }, expected: seeded.filter((evaluation) => evaluation.state === 'cancelled') },
        { params: { from: iso(from), partner: 'changsha' }, expected: seeded.filter((evaluation) => evaluation.partners.includes('changsha')) },
        { params: { date: dayIso(second), state: 'requested', partner: 'province' }, expected: seeded.filter((evaluation) => evaluation.start >= startOf(second) && evaluation.state === 'requested' && evaluation.partners.includes('province')) },
      ];
      for (const { params, expected } of cases) {
        const walked = await walk<HostEvaluationView>('/api/v1/host-evaluations', params, 25);
        expect(new Set(walked.totals), JSON.stringify(params)).to.deep.equal(new Set([expected.length]));
        expectOnceEach(
          walked.items.map((view) => view.id),
          expected.map((evaluation) => evaluation.id),
        );
        const starts = walked.items.map((view) => Date.parse(view.window.start));
        expect(starts).to.deep.equal([...starts].sort((a, b) => a - b));
      }
    });
  });

  describe('bad parameters', () => {
    const lists = ['/api/v1/dead-letters', '/api/v1/messages', '/api/v1/reconciliations', '/api/v1/seat-requests', '/api/v1/host-evaluations'];

    it('when every parameter of a list is wrong at once, each list answers 400 in the problem format listing every violation', async () => {
      for (const path of lists) {
        const answer = await get<Problem>(path, { limit: '0', from: 'yesterday', to: '2026-01-01T00:00:00', state: 'lost', partner: ['province', 'changsha'], colour: 'red', cursor: 'not a cursor' });
        expect(answer.status, path).to.equal(400);
        expect(answer.headers['content-type'], path).to.match(/^application\/problem\+json/);
        expect(answer.data.status).to.equal(400);
        const paths = answer.data.errors.map((error) => error.path);
        expect(paths, path).to.include.members(['/limit', '/from', '/to', '/state', '/partner', '/cursor', '']);
        expect(answer.data.errors.find((error) => error.path === '')?.message, path).to.include('colour');
      }
    });

    it('when the partner is not one of the gateway\'s, limit is above 500 and from is not before to, each list answers 400 naming all three', async () => {
      for (const path of lists) {
        const answer = await get<Problem>(path, { partner: 'shenzhen', limit: '501', from: '2026-03-02T00:00:00+08:00', to: '2026-03-01T00:00:00+08:00' });
        expect(answer.status, path).to.equal(400);
        expect(answer.data.errors.map((error) => error.path).sort(), path).to.deep.equal(['/limit', '/partner', '/to']);
      }
    });

    it('when a cursor is changed by hand, shown to another list or with other filters, answers 400 naming the cursor, never 500', async () => {
      const page = await get<ListAnswer<DeadLetter>>('/api/v1/dead-letters', { limit: '5', partner: 'province' });
      const cursor = page.data.next ?? '';
      expect(cursor).to.match(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
      const [body = '', mac = ''] = cursor.split('.');
      const decoded = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as Record<string, unknown>;
      const forged = `${Buffer.from(JSON.stringify({ ...decoded, i: '0' })).toString('base64url')}.${mac}`;
      const flipped = `${body.slice(0, -1)}${body.endsWith('A') ? 'B' : 'A'}.${mac}`;
      const attempts: { path: string; params: Params }[] = [
        { path: '/api/v1/dead-letters', params: { partner: 'province', cursor: forged } },
        { path: '/api/v1/dead-letters', params: { partner: 'province', cursor: flipped } },
        { path: '/api/v1/dead-letters', params: { partner: 'province', cursor: `${body}.${mac.slice(0, 10)}` } },
        { path: '/api/v1/dead-letters', params: { partner: 'province', cursor: 'e30.AAAA' } },
        { path: '/api/v1/dead-letters', params: { partner: 'changsha', cursor } },
        { path: '/api/v1/dead-letters', params: { cursor } },
        { path: '/api/v1/seat-requests', params: { partner: 'province', cursor } },
      ];
      for (const { path, params } of attempts) {
        const answer = await get<Problem>(path, params);
        expect(answer.status, `${path} ${JSON.stringify(params)}`).to.equal(400);
        expect(answer.data.errors.map((error) => error.path)).to.deep.equal(['/cursor']);
      }
      const followed = await get<ListAnswer<DeadLetter>>('/api/v1/dead-letters', { limit: '50', partner: 'province', cursor });
      expect(followed.status, 'the cursor as given, with another page size, is followed').to.equal(200);
    });
  });
});
