/* global HTMLInputElement */
import * as api from '../api.js';
import { badge, empty, h, replace, table, time } from '../dom.js';
import { actorName, auditActionName, auditDetail, stateName, tr } from '../i18n.js';

/** @typedef {import('../model.js').AuditEntry} AuditEntry */

/** @param {AuditEntry} entry @param {string} text */
function matchesText(entry, text) {
  if (!text) return true;
  return JSON.stringify(entry).toLowerCase().includes(text.toLowerCase());
}

/** @param {import('../app.js').ViewContext} context */
export async function render(context) {
  const filter = h('input', { type: 'search', placeholder: tr('筛选（用户、操作、对象、地址…）', 'filter (user, action, target, address…)'), testid: 'audit-filter', 'aria-label': tr('筛选', 'Filter') });
  const list = h('div');
  replace(context.root, h('div', { class: 'page-head' }, h('h1', null, tr('审计日志', 'Audit log')), h('span', { class: 'muted' }, tr('登录、所有操作与安全事件，最新在前（最近 500 条）；记录以 SM3 链接，可用 npm run audit:verify 校验', 'logins, every action and security events, newest first (last 500); chained by SM3, checked by npm run audit:verify'))), h('section', { class: 'panel' }, h('div', { class: 'toolbar' }, filter), list));

  /** @type {AuditEntry[]} */
  let items = [];
  const draw = () => {
    const text = filter instanceof HTMLInputElement ? filter.value.trim() : '';
    const shown = items.filter((entry) => matchesText(entry, text));
    replace(
      list,
      shown.length === 0
        ? empty(tr('没有记录。', 'No entry.'))
        : table(
            ['#', tr('时间', 'When'), tr('用户', 'Who'), tr('操作', 'Action'), tr('对象', 'Target'), tr('来源', 'From'), tr('结果', 'Result'), tr('详情', 'Detail')],
            shown.map((entry) =>
              h(
                'tr',
                { testid: 'audit-row', dataset: { actor: entry.actor, action: entry.action, result: entry.result } },
                h('td', { class: 'num muted' }, entry.seq === undefined ? '' : String(entry.seq)),
                h('td', { class: 'nowrap' }, time(entry.at)),
                h('td', { class: 'nowrap', title: entry.actor }, actorName(entry.actor)),
                h('td', null, auditActionName(entry.action), h('div', { class: 'mono small muted wrap-anywhere' }, entry.action)),
                h('td', { class: 'mono clip clip-narrow', title: entry.target ?? '' }, entry.target ?? '—'),
                h('td', { class: 'mono' }, entry.from),
                h('td', null, badge(entry.result === 'ok' ? 'green' : entry.result === 'denied' ? 'red' : 'amber', stateName(entry.result))),
                h('td', { class: 'mono small detail' }, entry.detail ? auditDetail(entry.detail) : ''),
              ),
            ),
            { testid: 'audit-table' },
          ),
    );
  };
  filter.addEventListener('input', draw);
  const refresh = async () => {
    const data = /** @type {{ items: AuditEntry[] }} */ (await api.get('/ops/api/audit'));
    if (!context.shown()) return;
    items = data.items;
    draw();
  };
  await refresh();
  context.every(refresh, 30_000);
}
