/* global document, Node, HTMLElement */
import { locale, tr } from './i18n.js';

/** @typedef {Node | string | number | null | undefined | false} Child */
/** @typedef {Child | Child[]} Children */

/**
 * Builds an element. Text is always text (never parsed as HTML), so nothing a
 * partner sent can become markup. `testid` writes data-testid; `on<event>`
 * adds a listener; `dataset` sets data-* attributes.
 *
 * @param {string} tag
 * @param {Record<string, unknown> | null} [attributes]
 * @param {...Children} children
 * @returns {HTMLElement}
 */
export function h(tag, attributes, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'class') element.className = asText(value);
    else if (name === 'testid') element.dataset['testid'] = asText(value);
    else if (name === 'dataset') Object.assign(element.dataset, value);
    else if (name.startsWith('on') && typeof value === 'function') element.addEventListener(name.slice(2), /** @type {EventListener} */ (value));
    else if (value === true) element.setAttribute(name, '');
    else element.setAttribute(name, asText(value));
  }
  append(element, children);
  return element;
}

/** @param {unknown} value */
function asText(value) {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value) ?? '';
}

/**
 * @param {HTMLElement} parent
 * @param {Children[]} children
 */
export function append(parent, children) {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    parent.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/**
 * @param {HTMLElement} element
 * @param {...Children} children
 */
export function replace(element, ...children) {
  element.replaceChildren();
  append(element, children);
}

/** @param {string} id */
export function byId(id) {
  const element = document.getElementById(id);
  if (!(element instanceof HTMLElement)) throw new Error(`#${id} missing`);
  return element;
}

const TIME_ZONE = 'Asia/Shanghai';

/** Beijing time, to the second. @param {string | number | null | undefined} value */
export function time(value) {
  if (value === null || value === undefined || value === '') return '—';
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return String(value);
  return new Intl.DateTimeFormat(locale(), { timeZone: TIME_ZONE, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' }).format(date);
}

/** Beijing wall-clock time HH:mm. @param {string | number} value */
export function clock(value) {
  return new Intl.DateTimeFormat(locale(), { timeZone: TIME_ZONE, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(new Date(value));
}

/** @param {number} seconds */
export function duration(seconds) {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return tr(`${s} 秒`, `${s} s`);
  const m = Math.floor(s / 60);
  if (m < 60) return tr(`${m} 分钟`, `${m} min`);
  const hours = Math.floor(m / 60);
  if (hours < 48) return tr(`${hours} 小时 ${m % 60} 分`, `${hours} h ${m % 60} min`);
  return tr(`${Math.floor(hours / 24)} 天`, `${Math.floor(hours / 24)} d`);
}

/** "3 分钟前" / "3 min ago". @param {string | null | undefined} value */
export function ago(value) {
  if (!value) return tr('从未', 'never');
  const seconds = (Date.now() - new Date(value).getTime()) / 1000;
  if (seconds < 5) return tr('刚刚', 'just now');
  return tr(`${duration(seconds)}前`, `${duration(seconds)} ago`);
}

/**
 * A status badge: the colour, and the word too (colour alone says nothing to some).
 *
 * @param {string} health green | amber | red, or any state name for a neutral badge
 * @param {string} text
 * @param {string} [testid]
 */
export function badge(health, text, testid) {
  return h('span', { class: `badge badge-${health}`, testid, dataset: { health } }, text);
}

/** @param {'green' | 'amber' | 'red'} health */
export function healthWord(health) {
  return health === 'green' ? tr('正常', 'OK') : health === 'amber' ? tr('注意', 'Warning') : tr('故障', 'Failing');
}

/** @param {number | null | undefined} value */
export function percent(value) {
  return value === null || value === undefined ? '—' : `${Math.round(value * 1000) / 10}%`;
}

/** Pretty JSON for a <pre>. @param {unknown} value */
export function json(value) {
  return JSON.stringify(value, null, 2);
}

/**
 * A table with a header row and body rows.
 *
 * @param {string[]} headers
 * @param {HTMLElement[]} rows
 * @param {Record<string, unknown>} [attributes]
 */
export function table(headers, rows, attributes = {}) {
  return h(
    'div',
    { class: 'table-wrap' },
    h('table', attributes, h('thead', null, h('tr', null, headers.map((header) => h('th', { scope: 'col' }, header)))), h('tbody', null, rows)),
  );
}

/** @param {string} text */
export function empty(text) {
  return h('p', { class: 'empty' }, text);
}
