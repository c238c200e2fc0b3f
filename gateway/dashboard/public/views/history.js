/* global window, document, ResizeObserver */
// The overview's history (近 24 小时): per partner messages in, out and refused per minute, delivery
// latency p50/p95, and per queue its depth and oldest waiting age, drawn with Apache ECharts
// (served by the gateway from node_modules, canvas renderer: nothing inline, so the page's CSP holds).
// Beside each chart a table says what it shows, for screen readers and for operators who want figures.
import * as api from '../api.js';
import { clock, duration, h, replace, table } from '../dom.js';
import { partnerName, queueName, tr } from '../i18n.js';

/**
 * @typedef {{ partner: string, in: number[], out: number[], refused: number[], p50: (number | null)[], p95: (number | null)[] }} PartnerHistory
 * @typedef {{ name: string, depth: (number | null)[], oldestSeconds: (number | null)[] }} QueueHistory
 * @typedef {{ from: string, stepSeconds: number, minutes: number, partners: PartnerHistory[], queues: QueueHistory[] }} History
 * @typedef {{ name: string, key: string, data: (number | null)[], kind: 'count' | 'ms' | 'gauge' | 'seconds' }} Series
 * @typedef {{ init(element: HTMLElement, theme?: unknown, options?: Record<string, unknown>): EChart, getInstanceByDom(element: HTMLElement): EChart | undefined }} ECharts
 * @typedef {{ setOption(option: Record<string, unknown>, notMerge?: boolean): void, resize(): void, dispose(): void }} EChart
 */

export const HISTORY_REFRESH_MS = 60_000;
const ECHARTS_URL = '/ops/static/vendor/echarts.min.js';

/** @type {Promise<ECharts> | undefined} */
let loading;

/** Loads ECharts once (a plain script from this origin, as the CSP allows). @returns {Promise<ECharts>} */
function echarts() {
  const loaded = /** @type {{ echarts?: ECharts }} */ (/** @type {unknown} */ (window)).echarts;
  if (loaded) return Promise.resolve(loaded);
  loading ??= new Promise((resolve, reject) => {
    const script = document.createElement('script');
    script.src = ECHARTS_URL;
    script.addEventListener('load', () => {
      const value = /** @type {{ echarts?: ECharts }} */ (/** @type {unknown} */ (window)).echarts;
      if (value) resolve(value);
      else reject(new Error('ECharts did not load'));
    });
    script.addEventListener('error', () => {
      loading = undefined;
      reject(new Error('ECharts did not load'));
    });
    document.head.append(script);
  });
  return loading;
}

/** Beijing HH:mm of each minute of the window. @param {History} history */
function labels(history) {
  const from = Date.parse(history.from);
  return Array.from({ length: history.minutes }, (_, n) => clock(from + n * history.stepSeconds * 1000));
}

/** @param {number | null} value @param {Series['kind']} kind */
function shown(value, kind) {
  if (value === null) return '—';
  if (kind === 'ms') return `${value} ms`;
  if (kind === 'seconds') return duration(value);
  return String(value);
}

/**
 * What a chart shows, in figures: per series the 24 h total (counts) or the highest value, when it was, and the latest.
 * @param {Series[]} series @param {string[]} minutes @param {string} testid
 */
function summary(series, minutes, testid) {
  const rows = series.map((one) => {
    /** @type {number | null} */
    let max = null;
    let maxAt = -1;
    let latest = /** @type {number | null} */ (null);
    let total = 0;
    one.data.forEach((value, n) => {
      if (value === null) return;
      total += value;
      latest = value;
      if (max === null || value > max) {
        max = value;
        maxAt = n;
      }
    });
    return h(
      'tr',
      { testid: 'history-summary-row', dataset: { series: one.key, total: String(total), max: max === null ? '' : String(max), maxAt: maxAt < 0 || !max ? '' : (minutes[maxAt] ?? '') } },
      h('th', { scope: 'row' }, one.name),
      h('td', { class: 'num' }, one.kind === 'count' ? String(total) : '—'),
      h('td', { class: 'num' }, shown(max, one.kind)),
      h('td', null, maxAt < 0 || !max ? '—' : (minutes[maxAt] ?? '—')),
      h('td', { class: 'num' }, shown(latest, one.kind)),
    );
  });
  return table([tr('序列', 'Series'), tr('24 小时合计', '24 h total'), tr('最高', 'Highest'), tr('最高时刻（北京时间）', 'At (Beijing time)'), tr('最近一次', 'Last value')], rows, { testid, class: 'history-summary' });
}

/**
 * One chart and its table.
 * @param {ECharts} lib @param {string} testid @param {string} title @param {string} unit @param {Series[]} series @param {string[]} minutes
 * @returns {{ element: HTMLElement, draw: () => EChart }}
 */
function chart(lib, testid, title, unit, series, minutes) {
  const canvas = h('div', { class: 'history-chart', testid: `${testid}-chart`, role: 'img', 'aria-label': `${title}（${tr('近 24 小时，每分钟，北京时间', 'last 24 h per minute, Beijing time')}）` });
  const element = h('figure', { class: 'history-figure', testid, dataset: { series: series.map((one) => one.key).join(' ') } }, h('figcaption', null, title), canvas, summary(series, minutes, `${testid}-table`));
  const draw = () => {
    const instance = lib.getInstanceByDom(canvas) ?? lib.init(canvas, null, { renderer: 'canvas', locale: 'ZH' });
    instance.setOption(
      {
        animation: false,
        // the tooltip drawn on the canvas: an HTML one would carry inline styles the CSP refuses
        tooltip: { trigger: 'axis', renderMode: 'richText' },
        legend: { type: 'scroll', top: 0, data: series.map((one) => one.name) },
        grid: { left: 56, right: 16, top: 48, bottom: 48 },
        xAxis: { type: 'category', data: minutes, boundaryGap: false, axisLabel: { interval: 179 } },
        yAxis: { type: 'value', name: unit, minInterval: 1 },
        dataZoom: [{ type: 'inside' }, { type: 'slider', height: 16, bottom: 8 }],
        // samples and percentiles may stand alone between empty minutes: a dot shows each
        series: series.map((one) => ({ id: one.key, name: one.name, type: 'line', showSymbol: one.kind !== 'count', symbolSize: 4, connectNulls: false, data: one.data })),
      },
      true,
    );
    return instance;
  };
  return { element, draw };
}

/**
 * Renders the history into `root` (replacing what was there), charts included.
 * @param {HTMLElement} root @param {History} history
 */
export async function renderHistory(root, history) {
  const lib = await echarts();
  const minutes = labels(history);
  const charts = [
    ...history.partners.map((partner) =>
      chart(
        lib,
        `history-partner-${partner.partner}`,
        tr(`${partnerName(partner.partner)}：收发与拒收（条/分钟）`, `${partnerName(partner.partner)}: in, out and refused per minute`),
        tr('条/分', 'per min'),
        [
          { key: 'in', name: tr('收到', 'In'), data: partner.in, kind: 'count' },
          { key: 'out', name: tr('发出', 'Out'), data: partner.out, kind: 'count' },
          { key: 'refused', name: tr('拒收', 'Refused'), data: partner.refused, kind: 'count' },
        ],
        minutes,
      ),
    ),
    chart(
      lib,
      'history-latency',
      tr('投递延迟 p50 / p95（毫秒）', 'Delivery latency p50 / p95 (ms)'),
      'ms',
      history.partners.flatMap((partner) => [
        { key: `${partner.partner}:p50`, name: `${partnerName(partner.partner)} p50`, data: partner.p50, kind: /** @type {const} */ ('ms') },
        { key: `${partner.partner}:p95`, name: `${partnerName(partner.partner)} p95`, data: partner.p95, kind: /** @type {const} */ ('ms') },
      ]),
      minutes,
    ),
    chart(
      lib,
      'history-depth',
      tr('队列深度（任务数）', 'Queue depth (jobs)'),
      tr('个', 'jobs'),
      history.queues.map((queue) => ({ key: queue.name, name: queueName(queue.name), data: queue.depth, kind: /** @type {const} */ ('gauge') })),
      minutes,
    ),
    chart(
      lib,
      'history-oldest',
      tr('最早等待任务的等待时长（秒）', 'Oldest waiting job (seconds)'),
      tr('秒', 's'),
      history.queues.map((queue) => ({ key: queue.name, name: queueName(queue.name), data: queue.oldestSeconds, kind: /** @type {const} */ ('seconds') })),
      minutes,
    ),
  ];
  for (const old of root.querySelectorAll('.history-chart')) lib.getInstanceByDom(/** @type {HTMLElement} */ (old))?.dispose();
  replace(
    root,
    h('h2', null, tr('近 24 小时（北京时间，每分钟）', 'Last 24 hours (Beijing time, per minute)')),
    h('div', { class: 'history-grid' }, charts.map((one) => one.element)),
  );
  const instances = charts.map((one) => one.draw());
  root.dataset['from'] = history.from;
  root.dataset['ready'] = 'true';
  return instances;
}

/**
 * The history panel of the overview: fetched now and every minute while shown.
 * @param {import('../app.js').ViewContext} context
 */
export function historyPanel(context) {
  const root = h('section', { class: 'panel history', testid: 'overview-history' }, h('p', { class: 'muted' }, tr('加载历史…', 'Loading history…')));
  /** @type {EChart[]} */
  let instances = [];
  const observer = new ResizeObserver(() => {
    for (const instance of instances) instance.resize();
  });
  observer.observe(root);
  const refresh = async () => {
    const history = /** @type {History} */ (await api.get('/ops/api/overview/history'));
    if (!context.shown()) {
      observer.disconnect();
      return;
    }
    instances = await renderHistory(root, history);
  };
  return { root, refresh };
}
