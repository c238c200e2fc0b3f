/* global HTMLInputElement, HTMLSelectElement, HTMLTextAreaElement, HTMLFormElement */
import * as api from '../api.js';
import { badge, empty, h, replace, table, time } from '../dom.js';
import { partnerName, stateName, triggerName, tr } from '../i18n.js';
import { app, can, describeError, openDialog, toast } from '../ui.js';

/** @typedef {import('../model.js').RunDetail} RunDetail */

const TYPE_NAMES = /** @type {Record<string, [string, string]>} */ ({
  ROOM_FAULT: ['评标室故障', 'room fault'],
  NETWORK_FAULT: ['网络故障', 'network fault'],
  EXPERT_ABSENT: ['专家缺席', 'expert absent'],
  OTHER: ['其他', 'other'],
});

const SERIES = '^(SQ|BG)[0-9]{20}$';

/** Beijing wall time for a datetime-local input. */
function nowLocal() {
  return new Date(Date.now() + 8 * 3600_000).toISOString().slice(0, 16);
}

/** A datetime-local value (Beijing time) as ISO 8601. @param {string} value */
function isoBeijing(value) {
  return /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/.test(value) ? `${value}:00+08:00` : value;
}

function typeOptions() {
  return (app.meta?.exceptionTypes ?? Object.keys(TYPE_NAMES)).map((value) => {
    const names = TYPE_NAMES[value];
    return { value, label: names ? `${tr(names[0], names[1])} (${value})` : value };
  });
}

/** @param {{ seriesNumber: string, type: string, description: string, occurredAt: string }} input */
async function sendException(input) {
  const result = /** @type {{ reportId: string, trackingNo: string }} */ (await api.post('/ops/api/exceptions', { ...input, occurredAt: isoBeijing(input.occurredAt) }));
  toast(tr(`异常已提交省平台（${result.reportId}）`, `Exception sent to the province (${result.reportId})`), 'ok');
  return result;
}

/** The exception form as a dialog (from a message's page). @param {string} [seriesNumber] */
export async function raiseExceptionDialog(seriesNumber = '') {
  const values = await openDialog({
    title: tr('向省平台上报异常', 'Raise an exception to the province'),
    confirm: tr('上报', 'Send'),
    testid: 'exception-form',
    fields: [
      { name: 'seriesNumber', label: tr('申请编号 SERIES_NUMBER', 'SERIES_NUMBER'), testid: 'exception-series', required: true, value: seriesNumber, pattern: SERIES },
      { name: 'type', label: tr('类型', 'Type'), kind: 'select', testid: 'exception-type', options: typeOptions(), value: 'ROOM_FAULT' },
      { name: 'description', label: tr('说明', 'Description'), kind: 'textarea', testid: 'exception-description', required: true, minLength: 1, maxLength: 500 },
      { name: 'occurredAt', label: tr('发生时间（北京时间）', 'Occurred at (Beijing time)'), kind: 'datetime-local', testid: 'exception-occurred-at', required: true, value: nowLocal() },
    ],
  });
  if (!values) return;
  try {
    await sendException({ seriesNumber: values['seriesNumber'] ?? '', type: values['type'] ?? 'OTHER', description: values['description'] ?? '', occurredAt: values['occurredAt'] ?? '' });
  } catch (error) {
    toast(describeError(error), 'error');
  }
}

function exceptionForm() {
  const series = h('input', { id: 'exception-series', name: 'seriesNumber', required: true, pattern: SERIES, placeholder: 'SQ…', testid: 'exception-series', autocomplete: 'off', maxlength: 22 });
  const type = h('select', { id: 'exception-type', name: 'type', testid: 'exception-type' }, typeOptions().map((option) => h('option', { value: option.value }, option.label)));
  const description = h('textarea', { id: 'exception-description', name: 'description', required: true, maxlength: 500, rows: 3, testid: 'exception-description' });
  const occurredAt = h('input', { id: 'exception-occurred-at', name: 'occurredAt', type: 'datetime-local', required: true, value: nowLocal(), testid: 'exception-occurred-at' });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary', testid: 'exception-submit' }, tr('上报', 'Send'));
  const form = h(
    'form',
    {
      class: 'form-grid',
      testid: 'exception-form',
      onsubmit: (/** @type {SubmitEvent} */ event) => {
        event.preventDefault();
        if (!(series instanceof HTMLInputElement) || !(type instanceof HTMLSelectElement) || !(description instanceof HTMLTextAreaElement) || !(occurredAt instanceof HTMLInputElement)) return;
        submit.setAttribute('disabled', '');
        sendException({ seriesNumber: series.value.trim(), type: type.value, description: description.value.trim(), occurredAt: occurredAt.value })
          .then(() => {
            if (form instanceof HTMLFormElement) form.reset();
            occurredAt.value = nowLocal();
          })
          .catch((/** @type {unknown} */ error) => toast(describeError(error), 'error'))
          .finally(() => submit.removeAttribute('disabled'));
      },
    },
    h('label', { class: 'field', for: 'exception-series' }, h('span', { class: 'field-label' }, tr('申请编号 SERIES_NUMBER（已批准的申请）', 'SERIES_NUMBER (of an approved request)')), series),
    h('label', { class: 'field', for: 'exception-type' }, h('span', { class: 'field-label' }, tr('类型', 'Type')), type),
    h('label', { class: 'field field-wide', for: 'exception-description' }, h('span', { class: 'field-label' }, tr('说明', 'Description')), description),
    h('label', { class: 'field', for: 'exception-occurred-at' }, h('span', { class: 'field-label' }, tr('发生时间（北京时间）', 'Occurred at (Beijing time)')), occurredAt),
    h('div', { class: 'field field-end' }, submit),
  );
  return form;
}

/** @param {RunDetail} run */
function runRow(run) {
  const details = [];
  if (run.missed.length > 0) details.push(h('p', null, h('strong', null, tr('补收：', 'Missed: ')), run.missed.join(', ')));
  if (run.different.length > 0) {
    details.push(
      h('p', null, h('strong', null, tr('不一致：', 'Different: '))),
      h('ul', null, run.different.map((item) => h('li', { class: 'mono small' }, `${item.requestId}: ${tr('省平台', 'province')} ${time(item.partner.start)} ${item.partner.seats} ${tr('座', 'seats')} / ${tr('本地', 'here')} ${stateName(item.gateway.state)} ${item.gateway.roomId} ${item.gateway.start ? time(item.gateway.start) : ''} ${item.gateway.seats ?? ''}`))),
    );
  }
  if (run.extra.length > 0) details.push(h('p', null, h('strong', null, tr('仅本地有效：', 'Only here: ')), run.extra.join(', ')));
  if (run.pending.length > 0) details.push(h('p', null, h('strong', null, tr('待定：', 'Pending: ')), run.pending.join(', ')));
  if (run.errors.length > 0) details.push(h('p', null, h('strong', null, tr('错误：', 'Errors: '))), h('ul', null, run.errors.map((error) => h('li', { class: 'mono small' }, error))));
  return h(
    'tr',
    { testid: 'run-row', dataset: { run: run.runId, health: run.health } },
    h('td', null, badge(run.health, run.counts.errors > 0 ? tr('有错误', 'errors') : run.health === 'green' ? tr('一致', 'in step') : tr('有差异', 'differences'))),
    h('td', null, partnerName(run.partner)),
    h('td', { title: run.runId }, time(run.finishedAt)),
    h('td', null, triggerName(run.reason)),
    h('td', null, run.days.length > 0 ? `${run.days[0] ?? ''} … ${run.days.at(-1) ?? ''}` : '—'),
    h('td', { class: 'num' }, String(run.counts.missed)),
    h('td', { class: 'num' }, String(run.counts.different)),
    h('td', { class: 'num' }, String(run.counts.extra)),
    h('td', { class: 'num' }, String(run.counts.pending)),
    h('td', { class: 'num' }, String(run.counts.errors)),
    h('td', null, details.length > 0 ? h('details', null, h('summary', null, tr('明细', 'Details')), details) : '—'),
  );
}

/** @param {import('../app.js').ViewContext} context */
export async function render(context) {
  const runs = h('div', { testid: 'runs' });
  /** @type {HTMLElement | null} */
  let runButton = null;
  if (can('operator')) {
    const button = h('button', { type: 'button', class: 'btn btn-primary', testid: 'run-reconciliation' }, tr('立即对账', 'Reconcile now'));
    button.addEventListener('click', () => {
      button.setAttribute('disabled', '');
      api
        .post('/ops/api/reconciliations', {})
        .then((result) => toast(tr(`对账已加入队列：${/** @type {{ runId: string }} */ (result).runId}`, `Reconciliation queued: ${/** @type {{ runId: string }} */ (result).runId}`), 'ok'))
        .catch((/** @type {unknown} */ error) => toast(describeError(error), 'error'))
        .finally(() => button.removeAttribute('disabled'));
    });
    runButton = button;
  }
  replace(
    context.root,
    h('div', { class: 'page-head' }, h('h1', null, tr('对账与异常', 'Reconciliation & exceptions'))),
    h('section', { class: 'panel', testid: 'reconciliation-panel' }, h('div', { class: 'panel-head' }, h('h2', null, tr('与省平台对账', 'Reconciliation with the province')), runButton), runs),
    can('operator')
      ? h('section', { class: 'panel', testid: 'exception-panel' }, h('h2', null, tr('向省平台上报异常', 'Raise an exception to the province')), h('p', { class: 'muted' }, tr('评标室、网络或专家出现问题时，告知省平台（仅限已批准的申请）。', 'Tell the province of a room, network or expert problem with an approved request.')), exceptionForm())
      : null,
  );
  const refresh = async () => {
    const data = /** @type {{ items: RunDetail[] }} */ (await api.get('/ops/api/reconciliations', { limit: 20 }));
    if (!context.shown()) return;
    replace(
      runs,
      data.items.length === 0
        ? empty(tr('还没有对账记录。', 'No reconciliation has run yet.'))
        : table([tr('结果', 'Outcome'), tr('合作方', 'Partner'), tr('完成时间', 'Finished'), tr('触发', 'Trigger'), tr('日期', 'Days'), tr('补收', 'Missed'), tr('不一致', 'Different'), tr('仅本地', 'Only here'), tr('待定', 'Pending'), tr('错误', 'Errors'), ''], data.items.map(runRow), { testid: 'runs-table' }),
    );
  };
  await refresh();
  context.every(refresh, 15_000);
}
