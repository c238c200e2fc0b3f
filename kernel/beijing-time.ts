/** Beijing time has been UTC+8 without daylight saving since 1991. */
const OFFSET_MS = 8 * 3600 * 1000;

/** A calendar day in milliseconds (China keeps no daylight saving time). */
export const DAY_MS = 24 * 3600 * 1000;

/** `yyyyMMddHHmmss` in Beijing time to epoch milliseconds. */
export function parseCompactBeijing(value: string): number {
  const y = Number(value.slice(0, 4));
  const mo = Number(value.slice(4, 6));
  const d = Number(value.slice(6, 8));
  const h = Number(value.slice(8, 10));
  const mi = Number(value.slice(10, 12));
  const s = Number(value.slice(12, 14));
  return Date.UTC(y, mo - 1, d, h, mi, s) - OFFSET_MS;
}

function pad(value: number, width = 2): string {
  return String(value).padStart(width, '0');
}

function beijingParts(epochMs: number): Date {
  return new Date(epochMs + OFFSET_MS);
}

export function formatCompactBeijing(epochMs: number): string {
  const t = beijingParts(epochMs);
  return `${t.getUTCFullYear()}${pad(t.getUTCMonth() + 1)}${pad(t.getUTCDate())}${pad(t.getUTCHours())}${pad(t.getUTCMinutes())}${pad(t.getUTCSeconds())}`;
}

/** ISO 8601 with the +08:00 offset, as the gateway writes times. */
export function formatIsoBeijing(epochMs: number): string {
  const t = beijingParts(epochMs);
  return `${t.getUTCFullYear()}-${pad(t.getUTCMonth() + 1)}-${pad(t.getUTCDate())}T${pad(t.getUTCHours())}:${pad(t.getUTCMinutes())}:${pad(t.getUTCSeconds())}+08:00`;
}

/** The Beijing calendar date `yyyy-MM-dd` of an instant. */
export function beijingDate(epochMs: number): string {
  return formatIsoBeijing(epochMs).slice(0, 10);
}
