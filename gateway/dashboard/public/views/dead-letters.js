/* global location, HTMLInputElement, HTMLSelectElement */
import * as api from '../api.js';
import { badge, empty, h, json, replace, table, time } from '../dom.js';
import { failureReason, jobName, operationName, partnerName, queueName, stateName, tr } from '../i18n.js';
import { app, can, closeDialog, describeError, openDialog, showDialog, toast } from '../ui.js';

/** @typedef {import('../model.js').DeadLetterSummary} DeadLetterSummary */
/** @typedef {import('../model.js').DeadLetterList} DeadLetterList */

const REFRESH_MS = 10_000;

/** @param {'pending' | 'replayed' | 'discarded'} status */
function statusBadge(status) {
  return badge(status === 'pending' ? 'red' : status === 'replayed' ? 'green' : 'neutral', stateName(status), 'dl-status');
}

/** @param {string} id */
async function inspect(id) {
  try {
    const letter = /** @type {DeadLetterSummary & { data: unknown, message: import('../model.js').MessageSummary | null }} */ (await api.get(`/ops/api/dead-letters/${encodeURIComponent(id)}`));
    const { data, message, ...rest } = letter;
    showDialog(
      tr(`死信 ${letter.id}`, `Dead letter ${letter.id}`),
      [
        h('dl', { class: 'facts' },
          h('dt', null, tr('原因', 'Reason')), h('dd', null, failureReason(letter.reason)),
          h('dt', null, tr('队列 / 任务', 'Queue / job')), h('dd', null, `${queueName(letter.queue)} · ${jobName(letter.jobName)} · `, h('span', { class: 'mono' }, letter.jobId)),
          h('dt', null, tr('尝试次数', 'Attempts')), h('dd', null, String(letter.attempts)),
          h('dt', null, tr('状态', 'Status')), h('dd', null, statusBadge(letter.status), letter.discarded ? ` ${letter.discarded.by}: ${letter.discarded.reason}` : ''),
          h('dt', null, tr('消息', 'Message')), h('dd', null, h('a', { href: `#/messages/${encodeURIComponent(letter.trackingNo)}`, testid: 'dl-trace-link', onclick: () => closeDialog() }, letter.trackingNo), message?.operation ? ` (${operationName(message.operation)})` : ''),
        ),
        h('h3', null, tr('任务数据（个人信息已脱敏）', 'Job data (personal data masked)')),
        h('pre', { class: 'json', testid: 'dl-detail' }, json({ ...rest, data })),
      ],
      'dl-inspect-dialog',
    );
  } catch (error) {
    toast(describeError(error), 'error');
  }
}

/** @param {DeadLetterSummary} letter @param {() => Promise<void>} refresh */
async function replay(letter, refresh) {
  const confirmed = await openDialog({
    title: tr('重放死信', 'Replay dead letter'),
    body: h('p', null, tr(`将任务重新放回队列 ${letter.queue}：${failureReason(letter.reason)}`, `Puts the job back on ${letter.queue}: ${failureReason(letter.reason)}`)),
    confirm: tr('重放', 'Replay'),
    testid: 'replay-form',
  });
  if (!confirmed) return;
  try {
    await api.post(`/ops/api/dead-letters/${encodeURIComponent(letter.id)}/replay`, {});
    toast(tr('已重放', 'Replayed'), 'ok');
  } catch (error) {
    toast(describeError(error), 'error');
  }
  await refresh();
}

/** @param {DeadLetterSummary} letter @param {() => Promise<void>} refresh */
async function discard(letter, refresh) {
  const values = await openDialog({
    title: tr('丢弃死信', 'Discard dead letter'),
    body: h('p', null, tr('丢弃后此消息不再发送。请写明原因（将记入审计日志）。', 'The message will not be sent. Give the reason (it goes to the audit log).')),
    confirm: tr('丢弃', 'Discard'),
    danger: true,
    testid: 'discard-form',
    fields: [{ name: 'reason', label: tr('原因', 'Reason'), kind: 'textarea', testid: 'discard-reason', required: true, minLength: 2, maxLength: 500 }],
  });
  if (!values) return;
  try {
    await api.post(`/ops/api/dead-letters/${encodeURIComponent(letter.id)}/discard`, { reason: values['reason'] ?? '' });
    toast(tr('已丢弃', 'Discarded'), 'ok');
  } catch (error) {
    toast(describeError(error), 'error');
  }
  await refresh();
}

/** @param {Record<string, string>} filter @param {number} matching @param {() => Promise<void>} refresh */
async function replayMatching(filter, matching, refresh) {
  const confirmed = await openDialog({
    title: tr('重放全部匹配的死信', 'Replay every matching dead letter'),
    body: h('p', null, tr(`将重放符合筛选条件的全部待处理死信（约 ${matching} 条）。`, `Replays every pending dead letter that matches the filter (about ${matching}).`)),
    confirm: tr('全部重放', 'Replay all'),
    danger: true,
    testid: 'replay-matching-form',
  });
  if (!confirmed) return;
  try {
    const result = /** @type {{ replayed: number }} */ (await api.post('/ops/api/dead-letters/replay', filter));
    toast(tr(`已重放 ${result.replayed} 条`, `${result.replayed} replayed`), 'ok');
  } catch (error) {
    toast(describeError(error), 'error');
  }
  await refresh();
}

/** @param {import('../app.js').ViewContext} context */
export async function render(context) {
  const query = context.query;
  const filter = {
    partner: query.get('partner') ?? '',
    queue: query.get('queue') ?? '',
    reason: query.get('reason') ?? '',
    // pending unless the route says otherwise (status= means any)
    status: query.has('status') ? (query.get('status') ?? '') : 'pending',
  };
  const partnerSelect = h('select', { name: 'partner', testid: 'dl-filter-partner', 'aria-label': tr('合作方', 'Partner') }, h('option', { value: '' }, tr('全部合作方', 'all partners')), (app.meta?.partners ?? []).map((name) => h('option', { value: name, selected: name === filter.partner }, partnerName(name))));
  const queueSelect = h('select', { name: 'queue', testid: 'dl-filter-queue', 'aria-label': tr('队列', 'Queue') }, h('option', { value: '' }, tr('全部队列', 'all queues')), (app.meta?.queues ?? []).map((queue) => h('option', { value: queue.name, selected: queue.name === filter.queue }, queueName(queue.name))));
  const reasonInput = h('input', { name: 'reason', type: 'search', value: filter.reason, placeholder: tr('原因包含…（如 DELIVERY_REFUSED）', 'reason contains… (e.g. DELIVERY_REFUSED)'), testid: 'dl-filter-reason', maxlength: 200 });
  const statusSelect = h(
    'select',
    { name: 'status', testid: 'dl-filter-status', 'aria-label': tr('状态', 'Status') },
    [['pending', tr('待处理', 'pending')], ['replayed', tr('已重放', 'replayed')], ['discarded', tr('已丢弃', 'discarded')], ['', tr('全部状态', 'any status')]].map(([value = '', label = '']) => h('option', { value, selected: value === filter.status }, label)),
  );
  const form = h(
    'form',
    {
      class: 'toolbar',
      testid: 'dl-filter',
      onsubmit: (/** @type {SubmitEvent} */ event) => {
        event.preventDefault();
        if (!(partnerSelect instanceof HTMLSelectElement) || !(queueSelect instanceof HTMLSelectElement) || !(reasonInput instanceof HTMLInputElement) || !(statusSelect instanceof HTMLSelectElement)) return;
        const params = new URLSearchParams({ status: statusSelect.value });
        if (partnerSelect.value) params.set('partner', partnerSelect.value);
        if (queueSelect.value) params.set('queue', queueSelect.value);
        if (reasonInput.value.trim()) params.set('reason', reasonInput.value.trim());
        location.hash = `#/dead-letters?${params.toString()}`;
      },
    },
    partnerSelect,
    queueSelect,
    reasonInput,
    statusSelect,
    h('button', { type: 'submit', class: 'btn btn-primary', testid: 'dl-filter-apply' }, tr('筛选', 'Filter')),
  );
  const counts = h('div', { class: 'counts', testid: 'dl-counts' });
  const toolbar = h('div', { class: 'toolbar' });
  const list = h('div', { testid: 'dl-list' });
  replace(context.root, h('div', { class: 'page-head' }, h('h1', null, tr('死信', 'Dead letters')), counts), h('section', { class: 'panel' }, form, toolbar, list));

  const refresh = async () => {
    const data = /** @type {DeadLetterList} */ (await api.get('/ops/api/dead-letters', { ...filter, limit: 500 }));
    if (!context.shown()) return;
    replace(
      counts,
      h('span', { class: 'count count-red', dataset: { status: 'pending' } }, tr(`待处理 ${data.counts.pending}`, `${data.counts.pending} pending`)),
      h('span', { class: 'count', dataset: { status: 'replayed' } }, tr(`已重放 ${data.counts.replayed}`, `${data.counts.replayed} replayed`)),
      h('span', { class: 'count', dataset: { status: 'discarded' } }, tr(`已丢弃 ${data.counts.discarded}`, `${data.counts.discarded} discarded`)),
    );
    /** @type {Record<string, string>} */
    const actionFilter = {};
    if (filter.partner) actionFilter['partner'] = filter.partner;
    if (filter.queue) actionFilter['queue'] = filter.queue;
    if (filter.reason) actionFilter['reason'] = filter.reason;
    const pendingMatching = data.items.filter((letter) => letter.status === 'pending').length;
    replace(
      toolbar,
      h('span', { class: 'muted', testid: 'dl-matching', dataset: { count: String(data.matching) } }, tr(`匹配 ${data.matching} 条`, `${data.matching} match`), data.capped ? tr('（仅扫描最新的死信）', ' (newest scanned only)') : ''),
      can('operator') && pendingMatching > 0
        ? h('button', { type: 'button', class: 'btn btn-danger', testid: 'dl-replay-matching', onclick: () => void replayMatching(actionFilter, pendingMatching, refresh) }, tr('重放全部匹配的待处理死信', 'Replay all matching pending'))
        : null,
    );
    const rows = data.items.map((letter) =>
      h(
        'tr',
        { testid: 'dead-letter-row', dataset: { id: letter.id, status: letter.status, partner: letter.partner, queue: letter.queue } },
        h('td', { class: 'nowrap' }, time(letter.at)),
        h('td', { class: 'nowrap' }, partnerName(letter.partner)),
        h('td', { title: letter.queue }, queueName(letter.queue)),
        h('td', { class: 'clip', title: letter.reason }, failureReason(letter.reason)),
        h('td', { class: 'num' }, String(letter.attempts)),
        h('td', null, statusBadge(letter.status), letter.discarded ? h('div', { class: 'muted small' }, `${letter.discarded.by}: ${letter.discarded.reason}`) : null),
        h('td', null, h('a', { class: 'mono', href: `#/messages/${encodeURIComponent(letter.trackingNo)}` }, letter.trackingNo)),
        h(
          'td',
          { class: 'row-actions' },
          h('button', { type: 'button', class: 'btn btn-small', testid: 'dl-inspect', onclick: () => void inspect(letter.id) }, tr('查看', 'Inspect')),
          can('operator') && letter.status === 'pending' ? h('button', { type: 'button', class: 'btn btn-small btn-primary', testid: 'dl-replay', onclick: () => void replay(letter, refresh) }, tr('重放', 'Replay')) : null,
          can('operator') && letter.status === 'pending' ? h('button', { type: 'button', class: 'btn btn-small btn-danger', testid: 'dl-discard', onclick: () => void discard(letter, refresh) }, tr('丢弃', 'Discard')) : null,
        ),
      ),
    );
    replace(
      list,
      rows.length > 0
        ? table([tr('时间', 'When'), tr('合作方', 'Partner'), tr('队列', 'Queue'), tr('原因', 'Reason'), tr('尝试', 'Attempts'), tr('状态', 'Status'), tr('消息', 'Message'), ''], rows, { testid: 'dead-letters-table' })
        : empty(tr('没有符合条件的死信。', 'No dead letter matches.')),
    );
  };
  await refresh();
  const id = query.get('id');
  if (id) void inspect(id);
  context.every(refresh, REFRESH_MS);
}
