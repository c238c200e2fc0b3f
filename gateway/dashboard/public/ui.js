/* global HTMLDialogElement, HTMLInputElement, HTMLTextAreaElement, HTMLSelectElement, setTimeout */
import { ApiError, NetworkError } from './api.js';
import { byId, h, replace } from './dom.js';
import { titleIn, tr } from './i18n.js';

/** What every view may know of the session. */
export const app = {
  /** @type {import('./model.js').User | undefined} */
  user: undefined,
  /** @type {import('./model.js').Meta | undefined} */
  meta: undefined,
};

const ROLES = ['viewer', 'operator', 'admin'];

/** Whether the logged-in operator has at least `role` (the server checks again). @param {'viewer' | 'operator' | 'admin'} role */
export function can(role) {
  return app.user !== undefined && ROLES.indexOf(app.user.role) >= ROLES.indexOf(role);
}

/**
 * A short message in the corner.
 *
 * @param {string} text
 * @param {'ok' | 'error' | 'info'} [kind]
 */
export function toast(text, kind = 'info') {
  const item = h('div', { class: `toast toast-${kind}`, role: kind === 'error' ? 'alert' : 'status', testid: 'toast', dataset: { kind } }, text);
  byId('toasts').append(item);
  setTimeout(() => item.remove(), kind === 'error' ? 9000 : 5000);
}

/** What an error means to the operator. @param {unknown} error */
export function describeError(error) {
  if (error instanceof ApiError) {
    if (error.status === 403) return tr('权限不足或会话令牌失效，请刷新页面', 'Not allowed for your role, or the session token is stale: reload the page');
    if (error.status === 404) return tr('未找到', 'Not found');
    if (error.status === 423) return tr('账户已锁定', 'Account locked');
    return `${titleIn(error.message)} (HTTP ${error.status})`;
  }
  if (error instanceof NetworkError) return tr('网络错误，无法连接网关', 'Network error: the gateway cannot be reached');
  return error instanceof Error ? error.message : String(error);
}

function dialogElement() {
  const dialog = byId('dialog');
  if (!(dialog instanceof HTMLDialogElement)) throw new Error('#dialog is not a dialog');
  return dialog;
}

/**
 * A modal dialog in the page (not window.confirm, which browsers and test
 * drivers may suppress). Resolves with the values of its fields when
 * confirmed, or undefined when cancelled.
 *
 * @param {object} options
 * @param {string} options.title
 * @param {import('./dom.js').Children} [options.body]
 * @param {string} options.confirm
 * @param {boolean} [options.danger]
 * @param {string} [options.testid]
 * @param {{ name: string, label: string, kind?: 'text' | 'textarea' | 'select' | 'datetime-local', testid: string, required?: boolean, minLength?: number, maxLength?: number, value?: string, options?: { value: string, label: string }[], pattern?: string }[]} [options.fields]
 * @returns {Promise<Record<string, string> | undefined>}
 */
export function openDialog({ title, body, confirm, danger = false, testid = 'dialog-form', fields = [] }) {
  const dialog = dialogElement();
  return new Promise((resolve) => {
    /** @type {Record<string, HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement>} */
    const inputs = {};
    const controls = fields.map((field) => {
      const common = { id: `dialog-${field.name}`, name: field.name, testid: field.testid, required: field.required ?? false };
      /** @type {HTMLElement} */
      let control;
      if (field.kind === 'textarea') {
        control = h('textarea', { ...common, rows: 4, minlength: field.minLength, maxlength: field.maxLength }, field.value ?? '');
      } else if (field.kind === 'select') {
        control = h('select', common, (field.options ?? []).map((option) => h('option', { value: option.value, selected: option.value === field.value }, option.label)));
      } else {
        control = h('input', { ...common, type: field.kind ?? 'text', value: field.value ?? '', minlength: field.minLength, maxlength: field.maxLength, pattern: field.pattern, autocomplete: 'off' });
      }
      if (control instanceof HTMLInputElement || control instanceof HTMLTextAreaElement || control instanceof HTMLSelectElement) inputs[field.name] = control;
      return h('label', { class: 'field', for: common.id }, h('span', { class: 'field-label' }, field.label), control);
    });
    let settled = false;
    /** @param {Record<string, string> | undefined} value */
    const finish = (value) => {
      if (settled) return;
      settled = true;
      if (dialog.open) dialog.close();
      resolve(value);
    };
    const form = h(
      'form',
      {
        method: 'dialog',
        class: 'dialog-form',
        testid,
        onsubmit: (/** @type {SubmitEvent} */ event) => {
          event.preventDefault();
          if (!(event.currentTarget instanceof HTMLElement)) return;
          /** @type {Record<string, string>} */
          const values = {};
          for (const [name, input] of Object.entries(inputs)) values[name] = input.value.trim();
          finish(values);
        },
      },
      h('h2', { class: 'dialog-title' }, title),
      body === undefined ? null : h('div', { class: 'dialog-body' }, body),
      controls,
      h(
        'div',
        { class: 'dialog-actions' },
        h('button', { type: 'button', class: 'btn', testid: 'dialog-cancel', onclick: () => finish(undefined) }, tr('取消', 'Cancel')),
        h('button', { type: 'submit', class: danger ? 'btn btn-danger' : 'btn btn-primary', testid: 'dialog-confirm' }, confirm),
      ),
    );
    dialog.onclose = () => finish(undefined);
    replace(dialog, form);
    dialog.showModal();
    const first = Object.values(inputs)[0];
    if (first) first.focus();
  });
}

/** A read-only dialog (an inspected record). @param {string} title @param {import('./dom.js').Children} body @param {string} [testid] */
export function showDialog(title, body, testid = 'dialog-view') {
  const dialog = dialogElement();
  replace(
    dialog,
    h(
      'div',
      { class: 'dialog-form dialog-wide', testid },
      h('h2', { class: 'dialog-title' }, title),
      h('div', { class: 'dialog-body' }, body),
      h('div', { class: 'dialog-actions' }, h('button', { type: 'button', class: 'btn btn-primary', testid: 'dialog-close', onclick: () => dialog.close() }, tr('关闭', 'Close'))),
    ),
  );
  dialog.onclose = null;
  dialog.showModal();
}

/** Closes the dialog if one is open (a view is left, or the session ended). */
export function closeDialog() {
  const dialog = dialogElement();
  if (dialog.open) dialog.close();
}
