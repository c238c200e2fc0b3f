/* global location, HTMLInputElement */
import * as api from '../api.js';
import { badge, clock, empty, h, replace, table, time } from '../dom.js';
import { lang, lifecycleName, partnerName, stateName, tr } from '../i18n.js';
import { app } from '../ui.js';

/** @typedef {import('../model.js').RoomBoard} RoomBoard */
/** @typedef {import('../model.js').BoardBooking} BoardBooking */

const REFRESH_MS = 30_000;
const HOUR_MS = 3600_000;
const DAY_MS = 24 * HOUR_MS;
const WEEKDAYS_ZH = ['日', '一', '二', '三', '四', '五', '六'];
const WEEKDAYS_EN = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

/** @param {string} date yyyy-MM-dd @param {number} days */
function addDays(date, days) {
  return new Date(Date.parse(`${date}T12:00:00+08:00`) + days * DAY_MS + 8 * HOUR_MS).toISOString().slice(0, 10);
}

/** The Monday of the week of `date`. @param {string} date */
function monday(date) {
  const weekday = new Date(`${date}T12:00:00+08:00`).getUTCDay();
  return addDays(date, -((weekday + 6) % 7));
}

/** Hours since midnight, Beijing time. @param {string} value @param {string} date */
function hourOf(value, date) {
  return (new Date(value).getTime() - Date.parse(`${date}T00:00:00+08:00`)) / HOUR_MS;
}

/** @param {string} hhmm */
function hours(hhmm) {
  const [h1 = '0', m = '0'] = hhmm.split(':');
  return Number(h1) + Number(m) / 60;
}

/** The hours the board shows: opening hours and an hour either side, widened to every booking shown. @param {RoomBoard} board */
function axis(board) {
  let start = Math.max(0, Math.floor(hours(board.openingHours.start)) - 1);
  let end = Math.min(24, Math.ceil(hours(board.openingHours.end)) + 1);
  for (const booking of board.bookings) {
    const date = new Date(new Date(booking.start).getTime() + 8 * HOUR_MS).toISOString().slice(0, 10);
    start = Math.max(0, Math.min(start, Math.floor(hourOf(booking.start, date))));
    end = Math.min(24, Math.max(end, Math.ceil(hourOf(booking.end, date))));
  }
  return { start, end };
}

/** Zhuzhou's own host room: its evaluation's page. @param {string} id */
function hostHash(id) {
  return `#/hosting/${encodeURIComponent(id)}`;
}

/** @param {BoardBooking} booking */
function openBooking(booking) {
  if (booking.hostEvaluationId) {
    location.hash = hostHash(booking.hostEvaluationId);
    return;
  }
  location.hash = booking.trackingNo ? `#/messages/${encodeURIComponent(booking.trackingNo)}` : `#/messages?q=${encodeURIComponent(booking.requestId)}`;
}

/** @param {BoardBooking} booking */
function describe(booking) {
  const lines = [
    `${tr('请求', 'Request')}: ${booking.requestId} (${partnerName(booking.partner)})`,
    `${clock(booking.start)}–${clock(booking.end)}`,
    `${tr('状态', 'State')}: ${stateName(booking.state)}`,
  ];
  if (booking.ids['section']) lines.push(`${tr('标段', 'Section')}: ${booking.ids['section']}`);
  if (booking.holdUntil) lines.push(`${tr('保留至', 'Held until')}: ${time(booking.holdUntil)}`);
  if (booking.lifecycle) lines.push(`${tr('评标', 'Evaluation')}: ${lifecycleName(booking.lifecycle.status)} ${clock(booking.lifecycle.at)}`);
  if (booking.bookedEnd) lines.push(`${tr('原定结束', 'Booked to')}: ${clock(booking.bookedEnd)}`);
  return lines.join('\n');
}

/**
 * @param {BoardBooking} booking
 * @param {string} date
 * @param {{ start: number, end: number }} span
 * @param {boolean} wide
 */
function block(booking, date, span, wide) {
  const from = Math.max(span.start, hourOf(booking.start, date));
  const to = Math.min(span.end, hourOf(booking.end, date));
  const element = h(
    'button',
    {
      type: 'button',
      class: `block block-${booking.kind}${booking.holdExpired ? ' block-expired' : ''}${booking.hostEvaluationId ? ' block-host' : ''}`,
      title: describe(booking),
      testid: 'booking-block',
      dataset: { kind: booking.kind, request: booking.requestId, resource: booking.resource, partner: booking.partner, trackingNo: booking.trackingNo ?? '', state: booking.state, lifecycle: booking.lifecycle?.status ?? '', hostEvaluation: booking.hostEvaluationId ?? '' },
      onclick: () => openBooking(booking),
    },
    wide ? h('span', { class: 'block-label' }, booking.hostEvaluationId ? `${tr('主场', 'Host')} ${booking.requestId.slice(-8)}` : booking.requestId.slice(-8)) : null,
    wide ? h('span', { class: 'block-time' }, `${clock(booking.start)}–${clock(booking.end)}`) : null,
    wide && booking.holdUntil ? h('span', { class: 'block-time' }, tr(`保留至 ${clock(booking.holdUntil)}`, `held to ${clock(booking.holdUntil)}`)) : null,
    wide && booking.lifecycle ? h('span', { class: 'block-time', testid: 'block-lifecycle' }, lifecycleName(booking.lifecycle.status)) : null,
  );
  const width = span.end - span.start;
  element.style.left = `${((from - span.start) / width) * 100}%`;
  element.style.width = `${Math.max(0.8, ((to - from) / width) * 100)}%`;
  return element;
}

/** @param {RoomBoard} board */
function grid(board) {
  const span = axis(board);
  const wide = board.days === 1;
  const columns = board.dates.length;
  const container = h('div', { class: `board ${wide ? 'board-day' : 'board-week'}`, testid: 'room-board', dataset: { from: board.from, days: String(board.days) } });
  container.style.gridTemplateColumns = `minmax(9rem, 12rem) repeat(${columns}, minmax(${wide ? '40rem' : '6.5rem'}, 1fr))`;
  const hourCount = span.end - span.start;

  // header: the days, closed ones marked; in the day view also the hours
  container.append(h('div', { class: 'board-corner' }, tr('房间 / 座位', 'Room / seat')));
  for (const day of board.dates) {
    const weekday = lang() === 'zh' ? `周${WEEKDAYS_ZH[day.weekday] ?? ''}` : (WEEKDAYS_EN[day.weekday] ?? '');
    const head = h(
      'div',
      { class: `board-day-head${day.closed ? ' is-closed' : ''}`, testid: 'board-day', dataset: { date: day.date, closed: String(day.closed), provisional: String(day.provisional) } },
      h('span', { class: 'board-date' }, `${day.date.slice(5)} ${weekday}`),
      day.closed ? h('span', { class: 'tag tag-closed', testid: 'closed-day' }, tr('休息日', 'closed')) : null,
      day.provisional ? h('span', { class: 'tag tag-amber', title: tr('该年度节假日安排尚未收录，按周一至周五计算', 'No holiday notice for that year yet: Monday to Friday assumed') }, tr('日历待定', 'provisional')) : null,
    );
    if (wide) {
      const ticks = h('div', { class: 'ticks' });
      for (let hour = span.start; hour < span.end; hour += 1) {
        const tick = h('span', { class: 'tick' }, `${String(hour).padStart(2, '0')}`);
        tick.style.left = `${((hour - span.start) / hourCount) * 100}%`;
        ticks.append(tick);
      }
      head.append(ticks);
    }
    container.append(head);
  }

  /** @type {Map<string, BoardBooking[]>} */
  const byResource = new Map();
  for (const booking of board.bookings) {
    const list = byResource.get(booking.resource) ?? [];
    list.push(booking);
    byResource.set(booking.resource, list);
  }
  for (const room of board.rooms) {
    if (room.kind !== 'room') {
      const hallHead = h('div', { class: 'board-group' }, `${room.id} · ${tr(`工位区 ${room.seats} 座`, `hall, ${room.seats} seats`)}`);
      hallHead.style.gridColumn = `1 / span ${columns + 1}`;
      container.append(hallHead);
    }
    for (const resource of room.resources) {
      container.append(
        h(
          'div',
          { class: room.kind === 'room' ? 'board-label' : 'board-label board-seat', title: room.address, testid: 'board-resource', dataset: { resource, room: room.id } },
          h('strong', null, room.kind === 'room' ? resource : resource.slice(room.id.length + 1)),
          room.kind === 'room' ? h('span', { class: 'muted' }, tr(` ${room.seats} 座`, ` ${room.seats} seats`)) : null,
        ),
      );
      for (const day of board.dates) {
        const cell = h('div', { class: `board-cell${day.closed ? ' is-closed' : ''}`, dataset: { resource, date: day.date } });
        cell.style.backgroundSize = `${100 / hourCount}% 100%`;
        const dayStart = Date.parse(`${day.date}T00:00:00+08:00`);
        for (const booking of byResource.get(resource) ?? []) {
          if (new Date(booking.start).getTime() < dayStart + DAY_MS && new Date(booking.end).getTime() > dayStart) cell.append(block(booking, day.date, span, wide));
        }
        container.append(cell);
      }
    }
  }
  return h('div', { class: 'board-scroll' }, container);
}

/** One row per request (a hall request covers several seats). @param {RoomBoard} board */
function list(board) {
  /** @type {Map<string, { booking: BoardBooking, resources: string[] }>} */
  const owners = new Map();
  for (const booking of board.bookings) {
    const entry = owners.get(booking.owner);
    if (entry) entry.resources.push(booking.resource);
    else owners.set(booking.owner, { booking, resources: [booking.resource] });
  }
  const rows = [...owners.values()].map(({ booking, resources }) =>
    h(
      'tr',
      { testid: 'booking-row', dataset: { kind: booking.kind, request: booking.requestId, room: booking.roomId ?? '', trackingNo: booking.trackingNo ?? '', lifecycle: booking.lifecycle?.status ?? '', hostEvaluation: booking.hostEvaluationId ?? '' } },
      h('td', null, badge(booking.kind === 'hold' ? (booking.holdExpired ? 'red' : 'amber') : 'blue', stateName(booking.kind))),
      h('td', { class: 'mono' }, booking.requestId),
      h('td', { testid: 'booking-partner' }, booking.hostEvaluationId ? h('span', { class: 'tag tag-host' }, partnerName(booking.partner)) : partnerName(booking.partner)),
      h('td', null, booking.roomId ?? '', resources.length > 1 || resources[0] !== booking.roomId ? h('div', { class: 'muted small' }, resources.join(', ')) : null),
      h('td', null, `${time(booking.start)} – ${clock(booking.end)}`, booking.bookedEnd ? h('div', { class: 'muted small' }, tr(`原定至 ${clock(booking.bookedEnd)}`, `booked to ${clock(booking.bookedEnd)}`)) : null),
      h('td', null, stateName(booking.state)),
      h('td', { testid: 'booking-lifecycle' }, booking.lifecycle ? h('span', { title: time(booking.lifecycle.at) }, lifecycleName(booking.lifecycle.status)) : '—'),
      h('td', { testid: 'hold-until' }, booking.holdUntil ? time(booking.holdUntil) : '—', booking.holdExpired ? h('span', { class: 'tag tag-red' }, tr('已到期', 'lapsed')) : null),
      h('td', null, booking.ids['section'] ?? '—'),
      h(
        'td',
        null,
        booking.hostEvaluationId
          ? h('a', { href: hostHash(booking.hostEvaluationId), class: 'mono', testid: 'booking-host-link', title: tr('主场评标', 'Host evaluation') }, booking.hostEvaluationId)
          : h('a', { href: booking.trackingNo ? `#/messages/${encodeURIComponent(booking.trackingNo)}` : `#/messages?q=${encodeURIComponent(booking.requestId)}`, testid: 'booking-trace-link' }, tr('消息轨迹', 'Trace')),
      ),
    ),
  );
  return rows.length > 0
    ? table([tr('类型', 'Kind'), tr('请求', 'Request'), tr('合作方', 'Partner'), tr('房间 / 座位', 'Room / seats'), tr('时间', 'When'), tr('状态', 'State'), tr('评标', 'Evaluation'), tr('保留至', 'Held until'), tr('标段', 'Section'), ''], rows, { testid: 'bookings-table' })
    : empty(tr('此期间没有预订或保留。', 'No booking or hold in this period.'));
}

/** @param {import('../app.js').ViewContext} context */
export async function render(context) {
  const today = app.meta?.today ?? new Date(Date.now() + 8 * HOUR_MS).toISOString().slice(0, 10);
  const days = context.query.get('days') === '7' ? 7 : 1;
  const requested = context.query.get('from');
  const from = requested && /^\d{4}-\d{2}-\d{2}$/.test(requested) ? requested : days === 7 ? monday(today) : today;
  /** @param {string} date @param {number} count */
  const goTo = (date, count) => {
    location.hash = `#/rooms?from=${date}&days=${count}`;
  };
  const dateInput = h('input', { type: 'date', value: from, testid: 'rooms-date', 'aria-label': tr('日期', 'Date') });
  dateInput.addEventListener('change', () => {
    if (dateInput instanceof HTMLInputElement && dateInput.value) goTo(days === 7 ? monday(dateInput.value) : dateInput.value, days);
  });
  const controls = h(
    'div',
    { class: 'toolbar', testid: 'rooms-controls' },
    h('div', { class: 'segmented', role: 'group', 'aria-label': tr('视图', 'View') },
      h('button', { type: 'button', class: days === 1 ? 'btn is-on' : 'btn', 'aria-pressed': String(days === 1), testid: 'rooms-mode-day', onclick: () => goTo(from, 1) }, tr('日', 'Day')),
      h('button', { type: 'button', class: days === 7 ? 'btn is-on' : 'btn', 'aria-pressed': String(days === 7), testid: 'rooms-mode-week', onclick: () => goTo(monday(from), 7) }, tr('周', 'Week')),
    ),
    h('button', { type: 'button', class: 'btn', testid: 'rooms-prev', onclick: () => goTo(addDays(from, -days), days) }, tr('← 上一', '← Previous')),
    h('button', { type: 'button', class: 'btn', testid: 'rooms-today', onclick: () => goTo(days === 7 ? monday(today) : today, days) }, tr('今天', 'Today')),
    h('button', { type: 'button', class: 'btn', testid: 'rooms-next', onclick: () => goTo(addDays(from, days), days) }, tr('下一 →', 'Next →')),
    dateInput,
    h('span', { class: 'legend' },
      h('span', { class: 'legend-item legend-booking' }, tr('预订', 'Booking')),
      h('span', { class: 'legend-item legend-hold' }, tr('保留（待确认）', 'Hold (unconfirmed)')),
      h('span', { class: 'legend-item legend-closed' }, tr('休息日', 'Closed day')),
      h('span', { class: 'legend-item legend-host' }, tr('主场评标室', 'Host room')),
    ),
  );
  const content = h('div', { class: 'stack' });
  replace(context.root, h('div', { class: 'page-head' }, h('h1', null, tr('房间看板', 'Room board')), h('span', { class: 'muted' }, tr('北京时间；点击预订查看其消息轨迹（主场评标室：其主场评标）', 'Beijing time; click a booking for its message trace (a host room: its host evaluation)'))), controls, content);

  const refresh = async () => {
    const board = /** @type {RoomBoard} */ (await api.get('/ops/api/rooms', { from, days }));
    if (!context.shown()) return;
    replace(
      content,
      h('section', { class: 'panel panel-flush' }, grid(board)),
      board.capped ? h('p', { class: 'notice' }, tr('预订过多，只显示了一部分。', 'Too many bookings: only part of them are shown.')) : null,
      h('section', { class: 'panel' }, h('h2', null, tr('预订与保留', 'Bookings and holds')), list(board)),
    );
  };
  await refresh();
  context.every(refresh, REFRESH_MS);
}
