import * as api from '../api.js';
import { ago, badge, duration, empty, h, healthWord, percent, replace, table, time } from '../dom.js';
import { failureReason, jobName, partnerName, pick, queueName, stateName, triggerName, tr } from '../i18n.js';
import { can, describeError, toast } from '../ui.js';
import { HISTORY_REFRESH_MS, historyPanel } from './history.js';

/** @typedef {import('../model.js').Overview} Overview */
/** @typedef {import('../model.js').Reason} Reason */
/** @typedef {import('../model.js').Health} Health */

const REFRESH_MS = 5000;

/** @param {Reason[]} reasons */
function reasonList(reasons) {
  if (reasons.length === 0) return h('span', { class: 'muted' }, '—');
  return h(
    'ul',
    { class: 'reasons' },
    reasons.map((reason) => h('li', { class: `reason reason-${reason.health}`, testid: 'reason', dataset: { code: reason.code, scope: reason.scope, health: reason.health } }, pick(reason))),
  );
}

/** @param {Health} health */
function headline(health) {
  if (health === 'green') return tr('一切正常', 'All normal');
  if (health === 'amber') return tr('需要注意', 'Needs attention');
  return tr('管道受阻，需要处理', 'Pipeline failing: action needed');
}

/** @param {Overview} data */
function statusBanner(data) {
  return h(
    'section',
    { class: `banner banner-${data.health}`, testid: 'overview-status', dataset: { health: data.health } },
    h('div', { class: 'banner-head' }, badge(data.health, healthWord(data.health), 'overall-status'), h('h2', null, headline(data.health))),
    data.reasons.length > 0 ? h('div', { testid: 'overview-reasons' }, reasonList(data.reasons)) : null,
  );
}

/** @param {import('../model.js').WindowStats} window */
function deliveries(window) {
  const d = window.deliveries;
  return tr(`送达 ${d.delivered} · 重试 ${d.retry} · 拒收 ${d.refused}${d['circuit-open'] ? ` · 断路 ${d['circuit-open']}` : ''}`, `${d.delivered} delivered · ${d.retry} retried · ${d.refused} refused${d['circuit-open'] ? ` · ${d['circuit-open']} circuit-open` : ''}`);
}

/**
 * Answers queued for the partner and not delivered yet, with the age of the oldest.
 * @param {import('../model.js').PartnerView} partner
 */
function waitingAnswers(partner) {
  const waiting = partner.waitingAnswers;
  if (!waiting) return h('td', { class: 'num', testid: 'partner-waiting' }, '—');
  const count = `${waiting.count}${waiting.capped ? '+' : ''}`;
  const oldest = waiting.oldestSeconds === null ? null : duration(waiting.oldestSeconds);
  return h(
    'td',
    {
      class: 'num',
      testid: 'partner-waiting',
      dataset: { count: String(waiting.count) },
      title: tr(`重试期限 ${waiting.retryHours} 小时：仍未送达的应答届时转入死信`, `retry horizon ${waiting.retryHours} h: answers still undelivered then go to the dead letters`),
    },
    oldest === null ? count : tr(`${count}（最早 ${oldest}）`, `${count} (oldest ${oldest})`),
  );
}

/** @param {import('../model.js').PartnerView} partner */
function circuitBadge(partner) {
  const health = partner.circuit === 'open' ? 'red' : partner.circuit === 'half-open' ? 'amber' : partner.circuit === 'closed' ? 'green' : 'neutral';
  const processes = partner.breaker?.processes.length ?? 0;
  const text = partner.circuit === 'unknown' ? tr('无上报', 'no report') : `${stateName(partner.circuit)}${processes > 1 ? ` (${processes})` : ''}`;
  const element = badge(health, text, 'partner-circuit');
  element.dataset['state'] = partner.circuit;
  element.title = tr('工作进程中的断路器状态', 'circuit breaker state in the worker processes');
  return element;
}

/** @param {Overview} data */
function partnersSection(data) {
  const rows = data.partners.map((partner) =>
    h(
      'tr',
      { testid: 'partner-row', dataset: { partner: partner.partner, health: partner.health } },
      h('td', null, badge(partner.health, healthWord(partner.health), 'partner-status')),
      h('th', { scope: 'row' }, partnerName(partner.partner)),
      h('td', { title: time(partner.lastIn), testid: 'partner-last-in' }, ago(partner.lastIn)),
      h('td', { title: time(partner.lastOut), testid: 'partner-last-out' }, ago(partner.lastOut)),
      h('td', { class: 'num' }, String(partner.last15m.answers.total)),
      h('td', { class: 'num', testid: 'partner-error-rate' }, percent(partner.last15m.errorRate)),
      h('td', null, deliveries(partner.last15m)),
      waitingAnswers(partner),
      h('td', null, circuitBadge(partner)),
      h('td', null, reasonList(partner.reasons)),
    ),
  );
  return h(
    'section',
    { class: 'panel', testid: 'partners' },
    h('h2', null, tr('合作方', 'Partners')),
    table(
      [tr('状态', 'Status'), tr('合作方', 'Partner'), tr('最后收到', 'Last in'), tr('最后送达', 'Last out'), tr('应答（15 分钟）', 'Answers (15 min)'), tr('错误率', 'Error rate'), tr('投递（15 分钟）', 'Deliveries (15 min)'), tr('待送达应答', 'Answers waiting'), tr('断路器', 'Circuit'), tr('说明', 'Why')],
      rows,
      { testid: 'partners-table' },
    ),
  );
}

/** @param {Overview} data */
function queuesSection(data) {
  const rows = data.queues.map((queue) =>
    h(
      'tr',
      { testid: 'queue-row', dataset: { queue: queue.name, health: queue.health } },
      h('td', null, badge(queue.health, healthWord(queue.health), 'queue-status')),
      h('th', { scope: 'row', class: 'nowrap' }, h('a', { href: `/ops/queues/queue/${encodeURIComponent(queue.name)}` }, queueName(queue.name)), queue.paused ? h('span', { class: 'tag' }, tr('已暂停', 'paused')) : null),
      h('td', { class: 'num', testid: 'queue-waiting' }, String(queue.counts.waiting + queue.counts.prioritized)),
      h('td', { class: 'num' }, String(queue.counts.active)),
      h('td', { class: 'num' }, String(queue.counts.delayed)),
      h('td', { class: 'num' }, String(queue.counts.failed)),
      h('td', { class: 'num', title: tr(`最近 5 分钟完成 ${queue.completedLast5m}，15 分钟完成 ${queue.completedLast15m}`, `${queue.completedLast5m} completed in 5 min, ${queue.completedLast15m} in 15 min`) }, tr(`${queue.ratePerMinute}/分`, `${queue.ratePerMinute}/min`)),
      h('td', { class: 'num' }, String(queue.failedLast15m)),
      h('td', { class: 'num', testid: 'queue-oldest' }, queue.oldestWaitingSeconds === null ? '—' : duration(queue.oldestWaitingSeconds)),
      h('td', { class: 'num', testid: 'queue-workers', dataset: { workers: queue.workers === null ? 'unknown' : String(queue.workers) } }, queue.workers === null ? '?' : String(queue.workers)),
      h('td', null, reasonList(queue.reasons)),
    ),
  );
  return h(
    'section',
    { class: 'panel', testid: 'queues' },
    h('h2', null, tr('队列', 'Queues'), ' ', h('a', { class: 'small-link', href: '/ops/queues/' }, tr('打开队列面板 →', 'Open the queue board →'))),
    table(
      [tr('状态', 'Status'), tr('队列', 'Queue'), tr('等待', 'Waiting'), tr('处理中', 'Active'), tr('延迟', 'Delayed'), tr('失败', 'Failed'), tr('速率（5 分钟）', 'Rate (5 min)'), tr('15 分钟内失败', 'Failed (15 min)'), tr('最早等待', 'Oldest waiting'), tr('工作进程', 'Workers'), tr('说明', 'Why')],
      rows,
      { testid: 'queues-table' },
    ),
    h('p', { class: 'hint' }, tr('速率按完成时间统计最近 5 分钟完成的任务；失败指重试用尽后的最终失败。', 'Rate counts jobs completed in the last 5 minutes by their finish time; failed means failed for good, after every retry.')),
  );
}

/** @param {Overview} data */
function deadLetterCard(data) {
  const d = data.deadLetters;
  return h(
    'section',
    { class: `panel card card-${d.health}`, testid: 'dead-letters-card', dataset: { health: d.health } },
    h('h2', null, tr('死信', 'Dead letters')),
    h('p', { class: 'big-number', testid: 'dead-letters-pending', dataset: { count: String(d.pending) } }, String(d.pending), h('span', { class: 'big-number-unit' }, tr(' 条待处理', ' pending'))),
    d.oldestPendingAt ? h('p', { class: 'muted' }, tr(`最早一条：${time(d.oldestPendingAt)}`, `oldest: ${time(d.oldestPendingAt)}`)) : null,
    h('p', null, h('a', { href: '#/dead-letters?status=pending', testid: 'dead-letters-link' }, tr('查看与处理 →', 'Inspect and act →'))),
  );
}

/** @param {HTMLButtonElement | HTMLElement} button */
async function runReconciliation(button) {
  button.setAttribute('disabled', '');
  try {
    const result = /** @type {{ runId: string }} */ (await api.post('/ops/api/reconciliations', {}));
    toast(tr(`对账已加入队列：${result.runId}`, `Reconciliation queued: ${result.runId}`), 'ok');
  } catch (error) {
    toast(describeError(error), 'error');
  } finally {
    button.removeAttribute('disabled');
  }
}

/** @param {Overview} data */
function schedulerCard(data) {
  const s = data.scheduler;
  /** @type {HTMLElement | null} */
  let button = null;
  if (can('operator')) {
    button = h('button', { type: 'button', class: 'btn btn-primary', testid: 'run-reconciliation' }, tr('立即对账', 'Reconcile now'));
    const target = button;
    button.addEventListener('click', () => void runReconciliation(target));
  }
  return h(
    'section',
    { class: `panel card card-${s.health}`, testid: 'scheduler-card', dataset: { health: s.health } },
    h('h2', null, tr('与省平台对账', 'Reconciliation with the province')),
    h('p', null, tr('上次完成：', 'Last finished: '), h('strong', { title: time(s.lastReconciliationAt), testid: 'last-reconciliation' }, ago(s.lastReconciliationAt))),
    reasonList([...s.reasons, ...data.calendar.reasons]),
    h('p', { class: 'card-actions' }, button, h('a', { href: '#/actions' }, tr('对账记录 →', 'Runs →'))),
  );
}

/** @param {unknown} value */
function returnValue(value) {
  if (Array.isArray(value) && value.every((item) => typeof item === 'object' && item !== null && 'missed' in item)) {
    const runs = /** @type {{ partner: string, missed: number, different: number, extra: number, pending: number, errors: number }[]} */ (value);
    return runs.map((run) => tr(`${partnerName(run.partner)}：补收 ${run.missed}，不一致 ${run.different}，仅本地 ${run.extra}，错误 ${run.errors}`, `${partnerName(run.partner)}: ${run.missed} missed, ${run.different} different, ${run.extra} only here, ${run.errors} errors`)).join('; ') || '—';
  }
  if (value === null || value === undefined) return '—';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** @param {Overview} data */
function schedulerSection(data) {
  const runs = data.scheduler.reconciliations.map((run) =>
    h(
      'tr',
      { testid: 'reconciliation-row', dataset: { run: run.runId, health: run.health } },
      h('td', null, badge(run.health, run.errors > 0 ? tr('有错误', 'errors') : run.health === 'green' ? tr('一致', 'in step') : tr('有差异', 'differences'))),
      h('td', null, partnerName(run.partner)),
      h('td', { title: run.runId }, time(run.finishedAt)),
      h('td', null, triggerName(run.reason)),
      h('td', { class: 'num' }, String(run.missed)),
      h('td', { class: 'num' }, String(run.different)),
      h('td', { class: 'num' }, String(run.extra)),
      h('td', { class: 'num' }, String(run.pending)),
      h('td', { class: 'num', title: run.errorSamples.join('\n') }, String(run.errors)),
    ),
  );
  const jobs = data.scheduler.periodic.map((job) =>
    h(
      'tr',
      { testid: 'periodic-row', dataset: { job: job.name, outcome: job.outcome } },
      h('td', null, badge(job.outcome === 'completed' ? 'green' : 'red', stateName(job.outcome))),
      h('td', { title: job.name }, jobName(job.name)),
      h('td', { title: job.id }, time(job.finishedAt)),
      h('td', { class: 'num' }, job.durationMs === null ? '—' : `${job.durationMs} ms`),
      h('td', { class: 'mono clip' }, job.outcome === 'failed' ? failureReason(job.failedReason) : returnValue(job.returnValue)),
    ),
  );
  return h(
    'section',
    { class: 'panel', testid: 'scheduler' },
    h('h2', null, tr('定时任务', 'Scheduled work')),
    h('h3', null, tr('最近的对账', 'Latest reconciliations')),
    runs.length > 0
      ? table([tr('结果', 'Outcome'), tr('合作方', 'Partner'), tr('完成时间', 'Finished'), tr('触发', 'Trigger'), tr('补收', 'Missed'), tr('不一致', 'Different'), tr('仅本地', 'Only here'), tr('待定', 'Pending'), tr('错误', 'Errors')], runs, { testid: 'reconciliations-table' })
      : empty(tr('还没有对账记录。', 'No reconciliation has run yet.')),
    h('h3', null, tr('最近完成的定时任务', 'Latest periodic jobs')),
    jobs.length > 0
      ? table([tr('结果', 'Outcome'), tr('任务', 'Job'), tr('完成时间', 'Finished'), tr('耗时', 'Took'), tr('返回值', 'Returned')], jobs, { testid: 'periodic-table' })
      : empty(tr('还没有完成的定时任务。', 'No periodic job has finished yet.')),
  );
}

/** @param {import('../app.js').ViewContext} context */
export async function render(context) {
  const content = h('div', { class: 'stack', testid: 'overview' });
  const updated = h('span', { class: 'muted', testid: 'overview-updated' });
  const stale = h('span', { class: 'stale', testid: 'overview-stale', hidden: true }, tr('数据未更新：无法连接网关', 'not updating: gateway unreachable'));
  const history = historyPanel(context);
  replace(
    context.root,
    h('div', { class: 'page-head' }, h('h1', null, tr('总览', 'Overview')), h('div', { class: 'page-meta' }, updated, stale, h('span', { class: 'muted' }, tr(`每 ${REFRESH_MS / 1000} 秒刷新`, `refreshes every ${REFRESH_MS / 1000} s`)))),
    content,
    history.root,
  );
  const refresh = async () => {
    let data;
    try {
      data = /** @type {Overview} */ (await api.get('/ops/api/overview'));
    } catch (error) {
      // a gateway that stops answering must not leave a green page behind
      stale.hidden = false;
      content.classList.add('is-stale');
      throw error;
    }
    if (!context.shown()) return;
    stale.hidden = true;
    content.classList.remove('is-stale');
    content.dataset['health'] = data.health;
    replace(updated, tr(`更新于 ${time(data.generatedAt)}`, `updated ${time(data.generatedAt)}`));
    replace(content, statusBanner(data), partnersSection(data), queuesSection(data), h('div', { class: 'cards' }, deadLetterCard(data), schedulerCard(data)), schedulerSection(data));
  };
  await refresh();
  context.every(refresh, REFRESH_MS);
  // the charts come after the figures of now, and refresh once a minute (one sample a minute)
  void history.refresh().catch((/** @type {unknown} */ error) => replace(history.root, h('p', { class: 'stale', testid: 'overview-history-error' }, `${tr('历史数据加载失败', 'history could not be loaded')}: ${describeError(error)}`)));
  context.every(history.refresh, HISTORY_REFRESH_MS);
}
