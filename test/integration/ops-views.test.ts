import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { at, futureDay } from '../helpers/dates.ts';
import { startTestGateway, waitForDelivered, waitForStage, type TestGateway } from '../helpers/gateway.ts';
import { loggedIn, nextJob, OpsClient } from '../helpers/ops-client.ts';
import { applyData } from '../simulators/province-traffic.ts';



interface Reason {
  scope: string;
  code: string;
  health: string;
  zh: string;
  en: string;
}
interface QueueView {
  name: string;
  workers: number | null;
  counts: Record<string, number>;
  completedLast5m: number;
  health: string;
  reasons: Reason[];
}
interface Overview {
  health: string;
  reasons: Reason[];
  partners: { partner: string; lastIn: string | null; lastOut: string | null; last15m: { answers: { total: number }; deliveries: { delivered: number } }; circuit: string; health: string }[];
  queues: QueueView[];
  deadLetters: { pending: number };
  scheduler: { periodic: unknown[] };
}
interface TraceEntry {
  stage: string;
  kind?: string;
}
interface DeadLetters {
  items: { id: string; status: string; partner: string; queue: string; reason: string; trackingNo: string }[];
  matching: number;
  counts: { pending: number; replayed: number; discarded: number };
}

describe('dashboard pages and their data (real Redis, real HTTP)', () => {
  let gateway: TestGateway;
  let viewer: OpsClient;
  let operator: OpsClient;
  const day = futureDay({ open: true });
  const isoDay = `${day.slice(0, 4)}-${day.slice(4, 6)}-${day.slice(6, 8)}`;
  const apply = applyData({ start: at(day, '09:00'), end: at(day, '12:00'), SEAT_COUNT: 3 });
  let trackingNo = '';
  let room = '';

  before(async () => {
    gateway = await startTestGateway();
    viewer = await loggedIn(gateway, 'lin', 'viewer');
    operator = await loggedIn(gateway, 'chen', 'operator');
    // one province message, processed and answered directly by its job, which has finished (its statistics are written by then)
    const processed = nextJob(gateway.workers?.workers.find((worker) => worker.name === 'inbound'), 'completed', (job) => job.name === 'process');
    const response = await gateway.province.send('apply', apply);
    expect(response.status).to.equal(200);
    trackingNo = (response.data as { Data: { TRACKING_NO: string } }).Data.TRACKING_NO;
    const notify = await gateway.simulator.waitForNotify(apply.SERIES_NUMBER);
    await waitForDelivered(gateway.runtime, trackingNo);
    room = String(notify.data['EVAL_ROOM_NAME']);
    await processed;
  });
  after(async () => {
    await gateway.close();
  });

  it('when not logged in, the data answers 401 and the pages still load (they show the login form)', async () => {
    const anonymous = new OpsClient(gateway.url);
    for (const path of ['/ops/api/overview', '/ops/api/rooms', '/ops/api/messages?q=x', '/ops/api/dead-letters', '/ops/api/security', '/ops/api/meta']) {
      expect((await anonymous.request('GET', path)).status, path).to.equal(401);
    }
    expect((await anonymous.request('GET', '/ops/')).status).to.equal(200);
  });

  it('the overview shows the processed province message: last in and out, the inbound rate, workers alive, all green', async () => {
    const overview = await viewer.get<Overview>('/ops/api/overview');
    const province = overview.partners.find((partner) => partner.partner === 'province');
    expect(province?.lastIn).to.be.a('string');
    expect(province?.lastOut).to.be.a('string');
    expect(province?.last15m.answers.total).to.be.at.least(1);
    expect(province?.last15m.deliveries.delivered).to.be.at.least(1);
    expect(province?.circuit).to.equal('closed');
    expect(overview.queues.map((queue) => queue.name)).to.deep.equal(['inbound', 'outbound-province', 'outbound-changsha', 'periodic']);
    const inbound = overview.queues.find((queue) => queue.name === 'inbound');
    expect(inbound?.completedLast5m).to.be.at.least(1);
    expect(inbound?.workers).to.be.at.least(1);
    for (const queue of overview.queues) expect(queue.health, `${queue.name}: ${JSON.stringify(queue.reasons)}`).to.equal('green');
    expect(overview.deadLetters.pending).to.equal(0);
  });

  it('the room board shows the booking in its room, with its request and message, and marks a closed day', async () => {
    const board = await viewer.get<{ dates: { date: string; closed: boolean }[]; bookings: { resource: string; roomId: string; requestId: string; trackingNo: string; kind: string; state: string; start: string; ids: Record<string, string> }[] }>(
      `/ops/api/rooms?from=${isoDay}&days=1`,
    );
    expect(board.dates).to.deep.equal([{ date: isoDay, weekday: new Date(`${isoDay}T12:00:00+08:00`).getUTCDay(), closed: false, provisional: false }]);
    const booking = board.bookings.find((entry) => entry.requestId === apply.SERIES_NUMBER);
    expect(booking).to.include({ resource: room, roomId: room, trackingNo, kind: 'booking', state: 'in-force' });
    expect(booking?.start).to.equal(new Date(`${isoDay}T09:00:00+08:00`).toISOString());
    expect(booking?.ids['section']).to.equal(apply.BID_SECTION_CODE);

    const closed = futureDay({ open: false });
    const closedIso = `${closed.slice(0, 4)}-${closed.slice(4, 6)}-${closed.slice(6, 8)}`;
    const week = await viewer.get<{ dates: { date: string; closed: boolean }[] }>(`/ops/api/rooms?from=${closedIso}&days=7`);
    expect(week.dates).to.have.length(7);
    expect(week.dates[0]).to.include({ date: closedIso, closed: true });
    expect((await viewer.request('GET', '/ops/api/rooms?from=next-tuesday')).status).to.equal(400);
  });

  it('a search by SERIES_NUMBER finds the message; its trace runs from receipt to delivery, with the phone masked', async () => {
    const found = await viewer.get<{ items: { trackingNo: string; partner: string; operation: string }[] }>(`/ops/api/messages?q=${apply.SERIES_NUMBER}`);
    expect(found.items).to.have.length(1);
    expect(found.items[0]).to.include({ trackingNo, partner: 'province', operation: 'apply' });
    const byKind = await viewer.get<{ items: unknown[] }>(`/ops/api/messages?q=${apply.SERIES_NUMBER}&kind=series`);
    expect(byKind.items).to.have.length(1);

    const response = await viewer.request('GET', `/ops/api/messages/${trackingNo}`);
    expect(response.status).to.equal(200);
    const message = response.data as { raw: { data: Record<string, string> }; trace: TraceEntry[]; ledger: { state: string; roomId: string }; exception: { possible: boolean } };
    expect(message.trace.map((entry) => entry.stage)).to.include.members(['received', 'canonical', 'decision', 'answer-sent', 'delivery-attempt']);
    expect(message.trace.find((entry) => entry.stage === 'delivery-attempt')?.kind).to.equal('delivered');
    expect(message.raw.data['TENDER_AGENT_PHONE']).to.equal('073******1234');
    expect(message.raw.data['TENDER_AGENT_CONTRACT']).to.equal('李*');
    expect(message.ledger).to.include({ state: 'in-force', roomId: room });
    expect(message.exception.possible).to.equal(true);
    expect(JSON.stringify(response.data)).to.not.include('28881234').and.not.include('李明');
    expect(response.headers['cache-control']).to.equal('no-store');

    // by partner and time, from the per-partner time index
    const from = encodeURIComponent(new Date(Date.now() - 3600_000).toISOString());
    const byTime = await viewer.get<{ items: { trackingNo: string }[] }>(`/ops/api/messages?partner=province&from=${from}`);
    expect(byTime.items.map((item) => item.trackingNo)).to.include(trackingNo);
    const otherPartner = await viewer.get<{ items: { trackingNo: string }[] }>(`/ops/api/messages?partner=changsha&from=${from}`);
    expect(otherPartner.items.map((item) => item.trackingNo)).to.not.include(trackingNo);
    expect((await viewer.request('GET', `/ops/api/messages/no-such-message`)).status).to.equal(404);
  });

  it('dead letters filter by partner, queue, reason text and status; a discard moves one from pending to discarded', async () => {
    gateway.simulator.failNext('refuse');
    const refused = applyData({ start: at(day, '13:00'), end: at(day, '15:00'), SEAT_COUNT: 3 });
    const response = await gateway.province.send('apply', refused);
    // refused at the direct first attempt: the deciding job hands it to operators itself
    await waitForStage(gateway.runtime, (response.data as { Data: { TRACKING_NO: string } }).Data.TRACKING_NO, 'dead-lettered');

    const pending = await viewer.get<DeadLetters>('/ops/api/dead-letters?status=pending');
    expect(pending.items).to.have.length(1);
    const letter = pending.items[0];
    expect(letter).to.include({ status: 'pending', partner: 'province', queue: 'outbound-province' });
    expect(letter?.reason).to.match(/^DELIVERY_REFUSED/);
    expect((await viewer.get<DeadLetters>('/ops/api/dead-letters?partner=province&queue=outbound-province&reason=DELIVERY_REFUSED')).matching).to.equal(1);
    expect((await viewer.get<DeadLetters>('/ops/api/dead-letters?partner=changsha')).matching).to.equal(0);
    expect((await viewer.get<DeadLetters>('/ops/api/dead-letters?queue=inbound')).matching).to.equal(0);
    expect((await viewer.get<DeadLetters>('/ops/api/dead-letters?reason=HELD_TOO_LONG')).matching).to.equal(0);
    expect((await viewer.get<DeadLetters>('/ops/api/dead-letters?status=discarded')).matching).to.equal(0);

    const overview = await viewer.get<Overview>('/ops/api/overview');
    expect(overview.deadLetters.pending).to.equal(1);
    expect(overview.health).to.equal('red');
    expect(overview.reasons.map((reason) => reason.code)).to.include('DEAD_LETTERS_PENDING');

    const message = await viewer.get<{ deadLetters: { id: string; status: string }[]; trace: TraceEntry[] }>(`/ops/api/messages/${letter?.trackingNo ?? ''}`);
    expect(message.deadLetters).to.deep.include({ ...message.deadLetters[0], id: letter?.id, status: 'pending' });
    expect(message.trace.map((entry) => entry.stage)).to.include('dead-lettered');
    const detail = await viewer.get<{ data: unknown; trackingNo: string }>(`/ops/api/dead-letters/${letter?.id ?? ''}`);
    expect(detail.trackingNo).to.equal(letter?.trackingNo);
    expect(JSON.stringify(detail)).to.not.include('28881234');

    expect((await viewer.request('POST', `/ops/api/dead-letters/${letter?.id ?? ''}/discard`, { reason: 'sent by phone' })).status).to.equal(403);
    expect((await operator.request('POST', `/ops/api/dead-letters/${letter?.id ?? ''}/discard`, { reason: 'sent by phone' })).status).to.equal(200);
    const after = await viewer.get<DeadLetters>('/ops/api/dead-letters?status=discarded');
    expect(after.items.map((item) => item.id)).to.deep.equal([letter?.id]);
    expect(after.counts).to.deep.equal({ pending: 0, replayed: 0, discarded: 1 });
    expect((await viewer.get<DeadLetters>('/ops/api/dead-letters?status=pending')).matching).to.equal(0);
  });

  it('security events and reconciliations are readable by a viewer', async () => {
    await gateway.province.send('apply', applyData({ start: at(day, '09:00'), end: at(day, '10:00') }), { secret: 'not-the-province-secret-0000' });
    const security = await viewer.get<{ events: { partner: string; kind: string; status: number }[]; byPartner: { partner: string }[] }>('/ops/api/security?partner=province&kind=signature');
    expect(security.events[0]).to.include({ partner: 'province', kind: 'signature', status: 401 });
    expect(security.byPartner.map((entry) => entry.partner)).to.deep.equal(['province', 'changsha']);
    expect((await viewer.get<{ items: unknown[] }>('/ops/api/reconciliations')).items).to.be.an('array');
  });

  it('host evaluations: a viewer reads those of a day, one with its trace, and a guest center\'s free seats, the agent masked; a viewer may not plan; an operator\'s plan that breaks the rules answers every violation; both are audited', async () => {
    const hostDay = futureDay({ open: true, skip: 1 });
    const hostIsoDay = `${hostDay.slice(0, 4)}-${hostDay.slice(4, 6)}-${hostDay.slice(6, 8)}`;
    const start = `${hostIsoDay}T09:00:00+08:00`;
    const end = `${hostIsoDay}T12:00:00+08:00`;
    const window = `start=${encodeURIComponent(start)}&end=${encodeURIComponent(end)}`;
    const anonymous = new OpsClient(gateway.url);
    for (const path of [`/ops/api/host-evaluations?date=${hostIsoDay}`, '/ops/api/host-evaluations/HE1', `/ops/api/seat-check?center=430300&${window}&seats=2`]) {
      expect((await anonymous.request('GET', path)).status, path).to.equal(401);
    }
    const plan = {
      projectCode: 'M4302000260018837001',
      sectionCode: 'M4302000260018837001001',
      projectName: '株洲市某道路改造工程',
      tradeType: 'GCJS',
      projectType: 'A03',
      start,
      end,
      hostSeats: 3,
      guests: [{ center: '430300', seats: 2 }],
      agentContact: '王小明',
      agentPhone: '13800138000',
    };
    // a viewer may not plan; an operator may
    expect((await viewer.request('POST', '/ops/api/host-evaluations', plan)).status).to.equal(403);
    const planned = await operator.request('POST', '/ops/api/host-evaluations', plan);
    expect(planned.status, JSON.stringify(planned.data)).to.equal(201);
    const id = (planned.data as { id: string }).id;
    expect(planned.data).to.include({ sectionCode: plan.sectionCode, agentContact: '王**', agentPhone: '138****8000' });

    type Day = { date: string; items: { id: string; sectionCode: string; legs: { center: string; partner: string }[] }[]; centers: { center: string; partner: string | null }[]; host: string };
    const listed = await viewer.get<Day>(`/ops/api/host-evaluations?date=${hostIsoDay}`);
    expect(listed.date).to.equal(hostIsoDay);
    expect(listed.items.map((item) => item.id)).to.deep.equal([id]);
    expect(listed.items[0]?.legs.map((leg) => [leg.center, leg.partner])).to.deep.equal([['430300', 'province']]);
    // every Hunan center but the host, with the partner that reaches it
    expect(listed.host).to.equal('430200');
    expect(listed.centers).to.have.length(14);
    expect(listed.centers).to.deep.include({ center: '430100', partner: 'changsha' }).and.deep.include({ center: '430300', partner: 'province' });
    expect((await viewer.get<Day>(`/ops/api/host-evaluations?date=${isoDay}`)).items).to.deep.equal([]);
    const one = await viewer.get<{ id: string; trace: { stage: string }[]; traceTotal: number }>(`/ops/api/host-evaluations/${id}`);
    expect(one.id).to.equal(id);
    expect(one.trace.length).to.be.at.least(1).and.equal(one.traceTotal);
    for (const body of [JSON.stringify(listed), JSON.stringify(one)]) expect(body).to.not.include('王小明').and.not.include('13800138000');
    expect((await viewer.request('GET', '/ops/api/host-evaluations/HE-nothing')).status).to.equal(404);
    expect((await viewer.request('GET', '/ops/api/host-evaluations?date=2026-1-5')).status).to.equal(400);

    // the province's seat-check, through the dashboard session
    gateway.simulator.host.setFreeSeats('430400', [{ name: 'HY-PBS-01', freeSeats: 7 }, { name: 'HY-PBS-02', freeSeats: 1 }]);
    const free = await viewer.get<{ center: string; source: string; meets: boolean; rooms: { name: string; freeSeats: number; meets: boolean }[] }>(`/ops/api/seat-check?center=430400&${window}&seats=3`);
    expect(free).to.deep.include({ center: '430400', source: 'seat-check', meets: true });
    expect(free.rooms).to.deep.equal([{ name: 'HY-PBS-01', freeSeats: 7, meets: true }, { name: 'HY-PBS-02', freeSeats: 1, meets: false }]);
    const badCheck = await viewer.request('GET', `/ops/api/seat-check?center=43&${window}&seats=x`);
    expect(badCheck.status).to.equal(400);
    expect((badCheck.data as { errors: { path: string }[] }).errors.map((error) => error.path)).to.include.members(['/center', '/seats']);
    expect((await viewer.request('GET', `/ops/api/seat-check?center=430200&${window}&seats=2`)).status).to.equal(422);

    // every violation at once, nothing planned
    const refused = await operator.request('POST', '/ops/api/host-evaluations', { ...plan, sectionCode: 'M4302000260018837099001', end: start, guests: [{ center: '430200', seats: 1 }] });
    expect(refused.status, JSON.stringify(refused.data)).to.equal(422);
    expect((refused.data as { errors: { path: string }[] }).errors.map((error) => error.path)).to.include.members(['/end', '/sectionCode', '/guests/0/center']);
    const malformed = await operator.request('POST', '/ops/api/host-evaluations', { ...plan, hostSeats: 'three' });
    expect(malformed.status).to.equal(400);
    expect((await viewer.get<Day>(`/ops/api/host-evaluations?date=${hostIsoDay}`)).items).to.have.length(1);

    const admin = await loggedIn(gateway, 'wei', 'admin');
    const audit = await admin.get<{ items: { actor: string; action: string; target?: string; result: string; detail?: Record<string, unknown> }[] }>('/ops/api/audit');
    const entries = audit.items.filter((entry) => entry.action === 'host-evaluation.plan');
    expect(entries.find((entry) => entry.result === 'ok')).to.deep.include({ actor: 'chen', target: id });
    expect(entries.find((entry) => entry.result === 'ok')?.detail).to.deep.include({ section: plan.sectionCode, guests: '430300:2' });
    expect(entries.filter((entry) => entry.result === 'failed').map((entry) => entry.detail?.['code'])).to.have.members(['SEMANTIC_INVALID', 'SCHEMA_INVALID']);
    expect(audit.items.some((entry) => entry.actor === 'lin' && entry.action === 'POST /ops/api/host-evaluations' && entry.result === 'denied')).to.equal(true);
    expect(JSON.stringify(audit.items)).to.not.include('13800138000').and.not.include('王小明');
  });

  it('bull-board at /ops/queues: a viewer reads it, read-only; not logged in is sent to the login page', async () => {
    const anonymous = new OpsClient(gateway.url);
    const page = await anonymous.request('GET', '/ops/queues/', undefined, { Accept: 'text/html' });
    expect(page.status).to.equal(303);
    expect(page.headers['location']).to.equal('/ops/#/login');
    expect((await anonymous.request('GET', '/ops/queues/api/queues')).status).to.equal(401);
    expect((await anonymous.request('PUT', '/ops/queues/api/queues/inbound/retry/failed')).status).to.equal(401);

    const board = await viewer.request('GET', '/ops/queues/', undefined, { Accept: 'text/html' });
    expect(board.status).to.equal(200);
    expect(String(board.data)).to.include('static/js/').and.not.include('fonts.googleapis.com');
    expect(board.headers['content-security-policy']).to.include("script-src 'self'").and.include("connect-src 'self'");
    const queues = await viewer.get<{ queues: { name: string; readOnlyMode: boolean }[] }>('/ops/queues/api/queues');
    expect(queues.queues.map((queue) => queue.name).sort()).to.deep.equal(['inbound', 'outbound-changsha', 'outbound-province', 'periodic']);
    expect(queues.queues.every((queue) => queue.readOnlyMode)).to.equal(true);
    const operatorQueues = await operator.get<{ queues: { readOnlyMode: boolean }[] }>('/ops/queues/api/queues');
    expect(operatorQueues.queues.every((queue) => !queue.readOnlyMode)).to.equal(true);
  });

  it('bull-board actions: a viewer is refused, an operator may (with the CSRF token), and it is audited', async () => {
    for (const path of ['/ops/queues/api/queues/outbound-changsha/retry/failed', '/ops/queues/api/queues/outbound-changsha/clean/failed']) {
      expect((await viewer.request('PUT', path)).status, path).to.equal(403);
      const withoutToken = await operator.request('PUT', path, undefined, { 'X-CSRF-Token': '' });
      expect(withoutToken.status, path).to.equal(403);
      expect((await operator.request('PUT', path)).status, path).to.equal(200);
    }
    // bull-board's page sends the token as X-XSRF-TOKEN (from the XSRF-TOKEN cookie, set on the operator's page)
    const page = await operator.request('GET', '/ops/queues/', undefined, { Accept: 'text/html' });
    const xsrf = page.headers['set-cookie']?.find((cookie) => cookie.startsWith('XSRF-TOKEN='));
    expect(xsrf).to.match(/Path=\/ops\/queues/).and.match(/SameSite=Strict/i);
    const token = decodeURIComponent(xsrf?.split(';')[0]?.slice('XSRF-TOKEN='.length) ?? '');
    expect(token).to.equal(operator.csrf);
    const asBoard = await operator.request('PUT', '/ops/queues/api/queues/outbound-changsha/retry/failed', undefined, { 'X-CSRF-Token': '', 'X-XSRF-TOKEN': token });
    expect(asBoard.status).to.equal(200);
    // wiping a queue is an admin's
    expect((await operator.request('PUT', '/ops/queues/api/queues/outbound-changsha/obliterate')).status).to.equal(403);

    const admin = await loggedIn(gateway, 'wei', 'admin');
    const entries = (await admin.get<{ items: { actor: string; action: string; target?: string; result: string }[] }>('/ops/api/audit')).items;
    expect(entries.some((entry) => entry.actor === 'chen' && entry.action === 'queues.put' && entry.target === '/api/queues/outbound-changsha/retry/failed' && entry.result === 'ok')).to.equal(true);
    expect(entries.some((entry) => entry.actor === 'lin' && entry.result === 'denied')).to.equal(true);
  });

  it('bull-board writes that drop or forge work are an admin\'s however the path is spelled: an operator is refused and the job stays', async () => {
    const queue = gateway.runtime.outboundQueues.changsha;
    const waiting = await queue.add('deliver', { note: 'waits an hour' }, { delay: 3600_000, jobId: `board-${Date.now()}` });
    const id = encodeURIComponent(waiting.id ?? '');
    const base = '/ops/queues/api/queues/outbound-changsha';
    const refused: ['PUT' | 'PATCH' | 'POST', string][] = [
      ['PUT', `${base}/Obliterate`],
      ['PUT', `${base}/empty/`],
      ['PUT', `${base}/%65mpty`],
      ['PUT', `${base}/EMPTY`],
      ['PATCH', `${base}/${id}/Update-Data`],
      ['PATCH', `${base}/${id}/update-data/`],
      ['POST', `${base}/add`],
      ['PUT', `${base}/clean/delayed`],
      ['PUT', `${base}/clean/wait`],
      ['PUT', `${base}/CLEAN/Failed`],
      ['PUT', `${base}/${id}/clean`],
      ['PUT', `${base}/${id}/Clean/`],
      ['PUT', `${base}/retry/completed`],
      ['PUT', `${base}/pause`],
      ['PUT', '/ops/queues/api/queues/pause'],
      ['PUT', `${base}/nonsense/route/of/any/kind`],
    ];
    for (const [method, path] of refused) {
      const answer = await operator.request(method, path, method === 'PUT' ? undefined : { data: { forged: true } });
      expect(answer.status, `${method} ${path}`).to.equal(403);
    }
    const after = await queue.getJob(waiting.id ?? '');
    expect(await after?.getState()).to.equal('delayed');
    expect(after?.data).to.deep.equal({ note: 'waits an hour' });
    expect(await queue.isPaused()).to.equal(false);

    // what an operator may do: retry and clean what failed, clean what completed, promote what is delayed
    for (const path of [`${base}/retry/failed`, `${base}/clean/completed`, `${base}/CLEAN/failed/`]) expect((await operator.request('PUT', path)).status, path).to.equal(200);
    // an admin may remove the job
    const admin = await loggedIn(gateway, 'wei', 'admin');
    expect((await admin.request('PUT', `${base}/${id}/clean`)).status).to.be.within(200, 204);
    expect(await queue.getJob(waiting.id ?? '')).to.equal(undefined);
  });

  it('serves the pages with a strict Content-Security-Policy, and nothing inline for it to refuse', async () => {
    const anonymous = new OpsClient(gateway.url);
    const redirect = await anonymous.request('GET', '/ops');
    expect(redirect.status).to.equal(301);
    expect(redirect.headers['location']).to.equal('/ops/');

    const page = await anonymous.request('GET', '/ops/');
    expect(page.status).to.equal(200);
    expect(page.headers['content-type']).to.match(/^text\/html/);
    const csp = String(page.headers['content-security-policy']);
    expect(csp).to.include("default-src 'none'").and.include("script-src 'self'").and.include("style-src 'self'").and.include("frame-ancestors 'none'");
    expect(csp).to.not.include('unsafe-inline').and.not.include('unsafe-eval').and.not.include('http');
    expect(page.headers['x-content-type-options']).to.equal('nosniff');
    expect(page.headers['cache-control']).to.equal('no-cache');
    const html = String(page.data);
    expect(html).to.not.match(/<script(?![^>]*\bsrc=)[^>]*>/i);
    expect(html).to.not.match(/<style|\sstyle=|\son[a-z]+=/i);
    for (const testid of ['lang-switch', 'nav', 'view']) expect(html).to.include(`data-testid="${testid}"`);

    const script = await anonymous.request('GET', '/ops/static/app.js');
    expect(script.status).to.equal(200);
    expect(script.headers['content-type']).to.match(/javascript/);
    expect(script.headers['content-security-policy']).to.equal(csp);
    expect((await anonymous.request('GET', '/ops/static/views/overview.js')).status).to.equal(200);
    expect((await anonymous.request('GET', '/ops/static/app.css')).headers['content-type']).to.match(/^text\/css/);
    expect((await anonymous.request('GET', '/ops/static/tsconfig.json')).status).to.equal(404);
    expect((await anonymous.request('GET', '/ops/static/../views/index.ts')).status).to.equal(404);

    // what the policy would refuse: inline handlers, eval, markup built from strings, other hosts
    const publicDir = join(import.meta.dirname, '..', '..', 'gateway', 'dashboard', 'public');
    const sources = readdirSync(publicDir, { recursive: true, encoding: 'utf8' }).filter((file) => /\.(js|css|html)$/.test(file));
    for (const file of sources) {
      const source = readFileSync(join(publicDir, file), 'utf8');
      expect(source, file).to.not.match(/\binnerHTML\b|\bouterHTML\b|insertAdjacentHTML|document\.write|\beval\(|new Function|setAttribute\('style'|https?:\/\/(?!www\.w3\.org)/);
    }
  });
});

describe('dashboard overview of a stuck pipeline', () => {
  let gateway: TestGateway;

  before(async () => {
    gateway = await startTestGateway({ workers: false });
  });
  after(async () => {
    await gateway.close();
  });

  it('when jobs wait and no worker is alive, the queue is red and says why', async () => {
    const viewer = await loggedIn(gateway, 'zhang', 'viewer');
    const day = futureDay({ open: true });
    expect((await gateway.province.send('apply', applyData({ start: at(day, '09:00'), end: at(day, '12:00') }))).status).to.equal(200);
    const overview = await viewer.get<Overview>('/ops/api/overview');
    const inbound = overview.queues.find((queue) => queue.name === 'inbound');
    expect(inbound?.workers).to.equal(0);
    expect(inbound?.counts['waiting']).to.equal(1);
    expect(inbound?.health).to.equal('red');
    const reason = inbound?.reasons.find((entry) => entry.code === 'NO_WORKER_WITH_JOBS');
    expect(reason).to.include({ scope: 'queue:inbound', health: 'red' });
    expect(reason?.en).to.equal('no worker alive for inbound while 1 job(s) wait');
    expect(reason?.zh).to.include('没有存活的工作进程');
    // the empty queues have no worker either: amber, not green
    expect(overview.queues.find((queue) => queue.name === 'periodic')?.health).to.equal('amber');
    expect(overview.health).to.equal('red');
    expect(overview.reasons.map((entry) => entry.code)).to.include('NO_WORKER_WITH_JOBS');
  });
});
