/* global document, localStorage */
// The dashboard speaks Chinese first, English on request. Every text is given
// in both languages where it is used: tr('总览', 'Overview').

const STORAGE_KEY = 'zzgw.lang';

/** @typedef {'zh' | 'en'} Lang */

/** @type {Lang} */
let current = readStored();

/** @returns {Lang} */
function readStored() {
  try {
    return localStorage.getItem(STORAGE_KEY) === 'en' ? 'en' : 'zh';
  } catch {
    return 'zh';
  }
}

/** @returns {Lang} */
export function lang() {
  return current;
}

/** @param {Lang} next */
export function setLang(next) {
  current = next;
  try {
    localStorage.setItem(STORAGE_KEY, next);
  } catch {
    // private mode: the choice lasts this page only
  }
  document.documentElement.lang = next === 'zh' ? 'zh-CN' : 'en';
}

/**
 * @param {string} zh
 * @param {string} en
 * @returns {string}
 */
export function tr(zh, en) {
  return current === 'zh' ? zh : en;
}

/** BCP 47 tag for Intl formatting. */
export function locale() {
  return current === 'zh' ? 'zh-CN' : 'en-GB';
}

/** @param {{ zh: string, en: string }} text */
export function pick(text) {
  return current === 'zh' ? text.zh : text.en;
}

const PARTNERS = /** @type {Record<string, [string, string]>} */ ({
  province: ['省平台', 'Province'],
  changsha: ['长沙', 'Changsha'],
});

/** @param {string | null | undefined} partner */
export function partnerName(partner) {
  if (!partner) return '—';
  const names = PARTNERS[partner];
  return names ? tr(names[0], names[1]) : partner;
}

const STATES = /** @type {Record<string, [string, string]>} */ ({
  'in-force': ['有效', 'in force'],
  held: ['保留中', 'held'],
  rejected: ['已拒绝', 'rejected'],
  replaced: ['已变更', 'replaced'],
  cancelled: ['已取消', 'cancelled'],
  expired: ['已过期', 'expired'],
  released: ['已释放', 'released'],
  applied: ['已执行', 'applied'],
  received: ['已接收', 'received'],
  queued: ['已入队', 'queued'],
  processed: ['已处理', 'processed'],
  pending: ['待处理', 'pending'],
  replayed: ['已重放', 'replayed'],
  discarded: ['已丢弃', 'discarded'],
  requested: ['已请求', 'requested'],
  confirmed: ['已确认', 'confirmed'],
  declined: ['已谢绝', 'declined'],
  booking: ['预订', 'booking'],
  hold: ['保留', 'hold'],
  completed: ['完成', 'completed'],
  failed: ['失败', 'failed'],
  closed: ['闭合', 'closed'],
  open: ['断开', 'open'],
  'half-open': ['半开', 'half-open'],
  unknown: ['未知', 'unknown'],
  ok: ['成功', 'ok'],
  denied: ['拒绝', 'denied'],
});

/** A state word of the ledger, a queue or a dead letter, in the current language. @param {string | null | undefined} state */
export function stateName(state) {
  if (!state) return '—';
  const names = STATES[state];
  return names ? tr(names[0], names[1]) : state;
}

const OUTCOMES = /** @type {Record<string, [string, string]>} */ ({
  approved: ['已批准', 'approved'],
  rejected: ['已拒绝', 'rejected'],
  cancelled: ['已取消', 'cancelled'],
  held: ['已保留', 'held'],
  confirmed: ['已确认', 'confirmed'],
  released: ['已释放', 'released'],
  unchanged: ['无变化', 'unchanged'],
});

// the codes stay beside the Chinese: the partners' contracts and their staff use them
const REASONS = /** @type {Record<string, [string, string]>} */ ({
  NO_CAPACITY: ['无可用房间', 'no room free'],
  CENTER_CLOSED: ['中心当日不开放', 'center closed that day'],
  NOT_IN_FORCE: ['原申请不在有效状态', 'original not in force'],
  CANCELLED: ['已取消', 'cancelled'],
  INVALID_WINDOW: ['时间段无效', 'invalid time window'],
  HOLD_EXPIRED: ['保留已过期', 'hold expired'],
  PROJECT_POSTPONED: ['项目延期', 'project postponed'],
  PROJECT_CANCELLED: ['项目取消', 'project cancelled'],
  OTHER: ['其他', 'other'],
});

const OPERATIONS = /** @type {Record<string, [string, string]>} */ ({
  apply: ['申请', 'apply'],
  change: ['变更', 'change'],
  cancel: ['取消', 'cancel'],
  query: ['查询', 'query'],
  events: ['事件', 'events'],
  hold: ['保留', 'hold'],
  confirm: ['确认', 'confirm'],
  release: ['释放', 'release'],
  expire: ['到期', 'expire'],
});

/** @param {Record<string, [string, string]>} names @param {string | null | undefined} word */
function named(names, word) {
  if (!word) return '—';
  const known = names[word];
  return known ? tr(known[0], known[1]) : word;
}

/** A ledger decision's outcome, in the current language. @param {string | null | undefined} outcome */
export function outcomeName(outcome) {
  return named(OUTCOMES, outcome);
}

/** A ledger reason with its code, e.g. 无可用房间（NO_CAPACITY）. @param {string | null | undefined} reason */
export function reasonName(reason) {
  if (!reason) return '';
  const known = REASONS[reason];
  return known ? tr(`${known[0]}（${reason}）`, `${known[1]} (${reason})`) : reason;
}

/** A partner interface or ledger operation (apply, events, hold…), in the current language. @param {string | null | undefined} operation */
export function operationName(operation) {
  return named(OPERATIONS, operation);
}

/** What started a reconciliation run (written by the gateway in English), in the current language. @param {string | null | undefined} reason */
export function triggerName(reason) {
  if (!reason) return '—';
  if (reason === 'daily') return tr('每日定时', 'daily');
  if (reason === 'catch-up at start') return tr('启动时补做', 'catch-up at start');
  if (reason === 'on demand (API)') return tr('接口手动发起', 'on demand (API)');
  const operator = /^on demand by (.+)$/.exec(reason)?.[1];
  return operator ? tr(`${operator} 手动发起`, reason) : reason;
}

const SECURITY_KINDS = /** @type {Record<string, [string, string]>} */ ({
  signature: ['签名 / 身份校验失败', 'signature or sender rejected'],
  replay: ['重复消息（重放）', 'replayed message'],
  'rate-limit': ['超过限流', 'rate limited'],
  rejected: ['其他 4xx 拒绝', 'other 4xx refusal'],
});

/** A kind of security event (signature, replay, rate-limit, rejected), in the current language. @param {string} kind */
export function securityKindName(kind) {
  return named(SECURITY_KINDS, kind);
}

const AUDIT_ACTIONS = /** @type {Record<string, [string, string]>} */ ({
  login: ['登录', 'log in'],
  logout: ['退出', 'log out'],
  'dead-letter.replay': ['重放死信', 'replay a dead letter'],
  'dead-letter.replay-matching': ['批量重放死信', 'replay matching dead letters'],
  'dead-letter.discard': ['丢弃死信', 'discard a dead letter'],
  'reconciliation.run': ['发起对账', 'run a reconciliation'],
  'exception.raise': ['上报异常', 'raise an exception'],
  'queues.post': ['队列面板操作', 'queue board action'],
  'queues.put': ['队列面板操作', 'queue board action'],
  'queues.patch': ['队列面板操作', 'queue board action'],
  'queues.delete': ['队列面板删除', 'queue board deletion'],
});

/**
 * An audit entry's action (as the audit chain stores it) in the current language.
 * A request refused for the operator's role is stored as its method and path.
 * @param {string} action
 */
export function auditActionName(action) {
  if (action.startsWith('security.')) return securityKindName(action.slice('security.'.length));
  if (/^[A-Z]+ \//.test(action)) return tr('越权请求', 'beyond the role');
  return named(AUDIT_ACTIONS, action);
}
