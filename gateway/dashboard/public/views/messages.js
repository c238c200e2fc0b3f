/* global location, HTMLInputElement, HTMLSelectElement */
import * as api from '../api.js';
import { badge, clock, empty, h, json, replace, table, time } from '../dom.js';
import { deliveryKindName, failureReason, named, operationName, outcomeName, partnerName, reasonName, stateName, tr } from '../i18n.js';
import { app, can } from '../ui.js';
import { raiseExceptionDialog } from './actions.js';

/** @typedef {import('../model.js').MessageSummary} MessageSummary */
/** @typedef {import('../model.js').MessageDetail} MessageDetail */
/** @typedef {import('../model.js').TraceEntry} TraceEntry */

const KIND_NAMES = /** @type {Record<string, [string, string]>} */ ({
  '': ['任意编号', 'any id'],
  series: ['申请编号 SERIES_NUMBER', 'SERIES_NUMBER'],
  dataUuid: ['DATAUUID', 'DATAUUID'],
  section: ['标段编号', 'bid section code'],
  trackingNo: ['跟踪号', 'tracking number'],
  messageId: ['消息 ID', 'message id'],
  eventId: ['事件 ID (eventId)', 'eventId'],
  requestId: ['请求 ID (requestId)', 'requestId'],
});

const STAGE_NAMES = /** @type {Record<string, [string, string]>} */ ({
  received: ['收到', 'received'],
  canonical: ['规范化', 'canonical'],
  decision: ['台账决定', 'ledger decision'],
  'answer-sent': ['应答直接发送', 'answer sent directly'],
  'answer-queued': ['应答入队', 'answer queued'],
  'delivery-attempt': ['投递尝试', 'delivery attempt'],
  'dead-lettered': ['进入死信', 'dead-lettered'],
  replayed: ['已重放', 'replayed'],
  held: ['等待原申请', 'waiting for its original'],
  resumed: ['继续处理', 'resumed'],
  'held-too-long': ['等待超时', 'waited too long'],
  'hold-expiry': ['保留到期', 'hold expiry'],
  'notify-resent': ['重发通知', 'notify sent again'],
  'query-before-decision': ['决定前查询', 'query before decision'],
  'calendar-provisional': ['日历待定', 'provisional calendar'],
  reconciled: ['对账补收', 'reconciled'],
  'requeued-stranded': ['失联后重新入队', 'queued again after its job was lost'],
  'claim-released': ['撤销对原申请的占用', 'no longer names its original'],
  'exception-raised': ['异常上报', 'exception raised'],
  declined: ['被谢绝', 'declined'],
  'offer-confirmed': ['确认报价', 'offer confirmed'],
  'offer-released': ['释放报价', 'offer released'],
  'released-by-partner': ['对方释放', 'released by partner'],
  'seat-request-created': ['创建席位请求', 'seat request created'],
  'released-locally': ['本地释放', 'released here'],
  lifecycle: ['评标状态', 'evaluation status'],
});

/** @param {string} kind */
function idKindName(kind) {
  return named(KIND_NAMES, kind);
}

/** @param {string} stage */
function stageName(stage) {
  return named(STAGE_NAMES, stage);
}

/** @param {Record<string, string>} ids */
function idList(ids) {
  const entries = Object.entries(ids);
  if (entries.length === 0) return '—';
  return h('span', { class: 'ids' }, entries.map(([kind, value]) => h('span', { class: 'id-chip', title: kind }, h('span', { class: 'id-kind' }, idKindName(kind)), ' ', h('span', { class: 'mono' }, value))));
}

/** @param {MessageSummary[]} items */
function results(items) {
  if (items.length === 0) return empty(tr('没有找到消息。', 'No message found.'));
  return table(
    [tr('收到时间', 'Received'), tr('合作方', 'Partner'), tr('操作', 'Operation'), tr('状态', 'State'), tr('编号', 'Ids'), tr('跟踪号', 'Tracking no.')],
    items.map((item) =>
      h(
        'tr',
        { testid: 'message-row', dataset: { trackingNo: item.trackingNo, partner: item.partner ?? '' } },
        h('td', { class: 'nowrap' }, time(item.receivedAt)),
        h('td', null, partnerName(item.partner)),
        h('td', null, operationName(item.operation)),
        h('td', null, stateName(item.state)),
        h('td', null, idList(item.ids)),
        h('td', null, h('a', { class: 'mono', href: `#/messages/${encodeURIComponent(item.trackingNo)}`, testid: 'message-link' }, item.trackingNo)),
      ),
    ),
    { testid: 'messages-table' },
  );
}

/** datetime-local (Beijing wall time) from an instant. @param {number} ms */
function localInput(ms) {
  return new Date(ms + 8 * 3600_000).toISOString().slice(0, 16);
}

/** @param {import('../app.js').ViewContext} context */
async function searchPage(context) {
  const q = context.query.get('q') ?? '';
  const kind = context.query.get('kind') ?? '';
  const partner = context.query.get('partner') ?? '';
  const now = Date.now();
  const from = context.query.get('from') ?? localInput(now - 24 * 3600_000);
  const to = context.query.get('to') ?? localInput(now);

  const input = h('input', { type: 'search', value: q, placeholder: tr('SERIES_NUMBER、DATAUUID、标段编号、跟踪号…', 'SERIES_NUMBER, DATAUUID, section code, tracking no…'), testid: 'search-input', 'aria-label': tr('编号', 'Id'), maxlength: 128, required: true, autocomplete: 'off' });
  const kindSelect = h('select', { testid: 'search-kind', 'aria-label': tr('编号类型', 'Kind of id') }, Object.entries(KIND_NAMES).map(([value, [zh, en]]) => h('option', { value, selected: value === kind }, tr(zh, en))));
  const idForm = h(
    'form',
    {
      class: 'toolbar',
      testid: 'search-form',
      onsubmit: (/** @type {SubmitEvent} */ event) => {
        event.preventDefault();
        if (!(input instanceof HTMLInputElement) || !(kindSelect instanceof HTMLSelectElement)) return;
        const params = new URLSearchParams({ q: input.value.trim() });
        if (kindSelect.value) params.set('kind', kindSelect.value);
        location.hash = `#/messages?${params.toString()}`;
      },
    },
    input,
    kindSelect,
    h('button', { type: 'submit', class: 'btn btn-primary', testid: 'search-button' }, tr('查找', 'Search')),
  );

  const partnerSelect = h('select', { testid: 'range-partner', 'aria-label': tr('合作方', 'Partner') }, h('option', { value: '' }, tr('全部合作方', 'all partners')), (app.meta?.partners ?? []).map((name) => h('option', { value: name, selected: name === partner }, partnerName(name))));
  const fromInput = h('input', { type: 'datetime-local', value: from, testid: 'range-from', 'aria-label': tr('起', 'From') });
  const toInput = h('input', { type: 'datetime-local', value: to, testid: 'range-to', 'aria-label': tr('止', 'To') });
  const rangeForm = h(
    'form',
    {
      class: 'toolbar',
      testid: 'range-form',
      onsubmit: (/** @type {SubmitEvent} */ event) => {
        event.preventDefault();
        if (!(partnerSelect instanceof HTMLSelectElement) || !(fromInput instanceof HTMLInputElement) || !(toInput instanceof HTMLInputElement)) return;
        const params = new URLSearchParams({ from: fromInput.value, to: toInput.value });
        if (partnerSelect.value) params.set('partner', partnerSelect.value);
        location.hash = `#/messages?${params.toString()}`;
      },
    },
    h('span', { class: 'toolbar-label' }, tr('按时间：', 'By time:')),
    partnerSelect,
    fromInput,
    h('span', null, '–'),
    toInput,
    h('button', { type: 'submit', class: 'btn', testid: 'range-button' }, tr('列出', 'List')),
    h('span', { class: 'muted' }, tr('北京时间', 'Beijing time')),
  );

  const out = h('section', { class: 'panel', testid: 'search-results' });
  replace(context.root, h('div', { class: 'page-head' }, h('h1', null, tr('消息查询', 'Messages'))), h('section', { class: 'panel' }, idForm, rangeForm), out);
  if (!q && !context.query.has('from') && !context.query.has('partner')) {
    replace(out, empty(tr('输入任一编号查找，或按合作方和时间列出。', 'Search by any id, or list by partner and time.')));
    if (input instanceof HTMLInputElement) input.focus();
    return;
  }
  replace(out, h('p', { class: 'loading' }, tr('查找中…', 'Searching…')));
  const data = /** @type {{ items: MessageSummary[], total: number, capped: boolean }} */ (
    await api.get('/ops/api/messages', q ? { q, kind: kind || undefined } : { partner: partner || undefined, from: context.query.get('from') ?? undefined, to: context.query.get('to') ?? undefined, limit: 200 })
  );
  if (!context.shown()) return;
  // one hit by id: straight to its trace
  if (q && data.items.length === 1 && data.items[0]) {
    location.replace(`#/messages/${encodeURIComponent(data.items[0].trackingNo)}`);
    return;
  }
  replace(out, h('h2', null, tr(`${data.items.length} 条消息`, `${data.items.length} message(s)`)), data.capped ? h('p', { class: 'notice' }, tr(`共 ${data.total} 条，只显示最新的一部分。`, `${data.total} found, only the newest are shown.`)) : null, results(data.items));
}

/** @param {TraceEntry} entry */
function traceDetail(entry) {
  const detail = Object.fromEntries(Object.entries(entry).filter(([name]) => name !== 'at' && name !== 'stage'));
  return Object.keys(detail).length === 0 ? null : h('pre', { class: 'json small' }, json(detail));
}

/** @param {TraceEntry} entry */
function traceSummary(entry) {
  if (entry.stage === 'delivery-attempt') {
    const kind = typeof entry['kind'] === 'string' ? entry['kind'] : '';
    const health = kind === 'delivered' ? 'green' : kind === 'retry' ? 'amber' : 'red';
    return badge(health, `#${typeof entry['attempt'] === 'number' ? entry['attempt'] : '?'} ${deliveryKindName(kind)}${typeof entry['status'] === 'number' ? ` HTTP ${entry['status']}` : ''}`);
  }
  if (entry.stage === 'decision') {
    const outcome = typeof entry['outcome'] === 'string' ? entry['outcome'] : '';
    const health = outcome === 'rejected' ? 'red' : outcome === 'approved' || outcome === 'confirmed' || outcome === 'held' ? 'green' : 'neutral';
    const reason = typeof entry['reason'] === 'string' && entry['reason'] ? ` ${reasonName(entry['reason'])}` : '';
    return badge(health, `${outcomeName(outcome)}${reason}${typeof entry['roomId'] === 'string' && entry['roomId'] ? ` → ${entry['roomId']}` : ''}`);
  }
  if (entry.stage === 'dead-lettered') return badge('red', typeof entry['reason'] === 'string' ? failureReason(entry['reason']) : '');
  return null;
}

/** @param {MessageDetail} message */
function ledgerPanel(message) {
  const ledger = message.ledger;
  if (!ledger) return h('section', { class: 'panel', testid: 'ledger-decision' }, h('h2', null, tr('台账决定', 'Ledger decision')), empty(tr('没有台账记录。', 'Nothing in the ledger for this message.')));
  /** @type {[string, string | null | undefined][]} */
  const rows = [
    [tr('请求', 'Request'), ledger.requestId],
    [tr('状态', 'State'), stateName(ledger.state)],
    [tr('决定', 'Outcome'), ledger.outcome ? `${outcomeName(ledger.outcome)}${ledger.reason ? ` ${reasonName(ledger.reason)}` : ''}` : null],
    [tr('房间', 'Room'), ledger.roomId],
    [tr('座位', 'Seats'), ledger.seatIds.length > 0 ? ledger.seatIds.join(', ') : ledger.seats === null ? null : String(ledger.seats)],
    [tr('时间', 'When'), ledger.start ? `${time(ledger.start)} – ${ledger.end ? clock(ledger.end) : ''}` : null],
    [tr('保留至', 'Held until'), ledger.holdUntil ? time(ledger.holdUntil) : null],
    [tr('决定时间', 'Decided'), ledger.decidedAt ? time(ledger.decidedAt) : null],
  ];
  return h(
    'section',
    { class: 'panel', testid: 'ledger-decision', dataset: { state: ledger.state ?? '' } },
    h('h2', null, tr('台账决定', 'Ledger decision')),
    h('dl', { class: 'facts' }, rows.filter(([, value]) => value).flatMap(([label, value]) => [h('dt', null, label), h('dd', null, value ?? '')])),
  );
}

/** @param {import('../app.js').ViewContext} context @param {string} trackingNo */
async function detailPage(context, trackingNo) {
  const head = h('div', { class: 'page-head' }, h('h1', null, tr('消息', 'Message'), ' ', h('span', { class: 'mono' }, trackingNo)), h('a', { href: '#/messages' }, tr('← 返回查询', '← Back to search')));
  const content = h('div', { class: 'stack' });
  replace(context.root, head, content);

  let drawn = '';
  const draw = async () => {
    const message = /** @type {MessageDetail} */ (await api.get(`/ops/api/messages/${encodeURIComponent(trackingNo)}`));
    if (!context.shown()) return;
    // redrawn only when something changed, so open details and a selection stay
    const signature = JSON.stringify([message.traceTotal, message.state, message.ledger?.state, message.deadLetters.map((letter) => letter.status)]);
    if (signature === drawn) return;
    drawn = signature;
    const actions = [];
    if (can('operator') && message.exception.possible && message.exception.seriesNumber) {
      const series = message.exception.seriesNumber;
      actions.push(h('button', { type: 'button', class: 'btn', testid: 'message-raise-exception', onclick: () => void raiseExceptionDialog(series) }, tr('向省平台上报异常', 'Raise an exception to the province')));
    }
    const summary = h(
      'section',
      { class: 'panel', testid: 'message-summary', dataset: { trackingNo: message.trackingNo, partner: message.partner ?? '', state: message.state ?? '' } },
      h(
        'dl',
        { class: 'facts' },
        h('dt', null, tr('合作方', 'Partner')), h('dd', null, partnerName(message.partner)),
        h('dt', null, tr('操作', 'Operation')), h('dd', null, operationName(message.operation)),
        h('dt', null, tr('状态', 'State')), h('dd', null, stateName(message.state)),
        h('dt', null, tr('收到时间', 'Received')), h('dd', null, time(message.receivedAt)),
        h('dt', null, tr('请求', 'Request')), h('dd', { class: 'mono' }, message.requestId ?? '—'),
        h('dt', null, tr('编号', 'Ids')), h('dd', null, idList(message.ids)),
      ),
      actions.length > 0 ? h('div', { class: 'card-actions' }, actions) : null,
    );
    const trace = h(
      'section',
      { class: 'panel', testid: 'message-trace' },
      h('h2', null, tr('处理轨迹', 'Trace'), message.traceTotal > message.trace.length ? h('span', { class: 'muted small' }, tr(`（显示最后 ${message.trace.length} 条，共 ${message.traceTotal} 条）`, ` (last ${message.trace.length} of ${message.traceTotal})`)) : null),
      message.trace.length === 0
        ? empty(tr('没有轨迹。', 'No trace.'))
        : h(
            'ol',
            { class: 'timeline', testid: 'trace' },
            message.trace.map((entry) =>
              h(
                'li',
                { class: `timeline-entry stage-${entry.stage}`, testid: 'trace-entry', dataset: { stage: entry.stage } },
                h('div', { class: 'timeline-head' }, h('span', { class: 'timeline-time' }, time(entry.at)), h('strong', null, stageName(entry.stage)), traceSummary(entry)),
                h('details', null, h('summary', null, tr('详情', 'Details')), traceDetail(entry)),
              ),
            ),
          ),
    );
    const letters =
      message.deadLetters.length > 0
        ? h(
            'section',
            { class: 'panel', testid: 'message-dead-letters' },
            h('h2', null, tr('死信', 'Dead letters')),
            h('ul', null, message.deadLetters.map((letter) => h('li', null, badge(letter.status === 'pending' ? 'red' : 'neutral', stateName(letter.status)), ' ', time(letter.at), ' ', failureReason(letter.reason), ' ', h('a', { href: `#/dead-letters?status=&id=${encodeURIComponent(letter.id)}` }, tr('处理 →', 'Act →'))))),
          )
        : null;
    const raw = h(
      'section',
      { class: 'panel', testid: 'message-raw' },
      h('h2', null, tr('原始报文（个人信息已脱敏）', 'Raw message (personal data masked)')),
      message.raw === null ? empty(tr('没有原始报文。', 'No raw message.')) : h('pre', { class: 'json', testid: 'raw-json' }, json(message.raw)),
    );
    replace(content, summary, ledgerPanel(message), trace, letters, raw);
  };
  await draw();
  // deliveries go on after a page is opened: keep the trace current
  context.every(draw, 5000);
}

/** @param {import('../app.js').ViewContext} context */
export async function render(context) {
  const [trackingNo] = context.args;
  if (trackingNo) await detailPage(context, trackingNo);
  else await searchPage(context);
}
