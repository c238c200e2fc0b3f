/** `yyyyMMddHHmmss` in Beijing time, with a real calendar date and clock time. */
export function isValidBeijingTimestamp(value: string): boolean {
  const match = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})$/.exec(value);
  if (!match) return false;
  const [, y, mo, d, h, mi, s] = match.map(Number) as [number, number, number, number, number, number, number];
  if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || s > 59) return false;
  const daysInMonth = new Date(Date.UTC(y, mo, 0)).getUTCDate();
  return d <= daysInMonth;
}

const OFFSET_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

/** ISO 8601 / RFC 3339 date-time with `Z` or a `±HH:MM` offset, that Date.parse can read. */
export function isValidOffsetDateTime(value: string): boolean {
  return value.length <= 40 && OFFSET_DATE_TIME.test(value) && Number.isFinite(Date.parse(value));
}
