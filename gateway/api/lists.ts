import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { Request, Response } from 'express';
import { isPartnerId } from '../../adapters/registry.ts';
import type { Violation, ValidationResult } from '../../schemas/registry.ts';
import type { Page, Position } from '../../stores/keyset.ts';
import type { Runtime } from '../../usecases/runtime.ts';
import { problem } from '../problem.ts';

/**
 * What every list of /api/v1 shares (dead letters, messages, reconciliations,
 * seat requests, host evaluations): its query checked by its JSON Schema, a
 * page of `limit` items after an opaque cursor, and one answer shape,
 * `{items, total, next}`: `total` is how many items match the filters on every
 * page, `next` the cursor of the following page or null on the last.
 *
 * A cursor names the place of the page's last item (its time and id, see
 * stores/keyset.ts), the query it belongs to (a digest of its filters) and
 * the time range the first page resolved (so that a default range such as
 * "the last 24 hours" does not slide under a walk); it is signed (HMAC-SHA256
 * under the API key), so a cursor changed by hand, or shown with other
 * filters or to another list, is refused (400), never followed.
 */

export const DEFAULT_LIMIT = 100;

export interface ListAnswer<T> {
  items: T[];
  total: number;
  next: string | null;
}

/** The parameters every list takes beside its own filters. */
interface ListParameters {
  limit?: number;
  cursor?: string;
  from?: string;
  to?: string;
  partner?: string;
}

/** A time range in epoch ms: `from <= t < to`, either end open when undefined. */
export interface Window {
  from?: number | undefined;
  to?: number | undefined;
}

export interface ListRequest<Q> {
  query: Q;
  limit: number;
  window: Window;
  /** the place after which the page starts (from a cursor) */
  after: Position | undefined;
  /** The answer of a page: its items, the total, and the cursor of the next page. */
  answer<T>(page: Page<T>): ListAnswer<T>;
}

export interface ListOptions<Q> {
  /** the range to list when the query names none (or names one end): from the explicit ends, the query and the time now */
  window?: (explicit: Window, query: Q, now: number) => Window;
  /** the list's own rules beyond the schema (every violation is listed with the schema's) */
  violations?: (query: Record<string, unknown>) => Violation[];
}

interface CursorContent {
  /** digest of the query's filters */
  q: string;
  /** the time range of the walk */
  w: [number | null, number | null];
  /** the place of the last item shown */
  a: number;
  i: string;
}

/** Numbers in the query string, read as numbers (else left as text, for the schema to name). */
const NUMERIC = new Set(['limit']);

/** The query string as the schema sees it: a repeated parameter stays a list (and is named). */
function candidateOf(query: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(query).map(([name, value]) => [name, NUMERIC.has(name) && typeof value === 'string' && /^\d{1,6}$/.test(value) ? Number(value) : value]));
}

const base64url = (bytes: Buffer | string) => Buffer.from(bytes).toString('base64url');

/** What a cursor is bound to: the filters given, not the page size or the cursor. */
function digestOf(candidate: Record<string, unknown>): string {
  const filters = Object.entries(candidate)
    .filter(([name]) => name !== 'cursor' && name !== 'limit')
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return base64url(createHash('sha256').update(JSON.stringify(filters)).digest().subarray(0, 18));
}

function signature(runtime: Runtime, list: string, body: string): Buffer {
  return createHmac('sha256', `list-cursor:${runtime.config.localApiKey ?? ''}`).update(`${list}\n${body}`).digest();
}

function encodeCursor(runtime: Runtime, list: string, content: CursorContent): string {
  const body = base64url(JSON.stringify(content));
  return `${body}.${base64url(signature(runtime, list, body))}`;
}

/** The cursor's content when it is one this gateway made for this list; undefined otherwise. */
function decodeCursor(runtime: Runtime, list: string, cursor: string): CursorContent | undefined {
  const [body, mac, ...rest] = cursor.split('.');
  if (body === undefined || mac === undefined || rest.length > 0) return undefined;
  const expected = signature(runtime, list, body);
  const given = Buffer.from(mac, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
  try {
    const content = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as Partial<CursorContent>;
    const end = (value: unknown) => value === null || (typeof value === 'number' && Number.isFinite(value));
    if (typeof content.q !== 'string' || !Array.isArray(content.w) || content.w.length !== 2 || !content.w.every(end)) return undefined;
    if (typeof content.a !== 'number' || !Number.isFinite(content.a) || typeof content.i !== 'string') return undefined;
    return content as CursorContent;
  } catch {
    return undefined;
  }
}

function instantOf(value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined;
  const ms = Date.parse(value);
  return Number.isFinite(ms) ? ms : undefined;
}

/**
 * A list's query read and checked: by its schema, then the partner (one of
 * the gateway's), the range (`from` before `to`), the cursor (this list's, for
 * these filters, untouched) and the list's own rules, every violation listed.
 */
export function listRequest<Q extends ListParameters>(
  runtime: Runtime,
  req: Request,
  list: string,
  validate: (input: unknown) => ValidationResult<Q>,
  options: ListOptions<Q> = {},
): { ok: true; value: ListRequest<Q> } | { ok: false; violations: Violation[] } {
  const candidate = candidateOf(req.query);
  const checked = validate(candidate);
  const violations: Violation[] = checked.ok ? [] : [...checked.violations];

  const { partner, cursor } = candidate;
  if (typeof partner === 'string' && /^[a-z][a-z0-9-]{0,39}$/.test(partner) && !isPartnerId(runtime.adapters, partner)) {
    violations.push({ path: '/partner', message: `is not a partner of this gateway (${Object.keys(runtime.adapters).join(', ')})` });
  }
  const explicit: Window = { from: instantOf(candidate['from']), to: instantOf(candidate['to']) };
  if (explicit.from !== undefined && explicit.to !== undefined && explicit.from >= explicit.to) violations.push({ path: '/to', message: 'must be after from' });
  const digest = digestOf(candidate);
  let content: CursorContent | undefined;
  if (typeof cursor === 'string') {
    content = decodeCursor(runtime, list, cursor);
    if (content === undefined) violations.push({ path: '/cursor', message: 'is not a cursor of this list: pass the `next` of the previous page as it was given' });
    else if (content.q !== digest) violations.push({ path: '/cursor', message: 'belongs to other filters: keep the filters of the first page while following its cursors' });
  }
  violations.push(...(options.violations?.(candidate) ?? []));
  if (!checked.ok || violations.length > 0) return { ok: false, violations };

  const query = checked.value;
  const window: Window = content ? { from: content.w[0] ?? undefined, to: content.w[1] ?? undefined } : (options.window?.(explicit, query, runtime.clock.now()) ?? explicit);
  const w: [number | null, number | null] = [window.from ?? null, window.to ?? null];
  return {
    ok: true,
    value: {
      query,
      limit: query.limit ?? DEFAULT_LIMIT,
      window,
      after: content ? { at: content.a, id: content.i } : undefined,
      answer: <T>(page: Page<T>): ListAnswer<T> => ({
        items: page.items,
        total: page.total,
        next: page.next ? encodeCursor(runtime, list, { q: digest, w, a: page.next.at, i: page.next.id }) : null,
      }),
    },
  };
}

/** A list's query refused: 400 in the /api/v1 problem format, every violation listed. */
export function refuseListQuery(res: Response, title: string, violations: readonly Violation[]): void {
  problem(res, 400, title, { errors: violations });
}

/** Whether `at` lies in the range. */
export function within(window: Window, at: number): boolean {
  return (window.from === undefined || at >= window.from) && (window.to === undefined || at < window.to);
}
