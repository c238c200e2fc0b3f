/* global location, HTMLSelectElement */
import * as api from '../api.js';
import { badge, empty, h, percent, replace, table, time } from '../dom.js';
import { partnerName, securityKindName, tr } from '../i18n.js';
import { app, can } from '../ui.js';

/** @typedef {import('../model.js').SecurityData} SecurityData */

const REFRESH_MS = 15_000;

/** @param {string} kind */
function kindBadge(kind) {
  return badge(kind === 'signature' ? 'red' : kind === 'replay' ? 'neutral' : 'amber', securityKindName(kind), 'security-kind');
}

/** @param {import('../app.js').ViewContext} context */
export async function render(context) {
  const partner = context.query.get('partner') ?? '';
  const kind = context.query.get('kind') ?? '';
  const partnerSelect = h('select', { testid: 'security-filter-partner', 'aria-label': tr('合作方', 'Partner') }, h('option', { value: '' }, tr('全部合作方', 'all partners')), (app.meta?.partners ?? []).map((name) => h('option', { value: name, selected: name === partner }, partnerName(name))));
  const kindSelect = h('select', { testid: 'security-filter-kind', 'aria-label': tr('类型', 'Kind') }, h('option', { value: '' }, tr('全部类型', 'all kinds')), (app.meta?.securityKinds ?? []).map((name) => h('option', { value: name, selected: name === kind }, securityKindName(name))));
  const form = h(
    'form',
    {
      class: 'toolbar',
      testid: 'security-filter',
      onsubmit: (/** @type {SubmitEvent} */ event) => {
        event.preventDefault();
        if (!(partnerSelect instanceof HTMLSelectElement) || !(kindSelect instanceof HTMLSelectElement)) return;
        const params = new URLSearchParams();
        if (partnerSelect.value) params.set('partner', partnerSelect.value);
        if (kindSelect.value) params.set('kind', kindSelect.value);
        location.hash = `#/security?${params.toString()}`;
      },
    },
    partnerSelect,
    kindSelect,
    h('button', { type: 'submit', class: 'btn btn-primary', testid: 'security-filter-apply' }, tr('筛选', 'Filter')),
  );
  const summary = h('div', { class: 'stack' });
  const events = h('div');
  replace(
    context.root,
    h('div', { class: 'page-head' }, h('h1', null, tr('安全事件', 'Security events')), h('span', { class: 'muted' }, tr('签名被拒、重放、限流及合作方请求的 4xx', 'rejected signatures, replays, rate limiting and 4xx answers to partners'))),
    summary,
    h('section', { class: 'panel' }, h('h2', null, tr('事件', 'Events')), form, events),
  );

  const refresh = async () => {
    const data = /** @type {SecurityData} */ (await api.get('/ops/api/security', { partner: partner || undefined, kind: kind || undefined, limit: 300, days: 7 }));
    if (!context.shown()) return;
    const byPartner = table(
      [tr('合作方', 'Partner'), tr('4xx（15 分钟）', '4xx (15 min)'), tr('5xx（15 分钟）', '5xx (15 min)'), tr('错误率（15 分钟）', 'Error rate (15 min)'), tr('4xx（1 小时）', '4xx (1 h)'), tr('应答（1 小时）', 'Answers (1 h)')],
      data.byPartner.map((entry) =>
        h(
          'tr',
          { testid: 'security-partner-row', dataset: { partner: entry.partner } },
          h('th', { scope: 'row' }, partnerName(entry.partner)),
          h('td', { class: 'num' }, String(entry.last15m['4xx'])),
          h('td', { class: 'num' }, String(entry.last15m['5xx'])),
          h('td', { class: 'num' }, percent(entry.last15m.errorRate)),
          h('td', { class: 'num' }, String(entry.last1h['4xx'])),
          h('td', { class: 'num' }, String(entry.last1h.total)),
        ),
      ),
    );
    // days down, partner × kind across
    const days = [...new Set(data.daily.map((count) => count.day))].sort().reverse();
    const columns = (app.meta?.partners ?? []).flatMap((name) => data.kinds.map((k) => ({ partner: name, kind: k })));
    const daily =
      days.length === 0
        ? empty(tr('最近 7 天没有安全事件。', 'No security event in the last 7 days.'))
        : table(
            [tr('日期', 'Day'), ...columns.map((column) => `${partnerName(column.partner)} · ${securityKindName(column.kind)}`)],
            days.map((day) =>
              h(
                'tr',
                { testid: 'security-day-row', dataset: { day } },
                h('th', { scope: 'row' }, day),
                columns.map((column) => {
                  const count = data.daily.find((entry) => entry.day === day && entry.partner === column.partner && entry.kind === column.kind)?.count ?? 0;
                  return h('td', { class: count > 0 ? 'num hot' : 'num' }, String(count));
                }),
              ),
            ),
            { testid: 'security-daily' },
          );
    replace(summary, h('div', { class: 'stack' }, h('section', { class: 'panel' }, h('h2', null, tr('按合作方', 'By partner')), byPartner), h('section', { class: 'panel' }, h('h2', null, tr('每日统计（北京时间）', 'Per day (Beijing time)')), daily)));
    replace(
      events,
      data.events.length === 0
        ? empty(tr('没有事件。', 'No event.'))
        : table(
            [tr('时间', 'When'), tr('合作方', 'Partner'), tr('类型', 'Kind'), 'HTTP', tr('代码', 'Code'), tr('请求 ID', 'Request id'), tr('来源地址', 'From'), ...(can('operator') ? [tr('调试', 'Lab')] : [])],
            data.events.map((event) =>
              h(
                'tr',
                { testid: 'security-row', dataset: { kind: event.kind, partner: event.partner } },
                h('td', { class: 'nowrap' }, time(event.at)),
                h('td', null, partnerName(event.partner)),
                h('td', null, kindBadge(event.kind)),
                h('td', { class: 'num' }, String(event.status)),
                h('td', { class: 'mono' }, event.code),
                h('td', { class: 'mono small' }, event.requestId),
                h('td', { class: 'mono' }, event.remoteAddress || '—'),
                // a refusal whose request was kept opens on exactly that request; any other with what the event knows
                can('operator') ? h('td', null, h('a', { href: `#/lab?${new URLSearchParams({ partner: event.partner, requestId: event.requestId, code: event.code, ...(event.refused ? { refused: event.refused } : {}) }).toString()}`, testid: 'security-open-lab', dataset: { kept: String(Boolean(event.refused)) } }, tr('在接入调试中打开', 'Open in the lab'))) : null,
              ),
            ),
            { testid: 'security-table' },
          ),
    );
  };
  await refresh();
  context.every(refresh, REFRESH_MS);
}
