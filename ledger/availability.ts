import { DAY_MS, beijingDate, formatIsoBeijing } from '../kernel/beijing-time.ts';
import type { RoomConfig } from '../config/index.ts';
import type { Booking } from './index.ts';
import type { WorkCalendar } from './calendar.ts';

interface Window {
  start: number;
  end: number;
}


/** `window` minus every busy interval, in order. */
function subtract(window: Window, busy: Window[]): Window[] {
  const free: Window[] = [];
  let cursor = window.start;
  for (const interval of [...busy].sort((a, b) => a.start - b.start)) {
    if (interval.end <= cursor || interval.start >= window.end) continue;
    if (interval.start > cursor) free.push({ start: cursor, end: interval.start });
    cursor = Math.max(cursor, interval.end);
  }
  if (cursor < window.end) free.push({ start: cursor, end: window.end });
  return free;
}

/** The union of windows, merged where they touch. */
function union(windows: Window[]): Window[] {
  const merged: Window[] = [];
  for (const window of [...windows].sort((a, b) => a.start - b.start)) {
    const last = merged.at(-1);
    if (last && window.start <= last.end) last.end = Math.max(last.end, window.end);
    else merged.push({ ...window });
  }
  return merged;
}

export interface AvailabilityInput {
  bookings: readonly Booking[];
  rooms: readonly RoomConfig[];
  bufferMinutes: number;
  openingHours: { start: string; end: string };
  calendar: WorkCalendar;
  from: number;
  days: number;
}

/**
 * Free windows of each room over the coming open days: opening hours minus
 * bookings and holds widened by the turnover buffer. A hall is free where at
 * least one of its seats is.
 */
export function computeAvailability(input: AvailabilityInput) {
  const buffer = input.bufferMinutes * 60 * 1000;
  const openDays: Window[] = [];
  const firstDay = beijingDate(input.from);
  for (let offset = 0; offset < input.days; offset++) {
    const day = beijingDate(Date.parse(`${firstDay}T12:00:00+08:00`) + offset * DAY_MS);
    if (input.calendar.isClosed(day)) continue;
    const start = Math.max(input.from, Date.parse(`${day}T${input.openingHours.start}:00+08:00`));
    const end = Date.parse(`${day}T${input.openingHours.end}:00+08:00`);
    if (start < end) openDays.push({ start, end });
  }
  const busyOf = (resource: string): Window[] =>
    input.bookings.filter((booking) => booking.resource === resource).map((booking) => ({ start: booking.start - buffer, end: booking.end + buffer }));
  const freeOf = (resource: string): Window[] => openDays.flatMap((day) => subtract(day, busyOf(resource)));

  const to = Date.parse(`${beijingDate(input.from + input.days * DAY_MS)}T00:00:00+08:00`);
  return {
    from: formatIsoBeijing(input.from),
    to: formatIsoBeijing(to),
    rooms: input.rooms.map((room) => {
      const free =
        room.kind === 'room'
          ? freeOf(room.id)
          : union(Array.from({ length: room.seats }, (_, n) => freeOf(`${room.id}-${String(n + 1).padStart(2, '0')}`)).flat());
      return { roomId: room.id, seats: room.seats, free: free.map((window) => ({ start: formatIsoBeijing(window.start), end: formatIsoBeijing(window.end) })) };
    }),
  };
}
