import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { chromium, type Browser, type Page } from 'playwright-core';
import { AccountStore, type OperatorRole } from '../../stores/accounts.ts';
import { at, futureDay } from '../helpers/dates.ts';
import { INBOUND_SECRET, startTestGateway, waitForStage, type TestGateway } from '../helpers/gateway.ts';
import { buildEnvelope } from '../../adapters/province/signature.ts';
import { formatCompactBeijing } from '../../kernel/beijing-time.ts';
import { nextJob } from '../helpers/ops-client.ts';
import { applyData } from '../simulators/province-traffic.ts';
import { planHostEvaluation } from '../../usecases/hosting/service.ts';
import { fixedClock } from '../../kernel/clock.ts';
import { HistorySeries } from '../../telemetry/history.ts';
import { PendingCounters } from '../../telemetry/pending-counters.ts';

/**
 * The dashboard in a real browser: Debian's Chromium driven by playwright-core
 * (which never downloads a browser), against an in-process gateway with its
 * workers and partner simulators. No sleeps: every wait is on the page
 * (Playwright's auto-waiting locators), a worker event or a simulator event.
 *
 * ZZGW_SCREENSHOTS=1 (re)writes docs/screenshots/<page>.png at 1400×900;
 * without it, nothing tracked is touched.
 */

const SCREENSHOTS = process.env['ZZGW_SCREENSHOTS'] === '1';
const SCREENSHOT_DIR = join(import.meta.dirname, '..', '..', 'docs', 'screenshots');
const VIEWPORT = { width: 1400, height: 900 };
const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const PASSWORD = 'correct horse battery';
/** how long one wait on the page may take: the overview polls every 5 s, the message page too */
const WAIT_MS = 15_000;

/** The browser's own console errors we expect: answers the page asks for and handles (logged out, wrong password, a refused action). */
const EXPECTED_FAILURES: { path: RegExp; status: number }[] = [
  { path: /\/ops\/api\/session$/, status: 401 },
  { path: /\/ops\/api\/login$/, status: 401 },
  { path: /\/ops\/api\/login$/, status: 423 },
  { path: /\/ops\/api\/dead-letters\/[^/]+\/replay$/, status: 403 },
  { path: /\/ops\/api\/host-evaluations\/[^/]+\/cancel$/, status: 403 },
  { path: /\/ops\/api\/lab$/, status: 403 },
  { path: /\/ops\/api\/lab\/refused$/, status: 404 },
];


describe('dashboard in a real browser (Chromium, real gateway, simulators)', function () {
  this.timeout(60_000);

  let gateway: TestGateway;
  let browser: Browser;
  /** what went wrong in any page: uncaught errors, and console errors nobody expects (a CSP refusal shows here) */
  const problems: string[] = [];

  const day = futureDay({ open: true });
  const isoDay = `${day.slice(0, 4)}-${day.slice(4, 6)}-${day.slice(6, 8)}`;
  const first = applyData({ start: at(day, '09:00'), end: at(day, '12:00'), SEAT_COUNT: 3 });
  let firstTrackingNo = '';
  /** the operator's page, from logging in (test 1) to the replay (test 3) */
  let operatorPage: Page;
  /** the dead letter the viewer looks at (test 4), pending until the admin discards it */
  let pendingLetterId = '';
  /** host evaluations (主场评标) on a day of their own, apart from the room board test's bookings */
  const hostDay = futureDay({ open: true, skip: 1 });
  const hostIsoDay = `${hostDay.slice(0, 4)}-${hostDay.slice(4, 6)}-${hostDay.slice(6, 8)}`;
  const hostPlan = (overrides: Record<string, unknown> = {}) => ({
    projectCode: 'M4302000260018837001',
    sectionCode: 'M4302000260018837001001',
    projectName: '株洲市某道路改造工程',
    tradeType: 'GCJS',
    projectType: 'A03',
    start: `${hostIsoDay}T09:00:00+08:00`,
    end: `${hostIsoDay}T12:00:00+08:00`,
    hostSeats: 3,
    guests: [{ center: '430300', seats: 2 }],
    agentContact: '王小明',
    agentPhone: '13800138000',
    ...overrides,
  });
  /** the evaluation planned through the use case and brought into force (test 7), cancelled by the operator (test 10) */
  let inForceId = '';

  async function account(username: string, role: OperatorRole): Promise<void> {
    await new AccountStore(gateway.runtime.redis, gateway.runtime.keys, { attempts: 5, minutes: 15 }).put(username, PASSWORD, role, Date.now());
  }

  /** A page in a context of its own (its own cookies and storage), watched for errors. */
  async function newPage(): Promise<Page> {
    const context = await browser.newContext({ viewport: VIEWPORT, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' });
    context.setDefaultTimeout(WAIT_MS);
    const page = await context.newPage();
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() !== 'error') return;
      const url = message.location().url;
      const status = Number(/status of (\d{3})/.exec(message.text())?.[1] ?? NaN);
      const expected = EXPECTED_FAILURES.some((failure) => failure.status === status && failure.path.test(new URL(url || 'about:blank', gateway.url).pathname));
      if (!expected) problems.push(`console error at ${url}: ${message.text()}`);
    });
    return page;
  }

  async function logIn(page: Page, username: string, role: OperatorRole): Promise<void> {
    await page.goto(`${gateway.url}/ops/`);
    await page.getByTestId('login-username').fill(username);
    await page.getByTestId('login-password').fill(PASSWORD);
    await page.getByTestId('login-submit').click();
    await page.locator(`[data-testid="current-user"][data-role="${role}"]`).waitFor();
  }

  /** Writes docs/screenshots/<name>.png, only when asked (ZZGW_SCREENSHOTS=1). */
  async function capture(page: Page, name: string): Promise<void> {
    if (!SCREENSHOTS) return;
    mkdirSync(SCREENSHOT_DIR, { recursive: true });
    await page.evaluate('document.fonts.ready');
    // toasts come and go: they are left out of the picture (removed, not restyled: the page's CSP refuses injected styles)
    await page.evaluate("document.getElementById('toasts')?.replaceChildren()");
    await page.screenshot({ path: join(SCREENSHOT_DIR, `${name}.png`), fullPage: false, animations: 'disabled', caret: 'hide' });
  }

  function expectNoPageProblems(): void {
    const found = problems.splice(0);
    expect(found, found.join('\n')).to.deep.equal([]);
  }

  /** A province apply whose notify the province refuses: it ends as a pending dead letter. */
  async function refusedApply(start: string, end: string): Promise<{ seriesNumber: string; trackingNo: string }> {
    gateway.simulator.failNext('refuse');
    const refused = applyData({ start: at(day, start), end: at(day, end), SEAT_COUNT: 3 });
    const response = await gateway.province.send('apply', refused);
    expect(response.status).to.equal(200);
    const trackingNo = (response.data as { Data: { TRACKING_NO: string } }).Data.TRACKING_NO;
    // refused at the direct first attempt: the deciding job writes the dead letter
    await waitForStage(gateway.runtime, trackingNo, 'dead-lettered');
    return { seriesNumber: refused.SERIES_NUMBER, trackingNo };
  }

  before(async () => {
    gateway = await startTestGateway();
    await account('chen', 'operator');
    await account('lin', 'viewer');
    await account('zhao', 'viewer');
    await account('wei', 'admin');
    // launch() runs the browser on a fresh temporary profile (user data dir) that Playwright removes on close
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
  });

  after(async () => {
    await browser?.close();
    await gateway?.close();
  });

  it('an operator logs in on the Chinese login page (English on request) and sees a province message arrive on the overview', async () => {
    const page = (operatorPage = await newPage());
    await page.goto(`${gateway.url}/ops/`);
    const login = page.getByTestId('login-page');
    await login.waitFor();
    // Chinese first
    expect(await page.getByTestId('lang-switch').getAttribute('data-lang')).to.equal('zh');
    expect(await page.evaluate('document.documentElement.lang')).to.equal('zh-CN');
    expect(await login.innerText()).to.include('运维控制台登录').and.include('用户名').and.include('密码');
    expect(await page.getByTestId('login-submit').innerText()).to.equal('登录');

    // the switch turns the page English, and remembers it
    await page.getByTestId('lang-switch').click();
    await page.locator('[data-testid="lang-switch"][data-lang="en"]').waitFor();
    await page.getByTestId('login-submit').filter({ hasText: 'Log in' }).waitFor();
    const english = await login.innerText();
    expect(english).to.include('Operations log in').and.include('User name').and.include('Password');
    expect(english).to.not.match(/[\u4e00-\u9fff]/);
    expect(await page.evaluate("localStorage.getItem('zzgw.lang')")).to.equal('en');
    expect(await page.evaluate('document.documentElement.lang')).to.equal('en');

    // and back: the rest of the run (and the screenshots) in the default language
    await page.getByTestId('lang-switch').click();
    await page.getByTestId('login-submit').filter({ hasText: '登录' }).waitFor();
    await capture(page, 'login');

    await page.getByTestId('login-username').fill('chen');
    await page.getByTestId('login-password').fill(PASSWORD);
    await page.getByTestId('login-submit').click();
    await page.locator('[data-testid="current-user"][data-role="operator"]').waitFor();
    const province = page.locator('[data-testid="partner-row"][data-partner="province"]');
    await province.waitFor();
    // nothing received yet: "never"
    expect(await province.getByTestId('partner-last-in').getAttribute('title')).to.equal('—');
    expect(await province.getByTestId('partner-last-in').innerText()).to.equal('从未');
    // no answer waits for the province
    expect(await province.getByTestId('partner-waiting').getAttribute('data-count')).to.equal('0');
    expect(await province.getByTestId('partner-waiting').innerText()).to.equal('0');
    const updatedBefore = await page.getByTestId('overview-updated').innerText();

    // the province sends an apply while the overview is open
    const delivered = gateway.simulator.waitForNotify(first.SERIES_NUMBER);
    const response = await gateway.province.send('apply', first);
    expect(response.status).to.equal(200);
    firstTrackingNo = (response.data as { Data: { TRACKING_NO: string } }).Data.TRACKING_NO;

    // the next poll shows it: last in is now a time, a few seconds ago
    await province.locator('[data-testid="partner-last-in"]:not([title="—"])').waitFor();
    expect(await province.getByTestId('partner-last-in').innerText()).to.match(/^(刚刚|\d+ 秒前)$/);
    expect(await page.getByTestId('overview-updated').innerText()).to.not.equal(updatedBefore);
    expect(Number(await page.locator('[data-testid="queue-row"][data-queue="inbound"] [data-testid="queue-workers"]').innerText())).to.be.at.least(1);
    expect(await page.locator('[data-testid="partner-row"][data-partner="province"] [data-testid="partner-circuit"]').getAttribute('data-state')).to.equal('closed');
    expect((await delivered).signatureValid).to.equal(true);
    expectNoPageProblems();
  });

  it('the operator finds the message by SERIES_NUMBER and opens its trace: phone masked, received to delivery', async () => {
    const page = operatorPage;
    await page.getByTestId('nav-messages').click();
    await page.getByTestId('search-input').fill(first.SERIES_NUMBER);
    await page.getByTestId('search-kind').selectOption('series');
    await page.getByTestId('search-button').click();

    // exactly one hit: straight to its page
    await page.locator(`[data-testid="message-summary"][data-tracking-no="${firstTrackingNo}"]`).waitFor();
    expect(page.url()).to.match(new RegExp(`#/messages/${firstTrackingNo}$`));
    await page.locator('[data-testid="ledger-decision"][data-state="in-force"]').waitFor();
    // ops staff read Chinese: the operation and the ledger's outcome are named, not shown as codes
    expect(await page.getByTestId('message-summary').innerText()).to.include('申请').and.not.include('apply');
    expect(await page.getByTestId('ledger-decision').innerText()).to.include('已批准').and.not.include('approved');
    // the delivery may be recorded after the page was drawn: the page redraws when the trace grows
    await page.locator('[data-testid="trace-entry"][data-stage="delivery-attempt"]').filter({ hasText: 'delivered' }).waitFor();
    const stages = await Promise.all((await page.getByTestId('trace-entry').all()).map((entry) => entry.getAttribute('data-stage')));
    expect(stages).to.include.members(['received', 'canonical', 'decision', 'delivery-attempt']);

    const raw = await page.getByTestId('raw-json').innerText();
    expect(raw).to.include(first.SERIES_NUMBER).and.include('"TENDER_AGENT_PHONE": "073******1234"').and.include('"TENDER_AGENT_CONTRACT": "李*"');
    // nowhere on the page, not even in the collapsed trace details or attributes
    const html = await page.content();
    expect(html).to.not.include('28881234').and.not.include('李明');

    await page.locator('[data-testid="trace-entry"][data-stage="decision"] summary').click();
    await page.locator('[data-testid="trace-entry"][data-stage="decision"] details[open] pre').waitFor();
    await capture(page, 'messages');
    expectNoPageProblems();
  });

  it('a dead letter (the province refused the notify) is replayed from the Dead letters page by an operator and then delivered', async () => {
    const page = operatorPage;
    const letter = await refusedApply('13:00', '15:00');
    await page.getByTestId('nav-dead-letters').click();
    const row = page.locator('[data-testid="dead-letter-row"][data-status="pending"]').filter({ hasText: letter.trackingNo });
    await row.waitFor();
    expect(await row.innerText()).to.include('DELIVERY_REFUSED');
    const id = (await row.getAttribute('data-id')) ?? '';

    const delivered = gateway.simulator.waitForNotify(letter.seriesNumber);
    await row.getByTestId('dl-replay').click();
    await page.getByTestId('dialog').getByTestId('dialog-confirm').click();
    await page.locator('[data-testid="toast"][data-kind="ok"]').waitFor();
    const notify = await delivered;
    expect(notify.signatureValid).to.equal(true);
    expect(gateway.simulator.notifiesFor(letter.seriesNumber)).to.have.length(1);

    // no longer pending; listed as replayed
    await page.locator(`[data-testid="dead-letter-row"][data-id="${id}"]`).waitFor({ state: 'detached' });
    await page.getByTestId('dl-filter-status').selectOption('replayed');
    await page.getByTestId('dl-filter-apply').click();
    await page.locator(`[data-testid="dead-letter-row"][data-id="${id}"][data-status="replayed"]`).waitFor();

    // and its trace says so: replayed, then delivered
    await page.locator(`[data-testid="dead-letter-row"][data-id="${id}"] a`).filter({ hasText: letter.trackingNo }).click();
    await page.locator('[data-testid="trace-entry"][data-stage="replayed"]').waitFor();
    await page.locator('[data-testid="trace-entry"][data-stage="delivery-attempt"]').filter({ hasText: 'delivered' }).waitFor();
    expect(await page.locator('[data-testid="trace-entry"][data-stage="dead-lettered"]').count()).to.equal(1);
    expectNoPageProblems();
  });

  it('a viewer sees no replay button, and a replay posted from the page with the viewer\'s CSRF token answers 403', async () => {
    const letter = await refusedApply('16:00', '17:30');
    const page = await newPage();
    await logIn(page, 'lin', 'viewer');
    await page.getByTestId('nav-dead-letters').click();
    const row = page.locator('[data-testid="dead-letter-row"][data-status="pending"]').filter({ hasText: letter.trackingNo });
    await row.waitFor();
    pendingLetterId = (await row.getAttribute('data-id')) ?? '';
    expect(await row.getByTestId('dl-inspect').count()).to.equal(1);
    expect(await page.getByTestId('dl-replay').count()).to.equal(0);
    expect(await page.getByTestId('dl-discard').count()).to.equal(0);
    expect(await page.getByTestId('dl-replay-matching').count()).to.equal(0);

    // a viewer may still inspect it, masked
    await row.getByTestId('dl-inspect').click();
    const detail = page.getByTestId('dl-detail');
    await detail.waitFor();
    expect(await detail.innerText()).to.include(letter.trackingNo).and.not.include('28881234');
    await page.getByTestId('dialog-close').click();

    // the server refuses what the page does not offer, token or not
    const answer = await page.evaluate(async (id: string) => {
      const session = (await (await fetch('/ops/api/session', { headers: { Accept: 'application/json' } })).json()) as { csrfToken: string; user: { role: string } };
      const replay = await fetch(`/ops/api/dead-letters/${encodeURIComponent(id)}/replay`, { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': session.csrfToken }, body: '{}' });
      return { role: session.user.role, token: session.csrfToken.length > 0, status: replay.status };
    }, pendingLetterId);
    expect(answer).to.deep.equal({ role: 'viewer', token: true, status: 403 });
    const stored = await gateway.runtime.deadLetters.get(pendingLetterId);
    expect(stored?.replayedAt).to.equal(undefined);
    expect(gateway.simulator.notifiesFor(letter.seriesNumber)).to.have.length(0);
    expectNoPageProblems();
    await page.context().close();
  });

  it('five wrong passwords lock the account: all five answer "wrong password", then the right password is refused with the locked message', async () => {
    const page = await newPage();
    await page.goto(`${gateway.url}/ops/`);
    await page.getByTestId('login-username').fill('zhao');
    const attempt = async (password: string): Promise<number> => {
      await page.getByTestId('login-password').fill(password);
      const [answer] = await Promise.all([page.waitForResponse((response) => response.url().endsWith('/ops/api/login')), page.getByTestId('login-submit').click()]);
      return answer.status();
    };
    const error = page.getByTestId('login-error');
    // the lock is not told to someone guessing: the fifth wrong password reads like the four before it
    for (let n = 1; n <= 5; n++) {
      expect(await attempt(`wrong-password-${n}`), `attempt ${n}`).to.equal(401);
      await page.locator('[data-testid="login-error"][data-reason="wrong"]').waitFor();
      expect(await error.innerText()).to.include('用户名或密码错误');
    }

    // only the right password learns of the lock, and still opens no session
    expect(await attempt(PASSWORD)).to.equal(423);
    await page.locator('[data-testid="login-error"][data-reason="locked"]').waitFor();
    expect(await error.innerText()).to.include('账户已锁定');
    expect(await page.getByTestId('login-page').isVisible()).to.equal(true);
    expect(await page.getByTestId('current-user').isVisible()).to.equal(false);
    expectNoPageProblems();
    await page.context().close();
  });

  it('an admin finds data on every page: rooms, security events, reconciliation, dead letters, audit, overview and the queue board', async () => {
    // a message with a wrong signature: a security event
    expect((await gateway.province.send('apply', applyData({ start: at(day, '09:00'), end: at(day, '10:00') }), { secret: 'not-the-province-secret-0000' })).status).to.equal(401);
    const page = await newPage();
    await logIn(page, 'wei', 'admin');

    // rooms: the day of the bookings, one of them paused by its host
    const paused = await gateway.runtime.ledger.recordLifecycle({ partner: 'province', id: first.SERIES_NUMBER, status: 'paused', at: Date.parse(`${isoDay}T10:30:00+08:00`), reason: '专家申请回避', trackingNo: 'T-e2e-paused' });
    expect(paused.outcome).to.equal('recorded');
    await page.goto(`${gateway.url}/ops/#/rooms?from=${isoDay}&days=1`);
    await page.locator(`[data-testid="board-day"][data-date="${isoDay}"][data-closed="false"]`).waitFor();
    await page.locator(`[data-testid="booking-block"][data-request="${first.SERIES_NUMBER}"][data-kind="booking"][data-lifecycle="paused"]`).waitFor();
    expect(await page.getByTestId('booking-row').count()).to.equal(3);
    expect(await page.locator(`[data-testid="booking-row"][data-request="${first.SERIES_NUMBER}"] [data-testid="booking-lifecycle"]`).innerText()).to.equal('已暂停');
    await capture(page, 'rooms');

    await page.getByTestId('nav-security').click();
    await page.locator('[data-testid="security-row"][data-kind="signature"][data-partner="province"]').waitFor();
    await capture(page, 'security');

    // reconciliation on demand, then its run is listed
    await page.getByTestId('nav-actions').click();
    const reconciled = nextJob(gateway.workers?.workers.find((worker) => worker.name === 'periodic'), 'completed', (job) => job.name === 'reconciliation');
    await page.getByTestId('run-reconciliation').click();
    await page.locator('[data-testid="toast"][data-kind="ok"]').waitFor();
    await reconciled;
    await page.reload();
    await page.getByTestId('run-row').first().waitFor();
    // who started it, in Chinese: the gateway writes "on demand by <operator>"
    expect(await page.getByTestId('run-row').first().innerText()).to.include('手动发起').and.not.include('on demand');
    await page.getByTestId('exception-form').waitFor();
    await capture(page, 'actions');

    // dead letters of any status: the replayed one and the pending one
    await page.goto(`${gateway.url}/ops/#/dead-letters?status=`);
    await page.locator('[data-testid="dead-letter-row"][data-status="replayed"]').waitFor();
    const pending = page.locator(`[data-testid="dead-letter-row"][data-id="${pendingLetterId}"][data-status="pending"]`);
    await pending.waitFor();
    // the reason's code is named, and kept
    expect(await pending.innerText()).to.include('合作方拒收（DELIVERY_REFUSED）').and.include('发往省平台');
    await capture(page, 'dead-letters');
    // the pending one is settled by hand: discarded, with a reason
    await pending.getByTestId('dl-discard').click();
    await page.getByTestId('discard-reason').fill('已电话告知省平台 / told the province by phone');
    await page.getByTestId('dialog-confirm').click();
    await page.locator(`[data-testid="dead-letter-row"][data-id="${pendingLetterId}"][data-status="discarded"]`).waitFor();

    // audit: the logins, the lockout, the viewer refused, the operator's replay
    await page.getByTestId('nav-audit').click();
    await page.locator('[data-testid="audit-row"][data-action="dead-letter.discard"][data-actor="wei"]').waitFor();
    expect(await page.locator('[data-testid="audit-row"][data-action="dead-letter.replay"][data-actor="chen"][data-result="ok"]').count()).to.equal(1);
    expect(await page.locator('[data-testid="audit-row"][data-actor="lin"][data-result="denied"]').count()).to.be.at.least(1);
    // actions are named in Chinese, their codes kept beneath
    expect(await page.locator('[data-testid="audit-row"][data-actor="lin"][data-result="denied"]').first().innerText()).to.include('越权请求');
    expect(await page.locator('[data-testid="audit-row"][data-action="dead-letter.replay"][data-actor="chen"]').innerText()).to.include('重放死信').and.include('dead-letter.replay');
    expect(await page.locator('[data-testid="audit-row"][data-action="login"][data-actor="zhao"][data-result="failed"]').count()).to.equal(6);
    expect(await page.locator('[data-testid="audit-row"][data-action="login"][data-actor="zhao"][data-result="failed"]').last().innerText()).to.include('原因: 用户名或密码错误');
    await capture(page, 'audit');

    // the overview once there is something to show: the run, periodic jobs, the refusals
    await page.getByTestId('nav-overview').click();
    await page.getByTestId('reconciliation-row').first().waitFor();
    await page.locator('[data-testid="dead-letters-pending"][data-count="0"]').waitFor();
    await page.locator('[data-testid="partner-row"][data-partner="province"] [data-testid="partner-last-out"]:not([title="—"])').waitFor();
    await capture(page, 'overview');

    // bull-board, behind the same login
    await page.getByTestId('nav-queues').click();
    await page.waitForURL(/\/ops\/queues\/?$/);
    // its cards, not just the side bar: the queues' figures have loaded
    await page.locator('main a[href$="/queue/outbound-province"]').waitFor();
    await page.locator('main').getByText('outbound-changsha').waitFor();
    await capture(page, 'queues');
    expectNoPageProblems();
    await page.context().close();
  });
  it('an evaluation planned through the use case is listed on 主场评标 for its day and follows its guests into force; the agent is masked, and the room board shows its host room as 主场', async () => {
    const page = operatorPage;
    const planned = await planHostEvaluation(gateway.runtime, hostPlan(), 'e2e');
    inForceId = planned.id;
    await page.goto(`${gateway.url}/ops/#/hosting?date=${hostIsoDay}`);
    const card = page.locator(`[data-testid="host-evaluation"][data-id="${planned.id}"]`);
    await card.waitFor();
    expect(await card.getByTestId('host-section').innerText()).to.equal('M4302000260018837001001');
    expect(await card.getByTestId('host-state').innerText()).to.equal('申请中');
    await card.locator('[data-testid="host-leg"][data-center="430300"][data-state="requested"]').waitFor();
    expect(await card.locator('[data-testid="host-leg"]').innerText()).to.include('湘潭（430300）').and.include('省平台');

    // the guest approves through the province while the page is open: it follows without a reload
    await gateway.simulator.waitFor('host-apply', (message) => message.data['BID_SECTION_CODE'] === 'M4302000260018837001001');
    const series = [...gateway.simulator.host.applications.values()].find((record) => record.data['BID_SECTION_CODE'] === 'M4302000260018837001001')?.series ?? '';
    expect(series).to.not.equal('');
    // the application's number on the leg: the gateway has the province's answer, the guests may answer
    await card.locator(`[data-testid="host-leg"] td`).filter({ hasText: series }).waitFor();
    await gateway.simulator.pushResult(series, '430300', { approve: true });
    await gateway.simulator.pushOutcome(series, '1');
    await page.locator(`[data-testid="host-evaluation"][data-id="${planned.id}"][data-state="in-force"]`).waitFor();
    await card.locator('[data-testid="host-leg"][data-center="430300"][data-state="approved"]').waitFor();
    expect(await card.getByTestId('host-state').innerText()).to.equal('已生效');
    expect(await card.getByTestId('leg-state').innerText()).to.equal('已同意');

    // personal data: masked on the card, and nowhere in the page
    expect(await card.getByTestId('host-agent').innerText()).to.equal('王** · 138****8000');
    const html = await page.content();
    expect(html).to.not.include('王小明').and.not.include('13800138000');

    // the room board: the host room booked, labelled 主场, its id leading to the evaluation
    await page.goto(`${gateway.url}/ops/#/rooms?from=${hostIsoDay}&days=1`);
    const row = page.locator(`[data-testid="booking-row"][data-host-evaluation="${planned.id}"]`);
    await row.waitFor();
    expect(await row.getByTestId('booking-partner').innerText()).to.equal('主场');
    await page.locator(`[data-testid="booking-block"][data-host-evaluation="${planned.id}"][data-kind="booking"]`).waitFor();
    await row.getByTestId('booking-host-link').click();
    await page.waitForURL(new RegExp(`#/hosting/${planned.id}$`));
    await page.locator(`[data-testid="host-evaluation"][data-id="${planned.id}"][data-state="in-force"]`).waitFor();
    await page.getByTestId('host-trace').waitFor();
    expectNoPageProblems();
  });

  it('an operator plans an evaluation with the form: the free seats of the chosen guest center show beside it, and the evaluation is listed', async () => {
    const page = operatorPage;
    gateway.simulator.host.setFreeSeats('430400', [{ name: 'HY-PBS-01', freeSeats: 6 }]);
    await page.goto(`${gateway.url}/ops/#/hosting?date=${hostIsoDay}`);
    await page.getByTestId('host-form').waitFor();
    expect(await page.getByTestId('host-form-title').innerText()).to.equal('新建主场评标');
    // 变更 fills the form with the plan in force (the contact and phone asked again: the page never has them); left, it plans anew
    await page.locator(`[data-testid="host-evaluation"][data-id="${inForceId}"] [data-testid="host-change"]`).click();
    expect(await page.getByTestId('host-form-title').innerText()).to.equal(`变更主场评标 ${inForceId}`);
    expect(await page.getByTestId('host-sectionCode').inputValue()).to.equal('M4302000260018837001001');
    expect(await page.getByTestId('host-sectionCode').getAttribute('readonly')).to.equal('');
    expect(await page.locator('[data-testid="host-guest"] [data-testid="host-guest-center"]').inputValue()).to.equal('430300');
    expect(await page.getByTestId('host-agentPhone').inputValue()).to.equal('');
    expect(await page.getByTestId('host-change-reason').isVisible()).to.equal(true);
    await page.getByTestId('host-change-abandon').click();
    expect(await page.getByTestId('host-form-title').innerText()).to.equal('新建主场评标');
    expect(await page.getByTestId('host-sectionCode').inputValue()).to.equal('');
    await page.getByTestId('host-projectCode').fill('M4302000260018837002');
    await page.getByTestId('host-sectionCode').fill('M4302000260018837002001');
    await page.getByTestId('host-projectName').fill('株洲市某学校设备采购');
    await page.getByTestId('host-tradeType').selectOption('ZFCG');
    expect(await page.getByTestId('host-projectType').isVisible()).to.equal(false);
    await page.getByTestId('host-start').fill(`${hostIsoDay}T14:00`);
    await page.getByTestId('host-end').fill(`${hostIsoDay}T17:00`);
    await page.getByTestId('host-hostSeats').fill('4');
    const guest = page.locator('[data-testid="host-guest"][data-index="0"]');
    await guest.getByTestId('host-guest-seats').fill('2');
    await guest.getByTestId('host-guest-center').selectOption('430400');
    // the province's seat-check, asked by the gateway for the page
    const free = guest.locator('[data-testid="host-guest-free"][data-state="answered"]');
    await free.waitFor();
    expect(await free.getAttribute('data-free')).to.equal('6');
    expect(await free.getAttribute('data-meets')).to.equal('true');
    expect(await free.innerText()).to.include('空闲 6 座，满足');
    await page.getByTestId('host-agentContact').fill('赵六');
    await page.getByTestId('host-agentPhone').fill('0731-28885678');
    await page.getByTestId('host-submit').click();

    await page.locator('[data-testid="toast"][data-kind="ok"]').filter({ hasText: '已发起主场评标' }).waitFor();
    const card = page.locator('[data-testid="host-evaluation"]').filter({ has: page.locator('[data-testid="host-section"]', { hasText: 'M4302000260018837002001' }) });
    await card.waitFor();
    expect(await card.getAttribute('data-state')).to.be.oneOf(['requested', 'in-force']);
    await card.locator('[data-testid="host-leg"][data-center="430400"]').waitFor();
    expect(await card.getByTestId('host-agent').innerText()).to.equal('赵* · 073******5678');
    const id = (await card.getAttribute('data-id')) ?? '';
    const stored = await gateway.runtime.hostEvaluations.get(id);
    expect(stored?.plan.guests).to.deep.equal([{ center: '430400', seats: 2 }]);
    expect(stored?.plan.hostSeats).to.equal(4);
    // the form is empty again, ready for the next
    expect(await page.getByTestId('host-sectionCode').inputValue()).to.equal('');
    await page.locator(`[data-testid="host-evaluation"][data-id="${inForceId}"][data-state="in-force"]`).waitFor();
    // the picture from the top: the day's evaluations, the form below them
    await page.evaluate('window.scrollTo(0, 0)');
    await capture(page, 'hosting');
    expectNoPageProblems();
  });

  it('a viewer sees the evaluations of the day but no form and no action button, and a cancel posted with the viewer\'s CSRF token answers 403', async () => {
    const page = await newPage();
    await logIn(page, 'lin', 'viewer');
    await page.getByTestId('nav-hosting').click();
    await page.goto(`${gateway.url}/ops/#/hosting?date=${hostIsoDay}`);
    const card = page.locator(`[data-testid="host-evaluation"][data-id="${inForceId}"][data-state="in-force"]`);
    await card.waitFor();
    expect(await page.getByTestId('host-evaluation').count()).to.equal(2);
    expect(await page.getByTestId('host-actions').count()).to.equal(0);
    expect(await page.getByTestId('host-cancel').count()).to.equal(0);
    expect(await page.getByTestId('host-change').count()).to.equal(0);
    expect(await page.getByTestId('host-do-start').count()).to.equal(0);
    expect(await page.getByTestId('host-form-panel').count()).to.equal(0);

    const answer = await page.evaluate(async (id: string) => {
      const session = (await (await fetch('/ops/api/session', { headers: { Accept: 'application/json' } })).json()) as { csrfToken: string };
      const cancel = await fetch(`/ops/api/host-evaluations/${encodeURIComponent(id)}/cancel`, { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': session.csrfToken }, body: JSON.stringify({ reason: 'viewer' }) });
      return cancel.status;
    }, inForceId);
    expect(answer).to.equal(403);
    expect((await gateway.runtime.hostEvaluations.get(inForceId))?.state).to.equal('in-force');
    expectNoPageProblems();
    await page.context().close();
  });

  it('an operator cancels an evaluation in force with a reason: it reads 已取消, the province is told, and the audit names the operator', async () => {
    const page = operatorPage;
    await page.goto(`${gateway.url}/ops/#/hosting?date=${hostIsoDay}`);
    const card = page.locator(`[data-testid="host-evaluation"][data-id="${inForceId}"][data-state="in-force"]`);
    await card.waitFor();
    // in force and not started: started, changed or cancelled
    expect(await card.getByTestId('host-do-pause').count()).to.equal(0);
    expect(await card.getByTestId('host-change').count()).to.equal(1);
    // started, then paused with a reason: the province hears both (eval-status 1, then 4)
    await card.getByTestId('host-do-start').click();
    await page.getByTestId('dialog-confirm').click();
    const started = page.locator(`[data-testid="host-evaluation"][data-id="${inForceId}"][data-lifecycle="started"]`);
    await started.waitFor();
    expect(await started.getByTestId('host-lifecycle').innerText()).to.equal('评标中');
    await started.getByTestId('host-do-pause').click();
    await page.getByTestId('host-status-reason').fill('专家申请回避');
    await page.getByTestId('dialog-confirm').click();
    const paused = page.locator(`[data-testid="host-evaluation"][data-id="${inForceId}"][data-lifecycle="paused"]`);
    await paused.waitFor();
    expect(await paused.getByTestId('host-lifecycle').innerText()).to.equal('已暂停');
    expect(await paused.getByTestId('host-do-resume').count()).to.equal(1);
    expect((await gateway.simulator.waitFor('eval-status', (message) => message.data['EVAL_STATUS'] === '4')).signatureValid).to.equal(true);

    const told = gateway.simulator.waitFor('host-cancel');
    await paused.getByTestId('host-cancel').click();
    await page.getByTestId('host-cancel-reason').fill('项目暂停 / project suspended');
    await page.getByTestId('dialog-confirm').click();

    const cancelled = page.locator(`[data-testid="host-evaluation"][data-id="${inForceId}"][data-state="cancelled"]`);
    await cancelled.waitFor();
    expect(await cancelled.getByTestId('host-state').innerText()).to.equal('已取消');
    expect(await cancelled.getByTestId('host-reason').innerText()).to.include('项目暂停');
    expect(await cancelled.getByTestId('host-actions').count()).to.equal(0);
    expect((await told).signatureValid).to.equal(true);

    // the audit names the operator and the evaluation, and keeps the reason
    const admin = await newPage();
    await logIn(admin, 'wei', 'admin');
    await admin.getByTestId('nav-audit').click();
    const entry = admin.locator(`[data-testid="audit-row"][data-action="host-evaluation.cancel"][data-actor="chen"][data-result="ok"]`);
    await entry.waitFor();
    expect(await entry.innerText()).to.include('取消主场评标').and.include(inForceId).and.include('项目暂停');
    expectNoPageProblems();
    await admin.context().close();
  });

  it('a viewer sees the seeded 24-hour history on the overview: ECharts draws the known counts, latencies and queue samples at their Beijing minutes, and the tables beside the charts say the same', async () => {
    // a known history, written as the gateway writes it, hours before the traffic of the other tests
    const minute = Math.floor(Date.now() / 60_000) * 60_000;
    const counters = new PendingCounters(gateway.runtime.redis, (error) => {
      throw error;
    });
    const clock = fixedClock(minute);
    const history = new HistorySeries({ redis: gateway.runtime.redis, keys: gateway.runtime.keys, clock, counters });
    const threeHoursAgo = minute - 180 * 60_000;
    const twoHoursAgo = minute - 120 * 60_000;
    const ninetyMinutesAgo = minute - 90 * 60_000;
    clock.set(threeHoursAgo + 5000);
    for (let n = 0; n < 42; n += 1) history.answered('province', 200);
    for (let n = 0; n < 5; n += 1) history.answered('province', 401);
    clock.set(twoHoursAgo + 5000);
    for (let n = 0; n < 10; n += 1) history.delivered('province', 'delivered', 40);
    for (let n = 0; n < 7; n += 1) history.delivered('province', 'delivered', 700);
    await counters.flush();
    clock.set(ninetyMinutesAgo + 5000);
    await history.sampleQueues([{ name: gateway.runtime.inboundQueue.name, depth: 9, oldestSeconds: 300 }]);
    const beijing = (ms: number) => new Intl.DateTimeFormat('zh-CN', { timeZone: 'Asia/Shanghai', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(new Date(ms));

    const page = await newPage();
    await logIn(page, 'lin', 'viewer');
    await page.getByTestId('nav-overview').click();
    await page.locator('[data-testid="overview-history"][data-ready="true"]').waitFor();

    /** what ECharts holds for a chart: its x-axis labels and each series' data */
    const chartData = (testid: string) =>
      page.evaluate((id) => {
        // runs in the page: its document and the ECharts the page loaded
        const browserSide = globalThis as unknown as {
          document: { querySelector(selector: string): unknown };
          echarts: { getInstanceByDom(element: unknown): { getOption(): { xAxis: { data: string[] }[]; series: { id: string; name: string; data: (number | null)[] }[] } } | undefined };
        };
        const element = browserSide.document.querySelector(`[data-testid="${id}-chart"]`);
        const option = element ? browserSide.echarts.getInstanceByDom(element)?.getOption() : undefined;
        if (!option) return null;
        return { labels: option.xAxis[0]?.data ?? [], series: option.series.map((one) => ({ id: one.id, name: one.name, data: one.data })) };
      }, testid);
    const valueAt = (chart: NonNullable<Awaited<ReturnType<typeof chartData>>>, id: string, ms: number) => {
      const at = chart.labels.indexOf(beijing(ms));
      expect(at, `${beijing(ms)} on the axis`).to.be.at.least(0);
      return chart.series.find((one) => one.id === id)?.data[at];
    };

    const province = await chartData('history-partner-province');
    expect(province?.labels).to.have.length(1440);
    expect(province?.series.map((one) => one.name)).to.deep.equal(['收到', '发出', '拒收']);
    expect(valueAt(province!, 'in', threeHoursAgo)).to.equal(42);
    expect(valueAt(province!, 'refused', threeHoursAgo)).to.equal(5);
    expect(valueAt(province!, 'out', twoHoursAgo)).to.equal(17);
    expect(valueAt(province!, 'in', twoHoursAgo)).to.equal(0);

    // 17 deliveries: the 9th is 40 ms (bucket ≤ 50 ms), the 17th 700 ms (bucket ≤ 750 ms)
    const latency = await chartData('history-latency');
    expect(valueAt(latency!, 'province:p50', twoHoursAgo)).to.equal(50);
    expect(valueAt(latency!, 'province:p95', twoHoursAgo)).to.equal(750);
    expect(valueAt(latency!, 'province:p50', threeHoursAgo)).to.equal(null);

    const depth = await chartData('history-depth');
    expect(valueAt(depth!, gateway.runtime.inboundQueue.name, ninetyMinutesAgo)).to.equal(9);
    const oldest = await chartData('history-oldest');
    expect(valueAt(oldest!, gateway.runtime.inboundQueue.name, ninetyMinutesAgo)).to.equal(300);

    // the table beside the chart: the highest minute of the day and when it was, in Beijing time
    const inRow = page.locator('[data-testid="history-partner-province-table"] [data-testid="history-summary-row"][data-series="in"]');
    expect(await inRow.getAttribute('data-max')).to.equal('42');
    expect(await inRow.getAttribute('data-max-at')).to.equal(beijing(threeHoursAgo));
    expect(await inRow.innerText()).to.include('收到').and.include(beijing(threeHoursAgo));
    const depthRow = page.locator(`[data-testid="history-depth-table"] [data-testid="history-summary-row"][data-series="${gateway.runtime.inboundQueue.name}"]`);
    expect(await depthRow.getAttribute('data-max')).to.equal('9');
    expect(await page.getByTestId('history-partner-province-chart').getAttribute('aria-label')).to.include('北京时间');
    // drawn on a canvas under the page's CSP: no refusal in the console
    expect(await page.locator('[data-testid="history-partner-province-chart"] canvas').count()).to.be.at.least(1);
    expectNoPageProblems();
    await page.context().close();
  });

  it('an operator opens a refused province message in the lab with one click from 安全事件: the refused request is shown and checked at once (signature does not match); a corrected paste passes every step, no token shown', async () => {
    // a message signed with the wrong secret: refused (401), kept sealed, and listed as a security event
    const data = applyData({ start: at(day, '13:00'), end: at(day, '14:00'), SEAT_COUNT: 2 });
    const envelope = (secret: string) => buildEnvelope({ secret, method: 'HMAC-SM3', systemNo: 'HNSDD', dataUuid: `abc${Date.now().toString(16)}`.padEnd(32, '0'), time: formatCompactBeijing(Date.now()), interfaceCode: 'apply' }, data);
    const refusedBody = JSON.stringify(envelope('not-the-province-secret'));
    const refused = await fetch(`${gateway.url}/partners/province/apply`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: refusedBody });
    expect(refused.status).to.equal(401);
    const page = await newPage();
    await logIn(page, 'chen', 'operator');
    await page.getByTestId('nav-security').click();
    const row = page.locator('[data-testid="security-row"][data-kind="signature"][data-partner="province"]').first();
    await row.locator('[data-testid="security-open-lab"][data-kept="true"]').click();

    // one click: the lab shows the request as refused and its verdict
    await page.locator('[data-testid="lab-result"][data-passed="false"]').waitFor();
    expect(await page.getByTestId('lab-from-event').innerText()).to.include('拒绝的原始请求');
    expect(await page.getByTestId('lab-partner').inputValue()).to.equal('province');
    expect(await page.getByTestId('lab-operation').inputValue()).to.equal('apply');
    expect(await page.getByTestId('lab-raw').inputValue()).to.equal(`POST /partners/province/apply HTTP/1.1\ncontent-type: application/json\n\n${refusedBody}`);
    expect(await page.getByTestId('lab-verdict').innerText()).to.include('网关会拒绝此请求');
    expect(await page.locator('[data-testid="lab-step"][data-step="signature"]').getAttribute('data-status')).to.equal('fail');
    expect(await page.locator('[data-testid="lab-step"][data-step="signature"]').innerText()).to.include('does not match');

    // the developer's corrected request as pasted: headers, blank line, body
    const signed = envelope(INBOUND_SECRET);
    await page.getByTestId('lab-operation').selectOption('apply');
    await page.getByTestId('lab-raw').fill(`POST /partners/province/apply HTTP/1.1\nContent-Type: application/json; charset=utf-8\n\n${JSON.stringify(signed)}`);
    await page.getByTestId('lab-submit').click();
    await page.locator('[data-testid="lab-result"][data-passed="true"]').waitFor();
    for (const name of ['parse', 'schema', 'signature', 'clock', 'rules', 'idempotency']) {
      expect(await page.locator(`[data-testid="lab-step"][data-step="${name}"]`).getAttribute('data-status'), name).to.equal('pass');
    }
    const text = await page.getByTestId('lab-output').innerText();
    expect(text).to.include('签名').and.include('signing string').and.not.include(signed.validation.TOKEN);
    await capture(page, 'lab');

    // a wrong TOKEN: the signature step fails, and only says so
    await page.getByTestId('lab-raw').fill(JSON.stringify({ ...signed, validation: { ...signed.validation, TOKEN: '0'.repeat(64) } }));
    await page.getByTestId('lab-submit').click();
    await page.locator('[data-testid="lab-step"][data-step="signature"][data-status="fail"]').waitFor();
    expect(await page.locator('[data-testid="lab-step"][data-step="signature"]').innerText()).to.include('does not match').and.not.include(signed.validation.TOKEN);
    // nothing the lab looked at was recorded
    expect(await gateway.runtime.messages.messageKnown('province', signed.validation.DATAUUID)).to.equal(false);
    const audited = await gateway.runtime.audit.recent(20);
    expect(audited.filter((entry) => entry.action === 'lab.open' && entry.actor === 'chen')).to.have.length(1);
    expect(audited.filter((entry) => entry.action === 'lab.run' && entry.actor === 'chen')).to.have.length(3);

    // a refused request that has rolled out of the ring: the page says so plainly
    await page.goto(`${gateway.url}/ops/#/lab?${new URLSearchParams({ partner: 'province', requestId: 'R-gone', code: 'UNAUTHENTICATED', refused: '01KB0000000000000000000000' }).toString()}`);
    await page.getByTestId('lab-refused-gone').waitFor();
    expect(await page.getByTestId('lab-refused-gone').innerText()).to.include('已不再保留');
    expectNoPageProblems();
    await page.context().close();
  });

  it('a viewer has no lab in the menu, is refused the page, and a lab run posted with the viewer\'s CSRF token answers 403', async () => {
    const page = await newPage();
    await logIn(page, 'lin', 'viewer');
    expect(await page.getByTestId('nav-lab').count()).to.equal(0);
    await page.goto(`${gateway.url}/ops/#/lab`);
    await page.getByTestId('forbidden').waitFor();
    await page.getByTestId('nav-security').click();
    await page.getByTestId('security-table').or(page.getByText('没有事件。')).first().waitFor();
    expect(await page.getByTestId('security-open-lab').count()).to.equal(0);
    const status = await page.evaluate(async () => {
      const session = (await (await fetch('/ops/api/session', { headers: { Accept: 'application/json' } })).json()) as { csrfToken: string };
      const run = await fetch('/ops/api/lab', { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': session.csrfToken }, body: JSON.stringify({ partner: 'province', operation: 'apply', raw: '{}' }) });
      return run.status;
    });
    expect(status).to.equal(403);
    expectNoPageProblems();
    await page.context().close();
  });
});
