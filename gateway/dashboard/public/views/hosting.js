/* global location, HTMLInputElement, HTMLSelectElement, HTMLTextAreaElement */
// 主场评标: Zhuzhou hosts one bid section's evaluation with guest venues in
// other centers. The evaluations of a day with their legs (polled), one
// evaluation with its trace (#/hosting/<id>), and, for operators and admins,
// the form that plans one (or changes one) and the cancel and lifecycle actions.
import * as api from '../api.js';
import { badge, clock, empty, h, json, replace, table, time } from '../dom.js';
import { centerName, hostRoomStateName, hostStateName, legStateName, lifecycleName, partnerName, reasonName, titleIn, tr } from '../i18n.js';
import { app, can, describeError, openDialog, toast } from '../ui.js';

/** @typedef {import('../model.js').HostEvaluationView} HostEvaluationView */
/** @typedef {import('../model.js').HostLegView} HostLegView */
/** @typedef {import('../model.js').HostDay} HostDay */
/** @typedef {import('../model.js').SeatCheckView} SeatCheckView */

/** legs change as partners answer: the page follows them this often */
const REFRESH_MS = 5_000;
const HOUR_MS = 3600_000;
const DAY_MS = 24 * HOUR_MS;
const MAX_GUESTS = 5;
const PROJECT_TYPES = ['A01', 'A02', 'A03', 'A04', 'A05', 'A06', 'A07', 'A08', 'A09', 'A10', 'A11', 'A12', 'A13', 'A14', 'A97', 'A98', 'A99'];

/** @param {string} date yyyy-MM-dd @param {number} days */
function addDays(date, days) {
  return new Date(Date.parse(`${date}T12:00:00+08:00`) + days * DAY_MS + 8 * HOUR_MS).toISOString().slice(0, 10);
}

/** The Beijing day of an instant. @param {string} value */
function beijingDay(value) {
  return new Date(new Date(value).getTime() + 8 * HOUR_MS).toISOString().slice(0, 10);
}

/** An instant as a datetime-local value, Beijing time. @param {string} value */
function localOf(value) {
  return new Date(new Date(value).getTime() + 8 * HOUR_MS).toISOString().slice(0, 16);
}

/** A datetime-local value (Beijing time) as ISO 8601 with its offset. @param {string} value */
function isoBeijing(value) {
  return /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/.test(value) ? `${value}:00+08:00` : value;
}

/**
 * Why an evaluation or a leg failed, as the gateway writes it (`430400 NO_CAPACITY`,
 * `DEADLINE 430300,430100`) with the centers and codes named; an operator's words as they are.
 * @param {string | null | undefined} reason
 */
export function hostReason(reason) {
  if (!reason) return '';
  const guest = /^(\d{6}) ([A-Z_]+)$/.exec(reason);
  if (guest) return `${centerName(guest[1] ?? '')} ${reasonName(guest[2])}`;
  const deadline = /^DEADLINE(?: (.*))?$/.exec(reason);
  if (deadline) {
    const undecided = (deadline[1] ?? '').split(',').filter((part) => part !== '');
    return `${reasonName('DEADLINE')}${undecided.length > 0 ? tr('：', ': ') + undecided.map((part) => (/^\d{6}$/.test(part) ? centerName(part) : part === 'host room' ? tr('主场评标室', 'host room') : part)).join(tr('、', ', ')) : ''}`;
  }
  return /^[A-Z_]+$/.test(reason) ? reasonName(reason) : reason;
}

/** @param {string} state */
function stateHealth(state) {
  if (state === 'in-force' || state === 'approved' || state === 'confirmed' || state === 'booked') return 'green';
  if (state === 'failed' || state === 'declined' || state === 'refused') return 'red';
  if (state === 'cancelled' || state === 'released' || state === 'freed') return 'neutral';
  return 'amber';
}

/** @param {{ start: string, end: string }} window */
function windowText(window) {
  return `${time(window.start)} – ${clock(window.end)}`;
}

/** @param {HostLegView[]} legs @param {string} testid */
function legTable(legs, testid) {
  if (legs.length === 0) return empty(tr('没有客场。', 'No guest venue.'));
  return table(
    [tr('客场中心', 'Guest center'), tr('经由', 'Through'), tr('状态', 'State'), tr('席位', 'Seats'), tr('评标室', 'Room'), tr('座位号', 'Seat numbers'), tr('申请编号 / 请求', 'Series / request'), tr('原因', 'Reason')],
    legs.map((leg) =>
      h(
        'tr',
        { testid: 'host-leg', dataset: { center: leg.center, state: leg.state, partner: leg.partner } },
        h('td', null, centerName(leg.center)),
        h('td', null, partnerName(leg.partner)),
        h('td', null, badge(stateHealth(leg.state), legStateName(leg.state), 'leg-state')),
        h('td', { class: 'num' }, String(leg.seats)),
        h('td', null, leg.roomName ?? '—', leg.roomAddress ? h('div', { class: 'muted small' }, leg.roomAddress) : null),
        h('td', { class: 'small' }, leg.seatNumbers.length > 0 ? leg.seatNumbers.join(', ') : '—'),
        h('td', { class: 'mono small' }, leg.seriesNumber ?? leg.requestId ?? '—'),
        h('td', null, hostReason(leg.reason) || '—'),
      ),
    ),
    { testid },
  );
}

/** @param {import('../model.js').HostRoomView} room */
function roomText(room) {
  return `${room.roomId ?? '—'} · ${tr(`${room.seats} 座`, `${room.seats} seats`)}${room.seatIds.length > 0 ? ` (${room.seatIds.join(', ')})` : ''}`;
}

/**
 * What an operator may do now, as the use case allows it (it checks again).
 * @param {HostEvaluationView} evaluation
 */
function allowed(evaluation) {
  const live = evaluation.lifecycle !== 'ended' && evaluation.lifecycle !== 'archived';
  const running = evaluation.state === 'in-force' || evaluation.state === 'changing';
  return {
    change: evaluation.state === 'in-force' && live,
    cancel: (evaluation.state === 'requested' || running) && live,
    start: running && evaluation.lifecycle === 'not-started',
    pause: running && evaluation.lifecycle === 'started',
    resume: running && evaluation.lifecycle === 'paused',
    end: running && evaluation.lifecycle === 'started',
    archive: running && evaluation.lifecycle === 'ended',
  };
}

/**
 * @typedef {object} Handlers
 * @property {(evaluation: HostEvaluationView) => void} change fills the form with the plan, to change it
 * @property {() => Promise<void>} refresh
 */

/** @param {HostEvaluationView} evaluation @param {Handlers} handlers */
function actionBar(evaluation, handlers) {
  if (!can('operator')) return null;
  const may = allowed(evaluation);
  /**
   * @param {string} path
   * @param {Record<string, string>} body
   * @param {string} done
   * @param {HTMLElement} button
   */
  const post = (path, body, done, button) => {
    button.setAttribute('disabled', '');
    api
      .post(`/ops/api/host-evaluations/${encodeURIComponent(evaluation.id)}/${path}`, body)
      .then(() => {
        toast(done, 'ok');
        return handlers.refresh();
      })
      .catch((/** @type {unknown} */ error) => toast(problemText(error), 'error'))
      .finally(() => button.removeAttribute('disabled'));
  };
  /**
   * @param {string} status
   * @param {string} label
   * @param {string} testid
   * @param {{ reason?: boolean, danger?: boolean }} [options]
   */
  const lifecycle = (status, label, testid, options = {}) => {
    const button = h('button', { type: 'button', class: options.danger ? 'btn btn-small btn-danger' : 'btn btn-small', testid, dataset: { status } }, label);
    button.addEventListener('click', () => {
      void openDialog({
        title: tr(`${label}：${evaluation.projectName}`, `${label}: ${evaluation.projectName}`),
        body: h('p', { class: 'muted' }, tr(`将告知省平台及长沙各客场（${evaluation.id}）。`, `The province and each Changsha guest are told (${evaluation.id}).`)),
        confirm: label,
        danger: options.danger ?? false,
        testid: 'host-status-form',
        fields: options.reason ? [{ name: 'reason', label: tr('原因', 'Reason'), kind: 'textarea', testid: 'host-status-reason', required: true, minLength: 1, maxLength: 500 }] : [],
      }).then((values) => {
        if (!values) return;
        post('status', { status, ...(values['reason'] ? { reason: values['reason'] } : {}) }, tr(`已${label}`, `${label}: done`), button);
      });
    });
    return button;
  };
  const buttons = [];
  if (may.change) {
    buttons.push(h('button', { type: 'button', class: 'btn btn-small', testid: 'host-change', onclick: () => handlers.change(evaluation) }, tr('变更', 'Change')));
  }
  if (may.start) buttons.push(lifecycle('started', tr('开始', 'Start'), 'host-do-start'));
  if (may.pause) buttons.push(lifecycle('paused', tr('暂停', 'Pause'), 'host-do-pause', { reason: true }));
  if (may.resume) buttons.push(lifecycle('resumed', tr('恢复', 'Resume'), 'host-do-resume'));
  if (may.end) buttons.push(lifecycle('ended', tr('结束', 'End'), 'host-do-end'));
  if (may.archive) buttons.push(lifecycle('archived', tr('归档', 'Archive'), 'host-do-archive'));
  if (may.cancel) {
    const cancel = h('button', { type: 'button', class: 'btn btn-small btn-danger', testid: 'host-cancel' }, tr('取消评标', 'Cancel'));
    cancel.addEventListener('click', () => {
      void openDialog({
        title: tr(`取消主场评标 ${evaluation.id}`, `Cancel host evaluation ${evaluation.id}`),
        body: h('p', null, tr('所有客场将被释放，主场评标室将被释放。此操作不可撤销。', 'Every guest venue and the host room are released. This cannot be undone.')),
        confirm: tr('取消评标', 'Cancel the evaluation'),
        danger: true,
        testid: 'host-cancel-form',
        fields: [{ name: 'reason', label: tr('原因', 'Reason'), kind: 'textarea', testid: 'host-cancel-reason', required: true, minLength: 1, maxLength: 500 }],
      }).then((values) => {
        if (!values) return;
        post('cancel', { reason: values['reason'] ?? '' }, tr(`已取消 ${evaluation.id}`, `${evaluation.id} cancelled`), cancel);
      });
    });
    buttons.push(cancel);
  }
  return buttons.length > 0 ? h('div', { class: 'toolbar host-actions', testid: 'host-actions' }, buttons) : null;
}

/** A refused action with what was wrong. @param {unknown} error */
function problemText(error) {
  if (error instanceof api.ApiError && Array.isArray(error.body['errors'])) {
    const list = /** @type {{ path?: string, message?: string }[]} */ (error.body['errors']);
    return `${titleIn(error.message)}: ${list.map((item) => `${item.path ?? ''} ${hostReason(item.message ?? '')}`.trim()).join('; ')}`;
  }
  if (error instanceof api.ApiError && typeof error.body['detail'] === 'string' && error.status !== 403) return `${titleIn(error.message)}: ${error.body['detail']}`;
  return describeError(error);
}

/** @param {HostEvaluationView} evaluation @param {Handlers} handlers @param {boolean} [withTrace] */
function card(evaluation, handlers, withTrace = false) {
  const notices = [];
  if (evaluation.reason) notices.push(h('p', { class: evaluation.state === 'failed' ? 'notice notice-red' : 'notice', testid: 'host-reason' }, `${tr('原因', 'Reason')}: ${hostReason(evaluation.reason)}`));
  if (evaluation.needsOperator) notices.push(h('p', { class: 'notice notice-red', testid: 'host-needs-operator' }, tr(`需要人工处理（变更或取消）：${hostReason(evaluation.needsOperator)}`, `Needs an operator (change or cancel): ${hostReason(evaluation.needsOperator)}`)));
  if (evaluation.lastChangeFailure) notices.push(h('p', { class: 'notice', testid: 'host-change-failure' }, tr(`上次变更失败，原安排不变：${hostReason(evaluation.lastChangeFailure)}`, `The last change failed, the plan stays: ${hostReason(evaluation.lastChangeFailure)}`)));
  const change = evaluation.change;
  return h(
    'section',
    { class: 'panel host-card', testid: 'host-evaluation', dataset: { id: evaluation.id, state: evaluation.state, lifecycle: evaluation.lifecycle } },
    h(
      'div',
      { class: 'panel-head' },
      h('h2', null, evaluation.projectName, ' ', h('a', { href: `#/hosting/${encodeURIComponent(evaluation.id)}`, class: 'mono small', testid: 'host-link' }, evaluation.id)),
      h('span', { class: 'host-badges' }, badge(stateHealth(evaluation.state), hostStateName(evaluation.state), 'host-state'), ' ', badge('neutral', lifecycleName(evaluation.lifecycle), 'host-lifecycle')),
    ),
    h(
      'dl',
      { class: 'facts' },
      h('dt', null, tr('标段', 'Section')),
      h('dd', { class: 'mono', testid: 'host-section' }, evaluation.sectionCode),
      h('dt', null, tr('交易类型', 'Trade type')),
      h('dd', null, evaluation.tradeType, evaluation.projectType ? ` · ${evaluation.projectType}` : ''),
      h('dt', null, tr('时间', 'When')),
      h('dd', { testid: 'host-window' }, windowText(evaluation.window)),
      h('dt', null, tr('主场评标室', 'Host room')),
      h('dd', { testid: 'host-room' }, roomText(evaluation.hostRoom), ' ', badge(stateHealth(evaluation.hostRoom.state), hostRoomStateName(evaluation.hostRoom.state))),
      h('dt', null, tr('代理机构联系人', 'Agent contact')),
      h('dd', { testid: 'host-agent' }, `${evaluation.agentContact} · ${evaluation.agentPhone}`),
    ),
    notices,
    legTable(evaluation.legs, 'host-legs'),
    change
      ? h(
          'div',
          { class: 'host-change', testid: 'host-pending-change', dataset: { number: String(change.number) } },
          h('h3', null, tr(`变更 #${change.number}（待定）：${change.reason}`, `Change #${change.number} (undecided): ${change.reason}`)),
          h('p', { class: 'muted' }, `${windowText(change.window)} · ${tr('主场', 'host')} ${roomText(change.hostRoom)} · ${hostRoomStateName(change.hostRoom.state)}`),
          legTable(change.legs, 'host-change-legs'),
        )
      : null,
    actionBar(evaluation, handlers),
    withTrace && evaluation.trace.length > 0
      ? h(
          'details',
          { class: 'host-trace', testid: 'host-trace' },
          h('summary', null, tr(`过程记录（${evaluation.traceTotal} 条）`, `Trace (${evaluation.traceTotal} entries)`)),
          h(
            'ol',
            { class: 'timeline' },
            evaluation.trace.map((entry) =>
              h(
                'li',
                { class: `timeline-entry stage-${entry.stage}`, testid: 'host-trace-entry', dataset: { stage: entry.stage } },
                h('div', { class: 'timeline-head' }, h('span', { class: 'timeline-time' }, time(entry.at)), h('strong', null, entry.stage)),
                h('pre', { class: 'small' }, json(entry)),
              ),
            ),
          ),
        )
      : null,
  );
}

// ---------------------------------------------------------------- the form

/**
 * @typedef {object} FormMode
 * @property {'plan' | 'change'} kind
 * @property {HostEvaluationView} [evaluation] the one being changed
 */

/**
 * The form that plans an evaluation, or changes one (the complete new plan).
 * Beside each guest center: its free seats over the window (the gateway asks
 * the partner that serves it; advisory, nothing is held).
 *
 * @param {{ date: string, centers: { center: string, partner: string | null }[], planned: (evaluation: HostEvaluationView) => void }} options
 */
function planForm({ date, centers, planned }) {
  /** @type {FormMode} */
  let mode = { kind: 'plan' };
  /** @type {{ center: string, seats: string }[]} */
  let guests = [{ center: '', seats: '1' }];
  /** seat-checks answered out of order are dropped: the latest asked for a row wins */
  let asked = 0;

  /** @param {string} name @param {Record<string, unknown>} attributes */
  const input = (name, attributes) => h('input', { id: `host-${name}`, name, testid: `host-${name}`, autocomplete: 'off', ...attributes });
  const projectCode = input('projectCode', { required: true, pattern: '^[A-Z0-9]{20}$', maxlength: 20, placeholder: tr('20 位', '20 characters'), class: 'mono' });
  const sectionCode = input('sectionCode', { required: true, pattern: '^[A-Z0-9]{23}$', maxlength: 23, placeholder: tr('23 位，以项目编号开头', '23 characters, starting with the project code'), class: 'mono' });
  const projectName = input('projectName', { required: true, maxlength: 200 });
  const tradeType = h('select', { id: 'host-tradeType', name: 'tradeType', testid: 'host-tradeType' }, h('option', { value: 'GCJS' }, tr('工程建设 GCJS', 'Construction GCJS')), h('option', { value: 'ZFCG' }, tr('政府采购 ZFCG', 'Government procurement ZFCG')));
  const projectType = h('select', { id: 'host-projectType', name: 'projectType', testid: 'host-projectType' }, PROJECT_TYPES.map((code) => h('option', { value: code }, code)));
  const projectTypeField = h('label', { class: 'field', for: 'host-projectType' }, h('span', { class: 'field-label' }, tr('项目类型（工程建设）', 'Project type (GCJS)')), projectType);
  const start = input('start', { type: 'datetime-local', required: true, value: `${date}T09:00` });
  const end = input('end', { type: 'datetime-local', required: true, value: `${date}T12:00` });
  const hostSeats = input('hostSeats', { type: 'number', required: true, min: 1, max: 60, value: '5' });
  const agentContact = input('agentContact', { required: true, maxlength: 50 });
  const agentPhone = input('agentPhone', { required: true, pattern: '^[0-9\\-]{7,20}$', maxlength: 20, inputmode: 'tel' });
  const remark = h('textarea', { id: 'host-remark', name: 'remark', testid: 'host-remark', rows: 2, maxlength: 500 });
  const reason = h('textarea', { id: 'host-reason', name: 'reason', testid: 'host-change-reason', rows: 2, maxlength: 500 });
  const reasonField = h('label', { class: 'field field-wide', for: 'host-reason', hidden: true }, h('span', { class: 'field-label' }, tr('变更原因', 'Why the plan changes')), reason);
  const guestRows = h('div', { class: 'guest-rows', testid: 'host-guests' });
  const addGuest = h('button', { type: 'button', class: 'btn btn-small', testid: 'host-add-guest' }, tr('+ 添加客场', '+ Add a guest'));
  const error = h('div', { class: 'form-error', role: 'alert', testid: 'host-form-error', hidden: true });
  const heading = h('h2', { testid: 'host-form-title' });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary', testid: 'host-submit' });
  const leaveChange = h('button', { type: 'button', class: 'btn', testid: 'host-change-abandon', hidden: true }, tr('放弃变更', 'Leave the change'));

  /** @param {HTMLElement} element */
  const value = (element) => (element instanceof HTMLInputElement || element instanceof HTMLSelectElement || element instanceof HTMLTextAreaElement ? element.value.trim() : '');
  /** @param {HTMLElement} element @param {string} next */
  const set = (element, next) => {
    if (element instanceof HTMLInputElement || element instanceof HTMLSelectElement || element instanceof HTMLTextAreaElement) element.value = next;
  };

  const showProjectType = () => {
    projectTypeField.hidden = value(tradeType) !== 'GCJS';
  };
  tradeType.addEventListener('change', showProjectType);

  /** @param {HTMLElement} cell @param {number} index */
  const checkRow = (cell, index) => {
    const guest = guests[index];
    const from = value(start);
    const to = value(end);
    if (!guest || !/^\d{6}$/.test(guest.center) || !from || !to || !/^\d{1,2}$/.test(guest.seats)) {
      cell.dataset['state'] = 'idle';
      replace(cell, h('span', { class: 'muted small' }, tr('选择中心与时间后显示空闲席位', 'Free seats once the center and window are chosen')));
      return;
    }
    const mine = (asked += 1);
    cell.dataset['state'] = 'asking';
    cell.dataset['asked'] = String(mine);
    replace(cell, h('span', { class: 'muted small' }, tr('查询中…', 'Asking…')));
    api
      .get('/ops/api/seat-check', { center: guest.center, start: isoBeijing(from), end: isoBeijing(to), seats: guest.seats })
      .then((answer) => {
        if (cell.dataset['asked'] !== String(mine)) return;
        const check = /** @type {SeatCheckView} */ (answer);
        const most = check.rooms.reduce((best, room) => Math.max(best, room.freeSeats), 0);
        cell.dataset['state'] = 'answered';
        cell.dataset['meets'] = String(check.meets);
        cell.dataset['free'] = String(most);
        const unknown = check.source === 'availability' && !check.receivedAt;
        replace(
          cell,
          unknown
            ? badge('amber', tr('尚未收到空闲席位', 'no availability received yet'))
            : badge(check.meets ? 'green' : 'red', check.meets ? tr(`空闲 ${most} 座，满足`, `${most} free, enough`) : tr(`最多空闲 ${most} 座，不足`, `at most ${most} free, not enough`)),
          check.rooms.length > 0 ? h('span', { class: 'muted small' }, ` ${check.rooms.map((room) => `${room.name}: ${room.freeSeats}`).join(', ')}`) : null,
          check.source === 'availability' && check.receivedAt ? h('span', { class: 'muted small' }, tr(` （长沙发布于 ${time(check.receivedAt)}）`, ` (published by Changsha ${time(check.receivedAt)})`)) : null,
        );
      })
      .catch((/** @type {unknown} */ failure) => {
        if (cell.dataset['asked'] !== String(mine)) return;
        cell.dataset['state'] = 'failed';
        replace(cell, badge('amber', tr('无法查询', 'could not ask')), h('span', { class: 'muted small' }, ` ${problemText(failure)}`));
      });
  };

  const drawGuests = () => {
    replace(
      guestRows,
      guests.map((guest, index) => {
        const center = h(
          'select',
          { id: `host-guest-center-${index}`, testid: 'host-guest-center', 'aria-label': tr(`客场 ${index + 1} 中心`, `Guest ${index + 1} center`), required: true },
          h('option', { value: '' }, tr('选择中心…', 'Choose a center…')),
          centers.map((entry) => h('option', { value: entry.center, selected: entry.center === guest.center, disabled: entry.partner === null }, `${centerName(entry.center)}${entry.partner ? ` · ${partnerName(entry.partner)}` : ''}`)),
        );
        const seats = h('input', { type: 'number', min: 1, max: 15, required: true, value: guest.seats, testid: 'host-guest-seats', 'aria-label': tr(`客场 ${index + 1} 席位`, `Guest ${index + 1} seats`) });
        const free = h('div', { class: 'guest-free', testid: 'host-guest-free' });
        const update = () => {
          guests[index] = { center: value(center), seats: value(seats) };
          checkRow(free, index);
        };
        center.addEventListener('change', update);
        seats.addEventListener('change', update);
        const remove = h('button', { type: 'button', class: 'btn btn-small', testid: 'host-remove-guest', disabled: guests.length <= 1, 'aria-label': tr('移除此客场', 'Remove this guest') }, '×');
        remove.addEventListener('click', () => {
          guests = guests.filter((_, other) => other !== index);
          drawGuests();
        });
        const row = h('div', { class: 'guest-row', testid: 'host-guest', dataset: { index: String(index) } }, h('span', { class: 'guest-number' }, String(index + 1)), center, seats, h('span', { class: 'muted small' }, tr('座', 'seats')), remove, free);
        checkRow(free, index);
        return row;
      }),
    );
    addGuest.toggleAttribute('disabled', guests.length >= MAX_GUESTS);
  };
  addGuest.addEventListener('click', () => {
    if (guests.length >= MAX_GUESTS) return;
    guests = [...guests, { center: '', seats: '1' }];
    drawGuests();
  });
  // a new window: every guest's free seats again
  start.addEventListener('change', drawGuests);
  end.addEventListener('change', drawGuests);

  const drawMode = () => {
    const changing = mode.kind === 'change' && mode.evaluation;
    replace(heading, changing ? tr(`变更主场评标 ${mode.evaluation?.id ?? ''}`, `Change host evaluation ${mode.evaluation?.id ?? ''}`) : tr('新建主场评标', 'Plan a host evaluation'));
    replace(submit, changing ? tr('提交变更', 'Send the change') : tr('提交', 'Plan'));
    reasonField.hidden = !changing;
    leaveChange.hidden = !changing;
    reason.toggleAttribute('required', Boolean(changing));
    // the section is the evaluation's own
    projectCode.toggleAttribute('readonly', Boolean(changing));
    sectionCode.toggleAttribute('readonly', Boolean(changing));
  };

  const reset = () => {
    mode = { kind: 'plan' };
    for (const element of [projectCode, sectionCode, projectName, agentContact, agentPhone, remark, reason]) set(element, '');
    set(tradeType, 'GCJS');
    set(hostSeats, '5');
    set(start, `${date}T09:00`);
    set(end, `${date}T12:00`);
    guests = [{ center: '', seats: '1' }];
    error.hidden = true;
    showProjectType();
    drawMode();
    drawGuests();
  };
  leaveChange.addEventListener('click', reset);

  const form = h(
    'form',
    {
      class: 'form-grid host-form',
      testid: 'host-form',
      onsubmit: (/** @type {SubmitEvent} */ event) => {
        event.preventDefault();
        error.hidden = true;
        const gcjs = value(tradeType) === 'GCJS';
        const body = {
          projectCode: value(projectCode),
          sectionCode: value(sectionCode),
          projectName: value(projectName),
          tradeType: value(tradeType),
          ...(gcjs ? { projectType: value(projectType) } : {}),
          start: isoBeijing(value(start)),
          end: isoBeijing(value(end)),
          hostSeats: Number(value(hostSeats)),
          guests: guests.map((guest) => ({ center: guest.center, seats: Number(guest.seats) })),
          agentContact: value(agentContact),
          agentPhone: value(agentPhone),
          ...(value(remark) ? { remark: value(remark) } : {}),
          ...(mode.kind === 'change' ? { reason: value(reason) } : {}),
        };
        const changing = mode.kind === 'change' ? mode.evaluation : undefined;
        submit.setAttribute('disabled', '');
        api
          .post(changing ? `/ops/api/host-evaluations/${encodeURIComponent(changing.id)}/change` : '/ops/api/host-evaluations', body)
          .then((answer) => {
            const evaluation = /** @type {HostEvaluationView} */ (answer);
            toast(changing ? tr(`已提交变更 ${evaluation.id}`, `Change of ${evaluation.id} sent`) : tr(`已发起主场评标 ${evaluation.id}`, `Host evaluation ${evaluation.id} planned`), 'ok');
            reset();
            planned(evaluation);
          })
          .catch((/** @type {unknown} */ failure) => {
            error.hidden = false;
            replace(error, problemText(failure));
          })
          .finally(() => submit.removeAttribute('disabled'));
      },
    },
    h('label', { class: 'field', for: 'host-projectCode' }, h('span', { class: 'field-label' }, tr('项目编号', 'Project code')), projectCode),
    h('label', { class: 'field', for: 'host-sectionCode' }, h('span', { class: 'field-label' }, tr('标段编号', 'Section code')), sectionCode),
    h('label', { class: 'field field-wide', for: 'host-projectName' }, h('span', { class: 'field-label' }, tr('项目名称', 'Project name')), projectName),
    h('label', { class: 'field', for: 'host-tradeType' }, h('span', { class: 'field-label' }, tr('交易类型', 'Trade type')), tradeType),
    projectTypeField,
    h('label', { class: 'field', for: 'host-start' }, h('span', { class: 'field-label' }, tr('开始（北京时间）', 'Start (Beijing time)')), start),
    h('label', { class: 'field', for: 'host-end' }, h('span', { class: 'field-label' }, tr('结束（同一天）', 'End (same day)')), end),
    h('label', { class: 'field', for: 'host-hostSeats' }, h('span', { class: 'field-label' }, tr('主场席位', 'Host seats')), hostSeats),
    h('div', { class: 'field field-wide' }, h('span', { class: 'field-label' }, tr(`客场（1-${MAX_GUESTS} 个）与空闲席位`, `Guests (1-${MAX_GUESTS}) and their free seats`)), guestRows, h('div', null, addGuest)),
    h('label', { class: 'field', for: 'host-agentContact' }, h('span', { class: 'field-label' }, tr('代理机构联系人', 'Agent contact')), agentContact),
    h('label', { class: 'field', for: 'host-agentPhone' }, h('span', { class: 'field-label' }, tr('联系电话', 'Agent phone')), agentPhone),
    h('label', { class: 'field field-wide', for: 'host-remark' }, h('span', { class: 'field-label' }, tr('备注', 'Remark')), remark),
    reasonField,
    h('div', { class: 'field field-wide' }, error, h('div', { class: 'toolbar' }, submit, leaveChange)),
  );

  reset();
  return {
    element: h('section', { class: 'panel', testid: 'host-form-panel' }, heading, h('p', { class: 'muted' }, tr('主场评标室与各客场全部落实才生效；任一客场不同意即失败并全部释放。联系人与电话为个人信息，提交后仅以掩码显示。', 'In force once the host room and every guest are booked; any refusal fails it and releases everything. The contact and phone are personal data: shown masked once sent.')), form),
    /** Fills the form with an evaluation's plan, to change it: the contact and phone are asked again (the page never has them). @param {HostEvaluationView} evaluation */
    change(evaluation) {
      reset();
      mode = { kind: 'change', evaluation };
      set(projectCode, evaluation.projectCode);
      set(sectionCode, evaluation.sectionCode);
      set(projectName, evaluation.projectName);
      set(tradeType, evaluation.tradeType);
      if (evaluation.projectType) set(projectType, evaluation.projectType);
      set(start, localOf(evaluation.window.start));
      set(end, localOf(evaluation.window.end));
      set(hostSeats, String(evaluation.hostRoom.seats));
      guests = evaluation.legs.map((leg) => ({ center: leg.center, seats: String(leg.seats) }));
      showProjectType();
      drawMode();
      drawGuests();
      agentContact.setAttribute('placeholder', tr(`请重新填写（原为 ${evaluation.agentContact}）`, `enter again (was ${evaluation.agentContact})`));
      agentPhone.setAttribute('placeholder', tr(`请重新填写（原为 ${evaluation.agentPhone}）`, `enter again (was ${evaluation.agentPhone})`));
      form.scrollIntoView({ block: 'start' });
      reason.focus();
    },
  };
}

// ---------------------------------------------------------------- the page

/** One evaluation with its trace: #/hosting/<id>. @param {import('../app.js').ViewContext} context @param {string} id */
async function renderOne(context, id) {
  const content = h('div', { class: 'stack' });
  const back = h('a', { href: '#/hosting', class: 'btn', testid: 'host-back' }, tr('← 当日评标', '← The day'));
  replace(context.root, h('div', { class: 'page-head' }, h('h1', null, tr('主场评标', 'Host evaluation')), h('span', { class: 'mono muted' }, id), back), content);
  /** @type {Handlers} */
  const handlers = {
    change: (evaluation) => {
      location.hash = `#/hosting?date=${beijingDay(evaluation.window.start)}&change=${encodeURIComponent(evaluation.id)}`;
    },
    refresh: async () => refresh(),
  };
  const refresh = async () => {
    const evaluation = /** @type {HostEvaluationView} */ (await api.get(`/ops/api/host-evaluations/${encodeURIComponent(id)}`));
    if (!context.shown()) return;
    back.setAttribute('href', `#/hosting?date=${beijingDay(evaluation.window.start)}`);
    // the trace stays open across refreshes once opened
    const open = content.querySelector('details[open]') !== null;
    replace(content, card(evaluation, handlers, true));
    if (open) content.querySelector('details')?.setAttribute('open', '');
  };
  await refresh();
  context.every(refresh, REFRESH_MS);
}

/** @param {import('../app.js').ViewContext} context */
export async function render(context) {
  const id = context.args[0];
  if (id) {
    await renderOne(context, id);
    return;
  }
  const today = app.meta?.today ?? new Date(Date.now() + 8 * HOUR_MS).toISOString().slice(0, 10);
  const requested = context.query.get('date');
  const date = requested && /^\d{4}-\d{2}-\d{2}$/.test(requested) ? requested : today;
  /** @param {string} next */
  const goTo = (next) => {
    location.hash = `#/hosting?date=${next}`;
  };
  const dateInput = h('input', { type: 'date', value: date, testid: 'host-date', 'aria-label': tr('日期', 'Date') });
  dateInput.addEventListener('change', () => {
    if (dateInput instanceof HTMLInputElement && dateInput.value) goTo(dateInput.value);
  });
  const list = h('div', { class: 'stack', testid: 'host-list', dataset: { date } });
  const updated = h('span', { class: 'muted', testid: 'host-updated' });

  let day = /** @type {HostDay} */ (await api.get('/ops/api/host-evaluations', { date }));
  if (!context.shown()) return;

  /** @type {ReturnType<typeof planForm> | undefined} */
  let form;
  const refresh = async () => {
    day = /** @type {HostDay} */ (await api.get('/ops/api/host-evaluations', { date }));
    if (!context.shown()) return;
    draw();
  };
  /** @type {Handlers} */
  const handlers = { change: (evaluation) => form?.change(evaluation), refresh };
  const draw = () => {
    list.dataset['count'] = String(day.items.length);
    replace(list, day.items.length > 0 ? day.items.map((evaluation) => card(evaluation, handlers)) : h('section', { class: 'panel' }, empty(tr('当日没有主场评标。', 'No host evaluation on this day.'))));
    replace(updated, tr(`更新于 ${time(day.generatedAt)}`, `Updated ${time(day.generatedAt)}`));
  };
  if (can('operator')) {
    form = planForm({
      date,
      centers: day.centers,
      planned: (evaluation) => {
        const planned = beijingDay(evaluation.window.start);
        if (planned !== date) goTo(planned);
        else void refresh();
      },
    });
  }

  replace(
    context.root,
    h('div', { class: 'page-head' }, h('h1', null, tr('主场评标', 'Host evaluations')), h('span', { class: 'muted' }, tr('株洲为主场，各客场经省平台或长沙落实；北京时间', 'Zhuzhou hosts; each guest is booked through the province or Changsha; Beijing time')), updated),
    h(
      'div',
      { class: 'toolbar', testid: 'host-controls' },
      h('button', { type: 'button', class: 'btn', testid: 'host-prev', onclick: () => goTo(addDays(date, -1)) }, tr('← 前一天', '← Previous day')),
      h('button', { type: 'button', class: 'btn', testid: 'host-today', onclick: () => goTo(today) }, tr('今天', 'Today')),
      h('button', { type: 'button', class: 'btn', testid: 'host-next', onclick: () => goTo(addDays(date, 1)) }, tr('后一天 →', 'Next day →')),
      dateInput,
    ),
    list,
    form ? form.element : null,
  );
  draw();
  // from an evaluation's own page: its change, in the form
  const changing = context.query.get('change');
  const target = changing ? day.items.find((evaluation) => evaluation.id === changing) : undefined;
  if (target && form && allowed(target).change) form.change(target);
  context.every(refresh, REFRESH_MS);
}
