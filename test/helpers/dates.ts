import { WorkCalendar } from '../../ledger/calendar.ts';
import { beijingDate } from '../../kernel/beijing-time.ts';

const calendar = new WorkCalendar([]);
const DAY = 24 * 3600 * 1000;

/** `yyyyMMdd` of the n-th open (or closed) Beijing day from `days` ahead, for windows that are never past. */
export function futureDay(options: { open: boolean; daysAhead?: number; skip?: number }, now = Date.now()): string {
  let skip = options.skip ?? 0;
  for (let offset = options.daysAhead ?? 14; offset < 400; offset++) {
    const day = beijingDate(now + offset * DAY);
    if (calendar.isClosed(day) === !options.open) {
      if (skip === 0) return day.replace(/-/g, '');
      skip--;
    }
  }
  throw new Error('no such day within a year');
}

/** `yyyyMMddHHmmss` for a day and an HH:mm. */
export function at(day: string, time: string): string {
  return `${day}${time.replace(':', '')}00`;
}
