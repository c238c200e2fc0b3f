import chineseDays from 'chinese-days';

// chinese-days ships CommonJS: named exports are only on its default object.
const { getHolidaysInRange, isWorkday } = chineseDays;

/**
 * The center's working days: Monday to Friday, minus statutory holidays, plus
 * the official make-up workdays, from the State Council notices that the
 * chinese-days package carries; plus the configured closed dates.
 */
export class WorkCalendar {
  readonly #closedDates: ReadonlySet<string>;
  readonly #publishedYears = new Map<number, boolean>();

  constructor(closedDates: readonly string[]) {
    this.#closedDates = new Set(closedDates);
  }

  /** Whether the State Council's notice for that year is in the calendar data. */
  isPublished(year: number): boolean {
    let published = this.#publishedYears.get(year);
    if (published === undefined) {
      // Every published year names at least one statutory holiday on a weekday.
      published = getHolidaysInRange(`${year}-01-01`, `${year}-12-31`, false).length > 0;
      this.#publishedYears.set(year, published);
    }
    return published;
  }

  /** `date` is `yyyy-MM-dd` in Beijing time. */
  isClosed(date: string): boolean {
    if (this.#closedDates.has(date)) return true;
    const year = Number(date.slice(0, 4));
    if (this.isPublished(year)) return !isWorkday(date);
    // No notice for that year yet: Monday to Friday minus 1 January (flagged to operators by the caller).
    const weekday = new Date(`${date}T00:00:00Z`).getUTCDay();
    return weekday === 0 || weekday === 6 || date.endsWith('-01-01');
  }
}
