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
  // Zhuzhou's own host room in the ledger (owner host:<evaluation>)
  host: ['主场', 'Host'],
});

/** @param {string | null | undefined} partner */
export function partnerName(partner) {
  return named(PARTNERS, partner);
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
  'dead-lettered': ['已转人工', 'dead-lettered'],
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

// the host's evaluation of a booking (Zhuzhou as guest)
const LIFECYCLE = /** @type {Record<string, [string, string]>} */ ({
  'not-started': ['未开始', 'not started'],
  started: ['评标中', 'in session'],
  paused: ['已暂停', 'paused'],
  resumed: ['评标中（已恢复）', 'in session (resumed)'],
  ended: ['已结束', 'ended'],
  archived: ['已归档', 'archived'],
});

/** The host's evaluation status of a booking, in the current language. @param {string | null | undefined} status */
export function lifecycleName(status) {
  return named(LIFECYCLE, status);
}

/** A state word of the ledger, a queue or a dead letter, in the current language. @param {string | null | undefined} state */
export function stateName(state) {
  return named(STATES, state);
}

// a host evaluation (Zhuzhou as host), its guest legs and its host room
const HOST_STATES = /** @type {Record<string, [string, string]>} */ ({
  requested: ['申请中', 'requested'],
  'in-force': ['已生效', 'in force'],
  failed: ['已失败', 'failed'],
  changing: ['变更中', 'changing'],
  cancelled: ['已取消', 'cancelled'],
});

const LEG_STATES = /** @type {Record<string, [string, string]>} */ ({
  requested: ['已请求', 'requested'],
  offered: ['已保留（待确认）', 'offered (held)'],
  approved: ['已同意', 'approved'],
  confirmed: ['已确认', 'confirmed'],
  declined: ['已谢绝', 'declined'],
  released: ['已释放', 'released'],
  cancelled: ['已取消', 'cancelled'],
});

const HOST_ROOM_STATES = /** @type {Record<string, [string, string]>} */ ({
  holding: ['保留中', 'holding'],
  held: ['已保留', 'held'],
  booked: ['已预订', 'booked'],
  freed: ['已释放', 'freed'],
  refused: ['无可用房间', 'none free'],
});

// domain.md, "Center codes"
const CENTERS = /** @type {Record<string, [string, string]>} */ ({
  '430000': ['湖南省', 'Hunan province'],
  '430100': ['长沙', 'Changsha'],
  '430200': ['株洲', 'Zhuzhou'],
  '430300': ['湘潭', 'Xiangtan'],
  '430400': ['衡阳', 'Hengyang'],
  '430500': ['邵阳', 'Shaoyang'],
  '430600': ['岳阳', 'Yueyang'],
  '430700': ['常德', 'Changde'],
  '430800': ['张家界', 'Zhangjiajie'],
  '430900': ['益阳', 'Yiyang'],
  '431000': ['郴州', 'Chenzhou'],
  '431100': ['永州', 'Yongzhou'],
  '431200': ['怀化', 'Huaihua'],
  '431300': ['娄底', 'Loudi'],
  '433100': ['湘西', 'Xiangxi'],
});

/** A host evaluation's state. @param {string | null | undefined} state */
export function hostStateName(state) {
  return named(HOST_STATES, state);
}

/** A guest leg's state. @param {string | null | undefined} state */
export function legStateName(state) {
  return named(LEG_STATES, state);
}

/** The host room's state. @param {string | null | undefined} state */
export function hostRoomStateName(state) {
  return named(HOST_ROOM_STATES, state);
}

/** A center by its area code, the code kept: 湘潭（430300）. @param {string} code */
export function centerName(code) {
  const known = CENTERS[code];
  return known ? tr(`${known[0]}（${code}）`, `${known[1]} (${code})`) : code;
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
  DEADLINE: ['超时未决', 'undecided at the deadline'],
  STATE_CONFLICT: ['与当前状态冲突', 'conflicts with the state'],
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
  'seat-request': ['席位请求', 'seat request'],
});

/**
 * A word from one of the dashboard's [中文, English] tables in the current
 * language; a word the table lacks as it is; none as a dash.
 * @param {Record<string, [string, string]>} names @param {string | null | undefined} word
 */
export function named(names, word) {
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
  'seat-request.create': ['发起席位请求', 'request guest seats'],
  'seat-request.release': ['释放席位请求', 'release a seat request'],
  'host-evaluation.plan': ['发起主场评标', 'plan a host evaluation'],
  'host-evaluation.change': ['变更主场评标', 'change a host evaluation'],
  'host-evaluation.cancel': ['取消主场评标', 'cancel a host evaluation'],
  'host-evaluation.status': ['报告主场评标状态', 'report a host evaluation\'s status'],
  'lab.run': ['接入调试', 'message lab run'],
  'account.add': ['新建或替换账户', 'add or replace an account'],
  'account.role': ['变更账户角色', 'change an account\'s role'],
  'account.disable': ['停用账户', 'disable an account'],
  'account.reset': ['重置密码', 'reset a password'],
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
  const summary = /^security\.(.+)\.summary$/.exec(action);
  // refusals that prove nothing about the caller are chained as one entry per partner, kind and minute
  if (summary) return `${securityKindName(summary[1] ?? '')}${tr('（每分钟汇总）', ' (summary of a minute)')}`;
  if (action.startsWith('security.')) return securityKindName(action.slice('security.'.length));
  if (/^[A-Z]+ \//.test(action)) return tr('越权请求', 'beyond the role');
  return named(AUDIT_ACTIONS, action);
}

/** A queue by its name, with what it carries. @param {string} name */
export function queueName(name) {
  if (name === 'inbound') return tr('inbound（接收处理）', 'inbound');
  if (name === 'periodic') return tr('periodic（定时任务）', 'periodic');
  if (name.startsWith('outbound-')) return tr(`${name}（发往${partnerName(name.slice(9))}）`, name);
  return name;
}

const JOBS = /** @type {Record<string, [string, string]>} */ ({
  process: ['处理消息', 'process a message'],
  deliver: ['投递', 'deliver'],
  'held-timeout': ['等待原申请超时', 'original waited for too long'],
  'hold-expiry': ['保留到期', 'hold expiry'],
  'availability-poll': ['拉取长沙空闲席位', 'fetch Changsha availability'],
  'availability-publish': ['发布株洲空闲席位', 'publish Zhuzhou availability'],
  'hold-sweep': ['保留到期清理', 'sweep lapsed holds'],
  'stranded-sweep': ['失联消息补排', 'queue again messages that lost their job'],
  reconciliation: ['与省平台对账', 'reconciliation'],
  retention: ['过期数据清理', 'retention purge'],
});

/** A BullMQ job by its name. @param {string | null | undefined} name */
export function jobName(name) {
  return named(JOBS, name);
}

const DELIVERY_KINDS = /** @type {Record<string, [string, string]>} */ ({
  delivered: ['送达', 'delivered'],
  retry: ['待重试', 'to retry'],
  refused: ['被拒收', 'refused'],
  'circuit-open': ['断路中', 'circuit open'],
});

/** The outcome of one delivery attempt. @param {string | null | undefined} kind */
export function deliveryKindName(kind) {
  return named(DELIVERY_KINDS, kind);
}

// the gateway's error codes (kernel/errors.ts) as they head dead-letter reasons
const ERROR_CODES = /** @type {Record<string, [string, string]>} */ ({
  DELIVERY_REFUSED: ['合作方拒收', 'refused by the partner'],
  DELIVERY_RETRYABLE: ['投递失败（已过重试期限）', 'delivery failed (retry horizon passed)'],
  CIRCUIT_OPEN: ['断路中（已过重试期限）', 'circuit open (retry horizon passed)'],
  STORE_UNAVAILABLE: ['Redis 不可用', 'Redis unavailable'],
  INTERNAL: ['网关内部错误', 'internal error'],
  CANONICAL_INVALID: ['规范化结果不符合模式', 'canonical event invalid'],
  RECORD_MISSING: ['消息记录缺失', 'message record missing'],
  ORIGINAL_NOT_RECEIVED: ['超时未收到原申请', 'original never arrived'],
  HOLD_EXPIRED: ['保留已过期', 'hold expired'],
});

/**
 * A dead letter's reason, `CODE: detail` as the gateway writes it, with the code
 * named in the current language and kept: 合作方拒收（DELIVERY_REFUSED）: State "400".
 * @param {string | null | undefined} reason
 */
export function failureReason(reason) {
  if (!reason) return '—';
  const match = /^([A-Z][A-Z_]+)(?::\s*(.*))?$/s.exec(reason);
  const names = match?.[1] ? ERROR_CODES[match[1]] : undefined;
  if (!match || !names) return reason;
  const detail = match[2] ? `: ${match[2]}` : '';
  return tr(`${names[0]}（${match[1]}）${detail}`, `${names[1]} (${match[1]})${detail}`);
}

/**
 * A server's problem title, which may be written "中文 / English": the half of
 * the current language.
 * @param {string} title
 */
export function titleIn(title) {
  const halves = title.split(' / ');
  if (halves.length !== 2 || !/[\u4e00-\u9fff]/.test(halves[0] ?? '')) return title;
  return tr(halves[0] ?? title, halves[1] ?? title);
}

const ROLES = /** @type {Record<string, [string, string]>} */ ({
  viewer: ['只读', 'viewer'],
  operator: ['操作员', 'operator'],
  admin: ['管理员', 'admin'],
});

/** An operator's role. @param {string | null | undefined} role */
export function roleName(role) {
  return named(ROLES, role);
}

const DETAIL_KEYS = /** @type {Record<string, [string, string]>} */ ({
  reason: ['原因', 'reason'],
  needed: ['所需角色', 'role needed'],
  status: ['状态码', 'status'],
  code: ['代码', 'code'],
  requestId: ['请求 ID', 'request id'],
  count: ['数量', 'count'],
  violations: ['不合规项', 'violations'],
  type: ['类型', 'type'],
  lockedUntil: ['锁定至', 'locked until'],
  role: ['角色', 'role'],
  previous: ['原角色', 'previous role'],
  replaced: ['替换已有账户', 'replaced an existing one'],
  partner: ['合作方', 'partner'],
  seats: ['席位数', 'seats'],
  state: ['状态', 'state'],
  minute: ['分钟', 'minute'],
  codes: ['错误代码', 'codes'],
  sources: ['来源地址', 'addresses'],
  otherSources: ['其他地址', 'other addresses'],
  overflow: ['积压时未单独记录', 'not chained one by one (backlog full)'],
  section: ['标段', 'section'],
  guests: ['客场', 'guests'],
  start: ['开始', 'start'],
  end: ['结束', 'end'],
});

const DETAIL_VALUES = /** @type {Record<string, [string, string]>} */ ({
  'unknown-or-wrong': ['用户名或密码错误', 'unknown user or wrong password'],
  locked: ['账户已锁定', 'account locked'],
  'locked-unchecked': ['账户已锁定（未校验密码）', 'account locked (password not checked)'],
  disabled: ['账户已停用', 'account disabled'],
  throttled: ['该地址登录过于频繁', 'too many logins from this address'],
});

/**
 * An audit entry's detail as `key: value` pairs on one line, the known keys and
 * values in the current language.
 * @param {Record<string, unknown>} detail
 */
export function auditDetail(detail) {
  return Object.entries(detail)
    .map(([key, value]) => {
      const shown = typeof value === 'string' ? (key === 'needed' || key === 'role' || key === 'previous' ? roleName(value) : DETAIL_VALUES[value] ? named(DETAIL_VALUES, value) : value) : JSON.stringify(value);
      return `${named(DETAIL_KEYS, key)}: ${shown}`;
    })
    .join(' · ');
}

/** Who an audit entry names: an operator, a partner (`partner:province`), an API key (`api-key:local`), the OS user of an account command (`os:root`) or nobody logged in. @param {string} actor */
export function actorName(actor) {
  if (actor === 'anonymous') return tr('匿名', 'anonymous');
  if (actor.startsWith('api-key:')) return tr(`接口密钥 ${actor.slice('api-key:'.length)}`, `API key ${actor.slice('api-key:'.length)}`);
  if (actor.startsWith('os:')) return tr(`系统用户 ${actor.slice('os:'.length)}（命令行）`, `OS user ${actor.slice('os:'.length)} (command line)`);
  if (actor.startsWith('partner:')) return partnerName(actor.slice('partner:'.length));
  return actor;
}
