import express, { type RequestHandler, type Router } from 'express';
import { isPartnerId } from '../../../adapters/registry.ts';
import { DAY_MS, beijingDate } from '../../../kernel/beijing-time.ts';
import { HOST_PARTNER } from '../../../ledger/index.ts';
import type { Runtime } from '../../../usecases/runtime.ts';
import { problem } from '../../problem.ts';
import { LIMITS, integer, iso, json, text } from './shared.ts';

/** The room board (#/rooms): every room and hall seat over one day or a week, with the bookings and holds of the ledger. */

const DATE = /^\d{4}-\d{2}-\d{2}$/;

function dayStart(date: string): number {
  return Date.parse(`${date}T00:00:00+08:00`);
}

/** Resources of the board: a single-project room is one row, a hall one row per seat. */
export function boardRows(runtime: Runtime) {
  return runtime.config.ledger.rooms.map((room) => ({
    id: room.id,
    kind: room.kind,
    seats: room.seats,
    address: room.address,
    resources: room.kind === 'room' ? [room.id] : Array.from({ length: room.seats }, (_, n) => `${room.id}-${String(n + 1).padStart(2, '0')}`),
  }));
}

async function roomBoard(runtime: Runtime, from: string, days: number) {
  const start = dayStart(from);
  const end = start + days * DAY_MS;
  const dates = Array.from({ length: days }, (_, n) => beijingDate(start + n * DAY_MS + 12 * 3600 * 1000));
  const inWindow = (await runtime.ledger.bookings({ from: start, to: end })).sort((a, b) => a.start - b.start || a.resource.localeCompare(b.resource));
  const capped = inWindow.length > LIMITS.roomBoardItems;
  const bookings = inWindow.slice(0, LIMITS.roomBoardItems);

  // one read of the ledger per request (a hall request covers several seats)
  const owners = [...new Set(bookings.map((booking) => booking.owner))];
  const requests = await runtime.ledger.requestStates(owners);
  // the ids of the message that made each decision (no personal data: codes and numbers)
  const ids = new Map<string, Record<string, string>>();
  await Promise.all(
    owners.map(async (owner) => {
      const partner = owner.slice(0, owner.indexOf(':'));
      const trackingNo = requests.get(owner)?.trackingNo;
      if (!trackingNo || !isPartnerId(runtime.adapters, partner)) return;
      ids.set(owner, await runtime.messages.searchIds(partner, trackingNo));
    }),
  );

  const now = runtime.clock.now();
  return {
    from,
    days,
    generatedAt: new Date(now).toISOString(),
    openingHours: runtime.config.ledger.openingHours,
    bufferMinutes: runtime.config.ledger.bufferMinutes,
    rooms: boardRows(runtime),
    dates: dates.map((date) => ({
      date,
      weekday: new Date(`${date}T12:00:00+08:00`).getUTCDay(),
      closed: runtime.calendar.isClosed(date),
      // no State Council notice for that year yet: Monday to Friday is assumed
      provisional: !runtime.calendar.isPublished(Number(date.slice(0, 4))),
    })),
    bookings: bookings.map((booking) => {
      const colon = booking.owner.indexOf(':');
      const request = requests.get(booking.owner);
      const state = request?.state ?? 'unknown';
      const holdUntil = request?.holdUntil;
      return {
        resource: booking.resource,
        owner: booking.owner,
        partner: booking.owner.slice(0, colon),
        requestId: booking.owner.slice(colon + 1),
        // Zhuzhou's own host room (owner host:<evaluation> or host:<evaluation>:C<n> for a change): the evaluation it serves
        hostEvaluationId: booking.owner.slice(0, colon) === HOST_PARTNER ? (booking.owner.slice(colon + 1).split(':')[0] ?? null) : null,
        start: new Date(booking.start).toISOString(),
        end: new Date(booking.end).toISOString(),
        kind: state === 'held' ? 'hold' : 'booking',
        state,
        holdUntil: state === 'held' ? iso(holdUntil) : null,
        holdExpired: state === 'held' && holdUntil !== undefined && holdUntil <= now,
        seats: request?.seats ?? null,
        roomId: request?.roomId ?? null,
        trackingNo: request?.trackingNo ?? null,
        ids: ids.get(booking.owner) ?? {},
        // the host's evaluation (Zhuzhou as guest), and the end as booked when its end freed the room earlier
        lifecycle: request?.lifecycle ? { status: request.lifecycle.status, at: new Date(request.lifecycle.at).toISOString() } : null,
        bookedEnd: iso(request?.bookedEnd),
      };
    }),
    capped,
  };
}

/** GET /ops/api/rooms */
export function roomRoutes(runtime: Runtime, viewer: RequestHandler): Router {
  const router = express.Router();

  router.get(
    '/ops/api/rooms',
    viewer,
    json(async (req, res) => {
      const from = text(req, 'from', 10) ?? beijingDate(runtime.clock.now());
      if (!DATE.test(from) || !Number.isFinite(dayStart(from))) {
        problem(res, 400, '日期格式应为 yyyy-MM-dd / from: a date yyyy-MM-dd');
        return;
      }
      res.json(await roomBoard(runtime, from, integer(req, 'days', 1, 1, LIMITS.roomBoardDays)));
    }),
  );

  return router;
}
