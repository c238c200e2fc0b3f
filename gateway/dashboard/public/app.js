/* global window, document, location, console, HTMLInputElement, setInterval, clearInterval, addEventListener */
// The dashboard: one page, views as hash routes (#/overview, #/rooms, #/hosting, ...).
// Without a session every route shows the login form.
import * as api from './api.js';
import { byId, h, replace, time } from './dom.js';
import { lang, roleName, setLang, tr } from './i18n.js';
import { app, can, closeDialog, describeError, toast } from './ui.js';
import * as overview from './views/overview.js';
import * as rooms from './views/rooms.js';
import * as messages from './views/messages.js';
import * as deadLetters from './views/dead-letters.js';
import * as security from './views/security.js';
import * as actions from './views/actions.js';
import * as audit from './views/audit.js';
import * as hosting from './views/hosting.js';
import * as lab from './views/lab.js';

/**
 * @typedef {object} ViewContext
 * @property {HTMLElement} root where the view draws
 * @property {string[]} args route segments after the view's name
 * @property {URLSearchParams} query the route's query (after '?' in the hash)
 * @property {(refresh: () => Promise<void>, ms: number) => void} every polls while the view is shown and the page visible
 * @property {() => boolean} shown whether the view is still the one on screen
 */

/**
 * @typedef {object} View
 * @property {() => string} title
 * @property {'viewer' | 'operator' | 'admin'} role
 * @property {(context: ViewContext) => Promise<void>} render
 */

/** @type {Record<string, View>} */
const VIEWS = {
  overview: { title: () => tr('总览', 'Overview'), role: 'viewer', render: overview.render },
  rooms: { title: () => tr('房间看板', 'Room board'), role: 'viewer', render: rooms.render },
  hosting: { title: () => tr('主场评标', 'Host evaluations'), role: 'viewer', render: hosting.render },
  messages: { title: () => tr('消息查询', 'Messages'), role: 'viewer', render: messages.render },
  'dead-letters': { title: () => tr('死信', 'Dead letters'), role: 'viewer', render: deadLetters.render },
  security: { title: () => tr('安全事件', 'Security'), role: 'viewer', render: security.render },
  actions: { title: () => tr('对账与异常', 'Reconciliation & exceptions'), role: 'viewer', render: actions.render },
  lab: { title: () => tr('接入调试', 'Message lab'), role: 'operator', render: lab.render },
  audit: { title: () => tr('审计日志', 'Audit log'), role: 'admin', render: audit.render },
};

const NAV_ORDER = ['overview', 'rooms', 'hosting', 'messages', 'dead-letters', 'security', 'actions', 'lab', 'queues', 'audit'];

// ---------------------------------------------------------------- routing

function parseHash() {
  const hash = location.hash.replace(/^#\/?/, '');
  const [path = '', search = ''] = hash.split('?');
  const [name = '', ...args] = path.split('/').filter((part) => part !== '').map((part) => decodeURIComponent(part));
  return { name: name || 'overview', args, query: new URLSearchParams(search) };
}

/** @param {string} hash */
export function go(hash) {
  if (location.hash === hash) void route();
  else location.hash = hash;
}

/** the idle timeout last configured, for the login page's notice once the session's data is gone */
let idleMinutes = 30;

let generation = 0;
/** @type {number[]} */
let timers = [];

function stopView() {
  generation += 1;
  for (const timer of timers) clearInterval(timer);
  timers = [];
}

async function route() {
  stopView();
  const mine = generation;
  const { name, args, query } = parseHash();
  if (!app.user) {
    try {
      app.user = await api.session();
    } catch (error) {
      showError(error);
      return;
    }
  }
  if (mine !== generation) return;
  if (!app.user) {
    renderLogin(query.get('reason'));
    return;
  }
  if (name === 'login') {
    go('#/overview');
    return;
  }
  try {
    app.meta ??= /** @type {import('./model.js').Meta} */ (await api.get('/ops/api/meta'));
  } catch (error) {
    showError(error);
    return;
  }
  if (mine !== generation) return;
  const view = VIEWS[name] ?? VIEWS['overview'];
  const key = VIEWS[name] ? name : 'overview';
  renderShell(key);
  const root = byId('view');
  if (!view || !can(view.role)) {
    replace(root, h('section', { class: 'panel', testid: 'forbidden' }, h('h1', null, tr('无权访问', 'Not allowed')), h('p', null, tr('您的角色不能查看此页。', 'Your role may not see this page.'))));
    return;
  }
  document.title = `${view.title()} · ${tr('株洲跨市调度网关', 'Zhuzhou dispatch gateway')}`;
  replace(root, h('p', { class: 'loading' }, tr('加载中…', 'Loading…')));
  /** @type {ViewContext} */
  const context = {
    root,
    args,
    query,
    shown: () => mine === generation,
    every: (refresh, ms) => {
      timers.push(
        setInterval(() => {
          if (mine !== generation || document.hidden) return;
          refresh().catch((/** @type {unknown} */ error) => {
            if (mine === generation && !(error instanceof api.ApiError && error.status === 401)) console.warn('refresh failed', error);
          });
        }, ms),
      );
    },
  };
  try {
    await view.render(context);
  } catch (error) {
    if (mine !== generation) return;
    if (error instanceof api.ApiError && error.status === 401) return;
    replace(root, h('section', { class: 'panel panel-error', testid: 'view-error' }, h('h1', null, tr('无法加载', 'Could not load')), h('p', null, describeError(error))));
  }
}

/** @param {unknown} error */
function showError(error) {
  replace(byId('view'), h('section', { class: 'panel panel-error', testid: 'view-error' }, h('h1', null, tr('无法连接网关', 'Cannot reach the gateway')), h('p', null, describeError(error))));
}

// ---------------------------------------------------------------- shell

/** @param {string} active */
function renderShell(active) {
  const nav = byId('nav');
  nav.hidden = false;
  replace(
    nav,
    NAV_ORDER.filter((name) => name === 'queues' || (VIEWS[name] && can(VIEWS[name].role))).map((name) => {
      if (name === 'queues') return h('a', { href: '/ops/queues/', class: 'nav-link', testid: 'nav-queues' }, tr('队列面板', 'Queues'));
      const view = VIEWS[name];
      return h('a', { href: `#/${name}`, class: name === active ? 'nav-link active' : 'nav-link', 'aria-current': name === active ? 'page' : null, testid: `nav-${name}` }, view ? view.title() : name);
    }),
  );
  const user = byId('user');
  user.hidden = false;
  replace(user, app.user ? `${app.user.username} · ${roleName(app.user.role)}` : '');
  if (app.user) user.dataset['role'] = app.user.role;
  const logout = byId('logout');
  logout.hidden = false;
  logout.textContent = tr('退出', 'Log out');
  byId('brand-title').textContent = tr('株洲调度网关', 'Zhuzhou gateway');
}

function hideShell() {
  byId('nav').hidden = true;
  byId('user').hidden = true;
  byId('logout').hidden = true;
  byId('brand-title').textContent = tr('株洲跨市调度网关 · 运维控制台', 'Zhuzhou dispatch gateway · Operations');
}

function renderLanguageSwitch() {
  const button = byId('lang');
  button.textContent = lang() === 'zh' ? 'English' : '中文';
  button.dataset['lang'] = lang();
  button.setAttribute('aria-label', lang() === 'zh' ? 'Switch to English' : '切换到中文');
}

// ---------------------------------------------------------------- login

/** @param {string | null} reason why the login page is shown (idle, expired) */
function renderLogin(reason) {
  hideShell();
  closeDialog();
  document.title = tr('登录 · 株洲跨市调度网关', 'Log in · Zhuzhou dispatch gateway');
  const error = h('p', { class: 'form-error', role: 'alert', testid: 'login-error', hidden: true });
  const username = h('input', { id: 'login-username', name: 'username', autocomplete: 'username', required: true, maxlength: 64, testid: 'login-username' });
  const password = h('input', { id: 'login-password', name: 'password', type: 'password', autocomplete: 'current-password', required: true, testid: 'login-password' });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary btn-block', testid: 'login-submit' }, tr('登录', 'Log in'));
  const notice =
    reason === 'idle'
      ? tr(`超过 ${idleMinutes} 分钟未操作，已自动退出。`, `Signed out after ${idleMinutes} minutes without activity.`)
      : reason === 'expired'
        ? tr('会话已过期，请重新登录。', 'Your session has ended: please log in again.')
        : reason === 'logout'
          ? tr('已退出。', 'You are logged out.')
          : null;
  const form = h(
    'form',
    {
      class: 'login-form',
      testid: 'login-form',
      onsubmit: (/** @type {SubmitEvent} */ event) => {
        event.preventDefault();
        if (!(username instanceof HTMLInputElement) || !(password instanceof HTMLInputElement)) return;
        error.hidden = true;
        submit.setAttribute('disabled', '');
        api
          .login(username.value.trim(), password.value)
          .then((user) => {
            app.user = user;
            app.meta = undefined;
            lastActivity = Date.now();
            go('#/overview');
          })
          .catch((/** @type {unknown} */ failure) => {
            password.value = '';
            error.hidden = false;
            if (failure instanceof api.ApiError && failure.status === 423) {
              const until = typeof failure.body['lockedUntil'] === 'string' ? failure.body['lockedUntil'] : '';
              error.dataset['reason'] = 'locked';
              replace(error, tr(`账户已锁定，请于 ${time(until)} 后再试。`, `Account locked until ${time(until)}.`));
            } else if (failure instanceof api.ApiError && failure.status === 401) {
              error.dataset['reason'] = 'wrong';
              replace(error, tr('用户名或密码错误。', 'Wrong user name or password.'));
            } else {
              error.dataset['reason'] = 'error';
              replace(error, describeError(failure));
            }
            password.focus();
          })
          .finally(() => submit.removeAttribute('disabled'));
      },
    },
    h('h1', null, tr('运维控制台登录', 'Operations log in')),
    h('p', { class: 'muted' }, tr('株洲市公共资源交易中心 · 远程异地评标跨市调度网关', 'Zhuzhou public resource trading center · remote evaluation dispatch gateway')),
    notice ? h('p', { class: 'notice', testid: 'login-notice', dataset: { reason } }, notice) : null,
    h('label', { class: 'field', for: 'login-username' }, h('span', { class: 'field-label' }, tr('用户名', 'User name')), username),
    h('label', { class: 'field', for: 'login-password' }, h('span', { class: 'field-label' }, tr('密码', 'Password')), password),
    error,
    submit,
  );
  replace(byId('view'), h('section', { class: 'login', testid: 'login-page' }, form));
  username.focus();
}

/** @param {'idle' | 'expired' | 'logout'} reason */
async function signOut(reason) {
  stopView();
  closeDialog();
  idleMinutes = app.meta?.idleMinutes ?? idleMinutes;
  const wasLoggedIn = app.user !== undefined;
  app.user = undefined;
  app.meta = undefined;
  if (wasLoggedIn && reason !== 'expired') {
    try {
      await api.logout();
    } catch {
      // the session may already be gone
    }
  }
  go(`#/login?reason=${reason}`);
}

// ---------------------------------------------------------------- idle timeout

// Polling keeps the server's session alive, so the page itself ends an idle
// session: no key, click, scroll or pointer movement for OPS_IDLE_MINUTES.
let lastActivity = Date.now();
for (const type of ['pointerdown', 'pointermove', 'keydown', 'wheel', 'touchstart', 'scroll']) {
  addEventListener(type, () => (lastActivity = Date.now()), { passive: true, capture: true });
}

function checkIdle() {
  if (!app.user) return;
  const idleMs = (app.meta?.idleMinutes ?? idleMinutes) * 60_000;
  if (Date.now() - lastActivity >= idleMs) {
    toast(tr('长时间未操作，已自动退出', 'Signed out after a long time without activity'), 'info');
    void signOut('idle');
  }
}

// ---------------------------------------------------------------- start

api.onUnauthorized(() => {
  if (app.user) void signOut('expired');
});

byId('lang').addEventListener('click', () => {
  setLang(lang() === 'zh' ? 'en' : 'zh');
  renderLanguageSwitch();
  void route();
});

byId('logout').addEventListener('click', () => {
  void signOut('logout');
});

window.addEventListener('hashchange', () => void route());
document.addEventListener('visibilitychange', () => {
  if (!document.hidden) checkIdle();
});
setInterval(checkIdle, 10_000);

setLang(lang());
renderLanguageSwitch();
void route();
