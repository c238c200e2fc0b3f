import type { PartnerId } from '../../adapters/types.ts';
import { GatewayError } from '../../kernel/errors.ts';
import type { Availability, SeatCheckApiQuery } from '../../schemas/types.generated.ts';
import type { Runtime } from '../runtime.ts';
import { validatorFor, type ValidationResult } from '../../schemas/registry.ts';

const validateQuery = validatorFor<SeatCheckApiQuery>('api/seat-check-query.json');

/** A query parameter as given once; repeated or absent ones are left for the schema to name. */
function single(value: unknown): unknown {
  return typeof value === 'string' ? value : undefined;
}

/** The query string of a seat check (`center`, `start`, `end`, `seats`), checked by schema, every violation listed. */
export function seatCheckQueryOf(query: Record<string, unknown>): ValidationResult<SeatCheckApiQuery> {
  const seats = single(query['seats']);
  const candidate = Object.fromEntries(
    Object.entries({
      center: single(query['center']),
      start: single(query['start']),
      end: single(query['end']),
      // a number when it reads as one, else the text, so that the schema names it
      seats: typeof seats === 'string' && /^\d{1,3}$/.test(seats) ? Number(seats) : seats,
    }).filter(([, value]) => value !== undefined),
  );
  return validateQuery(candidate);
}

export interface SeatCheckRoomView {
  name: string;
  freeSeats: number;
  meets: boolean;
}

/** What a guest center has free over a window, as far as Zhuzhou can tell: advisory, nothing is held. */
export type SeatCheckView =
  | { center: string; partner: PartnerId; source: 'seat-check'; centerName: string; meets: boolean; rooms: SeatCheckRoomView[] }
  | { center: string; partner: PartnerId; source: 'availability'; receivedAt: string | null; meets: boolean; rooms: SeatCheckRoomView[] };

/**
 * Asks the partner that serves `center` (HOST_ROUTES): a province center by the
 * province's `seat-check`, sent now; Changsha from the availability it last
 * published (Changsha has no seat-check), a room meeting the request when one
 * of its free windows covers the whole window with enough seats.
 */
export async function checkSeats(runtime: Runtime, query: SeatCheckApiQuery): Promise<SeatCheckView> {
  if (query.center === runtime.config.center.areaCode) throw new GatewayError('SEMANTIC_INVALID', undefined, { violations: [{ path: '/center', message: 'the host itself is not a guest center' }] });
  const partner = runtime.hostRoutes.partnerFor(query.center);
  const adapter = runtime.adapters[partner];
  if (adapter.hostApplications) {
    // a fresh id each time: a resend of the same DATAUUID would get the first (stale) answer again
    const checked = await adapter.hostApplications.seatCheck(query, adapter.messageIdFor(`seat-check:${query.center}:${query.start}:${query.end}:${query.seats}:${runtime.clock.now()}`));
    if (!checked.ok) throw checked.error;
    const outcome = checked.value;
    if (outcome.kind !== 'checked') throw new GatewayError(outcome.kind === 'refused' ? 'DELIVERY_REFUSED' : 'DELIVERY_RETRYABLE', `${partner} seat-check: ${outcome.kind === 'refused' ? outcome.reason : outcome.kind}`);
    return { center: query.center, partner, source: 'seat-check', centerName: outcome.result.centerName, meets: outcome.result.meets, rooms: outcome.result.rooms };
  }
  const latest = (await runtime.availability.latest(partner)) as (Availability & { storedAt?: string }) | undefined;
  const start = Date.parse(query.start);
  const end = Date.parse(query.end);
  const rooms = (latest?.rooms ?? []).map((room) => {
    const covers = room.free.some((window) => Date.parse(window.start) <= start && Date.parse(window.end) >= end);
    return { name: room.roomId, freeSeats: covers ? room.seats : 0, meets: covers && room.seats >= query.seats };
  });
  return { center: query.center, partner, source: 'availability', receivedAt: latest?.receivedAt ?? null, meets: rooms.some((room) => room.meets), rooms };
}
