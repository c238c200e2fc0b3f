import express, { type RequestHandler, type Router } from 'express';
import { isPartnerId } from '../../../adapters/registry.ts';
import type { DeadLetter } from '../../../stores/dead-letters.ts';
import { DAY_MS } from '../../../kernel/beijing-time.ts';
import { redact } from '../../../kernel/pii.ts';
import type { Runtime } from '../../../usecases/runtime.ts';
import { SEARCH_KINDS, type SearchKind, type TraceEntry } from '../../../stores/traces.ts';
import { problem } from '../../problem.ts';
import { letterSummary, messageSummary, type RecordSummary } from './summaries.ts';
import { LIMITS, instant, integer, iso, json, text } from './shared.ts';

/** Messages (#/messages): found by id or by time, and one message with its trace, ledger decision and dead letters. */

async function searchById(runtime: Runtime, value: string, kinds: readonly SearchKind[]): Promise<string[]> {
  const found = await Promise.all(kinds.map((kind) => runtime.traces.find(kind, value)));
  return [...new Set(found.flat())];
}

async function searchByTime(runtime: Runtime, partners: readonly string[], from: number, to: number, limit: number): Promise<string[]> {
  const lists = await Promise.all(partners.map((partner) => runtime.messages.receivedBetween(partner, from, to, limit)));
  return lists
    .flat()
    .sort((a, b) => b.at - a.at || b.trackingNo.localeCompare(a.trackingNo))
    .slice(0, limit)
    .map((pair) => pair.trackingNo);
}

/**
 * A message as an operator sees it: its record, the raw body with personal
 * data masked (as GET /api/v1/messages), the trace, the ledger's decision on
 * its request, its dead letters, and what may be done about it.
 */
async function messageDetail(runtime: Runtime, trackingNo: string) {
  const record = await runtime.messages.summary(Object.keys(runtime.adapters), trackingNo);
  const traceAll = await runtime.traces.read(trackingNo);
  const seatRequest = record ? undefined : await runtime.seatRequests.get(trackingNo);
  if (!record && traceAll.length === 0 && !seatRequest) return undefined;

  const raw = record ? redact((await runtime.messages.body(record.partner, trackingNo)) ?? '[unreadable]') : null;

  let ledger = null;
  if (record?.partner && record.requestId) {
    const [decision, window] = await Promise.all([runtime.ledger.lookup(record.partner, record.requestId), runtime.ledger.describe(record.partner, record.requestId)]);
    if (decision || window) {
      ledger = {
        requestId: record.requestId,
        state: window?.state ?? decision?.state ?? null,
        start: iso(window?.start),
        end: iso(window?.end),
        seats: window?.seats ?? null,
        roomId: decision?.roomId || window?.roomId || null,
        seatIds: decision?.seatIds ?? [],
        outcome: decision?.outcome ?? null,
        reason: decision?.reason ?? null,
        kind: decision?.kind ?? null,
        decidedAt: decision?.decidedAt ?? null,
        holdUntil: iso(decision?.holdUntil),
        decidedBy: decision?.trackingNo ?? null,
      };
    }
  }

  // the trace names every dead letter the message went to
  const letterIds = [...new Set(traceAll.map((entry) => entry['deadLetter']).filter((id): id is string => typeof id === 'string'))];
  const letters = await Promise.all(letterIds.map((id) => runtime.deadLetters.get(id)));
  const deadLetters = letters.filter((letter): letter is DeadLetter => letter !== undefined).map(letterSummary);
  const trace = traceAll.slice(-LIMITS.traceEntries).map((entry) => redact(entry) as TraceEntry);
  const seriesNumber = record?.partner === 'province' && record.requestId && /^(SQ|BG)\d{20}$/.test(record.requestId) ? record.requestId : null;
  return {
    trackingNo,
    partner: record?.partner ?? seatRequest?.partner ?? null,
    operation: record?.operation ?? (seatRequest ? 'seat-request' : null),
    state: record?.state ?? seatRequest?.state ?? null,
    receivedAt: record?.receivedAt ?? seatRequest?.createdAt ?? null,
    requestId: record?.requestId ?? seatRequest?.requestId ?? null,
    ids: record?.ids ?? {},
    raw: raw ?? (seatRequest ? redact(seatRequest) : null),
    trace,
    traceTotal: traceAll.length,
    ledger,
    deadLetters,
    // an exception goes to the province about a booked request of its own
    exception: { possible: seriesNumber !== null && ledger?.state === 'in-force', seriesNumber },
  };
}

/** GET /ops/api/messages, /ops/api/messages/:trackingNo */
export function messageRoutes(runtime: Runtime, viewer: RequestHandler): Router {
  const router = express.Router();
  const partners = () => Object.keys(runtime.adapters);

  router.get(
    '/ops/api/messages',
    viewer,
    json(async (req, res) => {
      const limit = integer(req, 'limit', 50, 1, LIMITS.messages);
      const q = text(req, 'q', 128);
      const kindParam = text(req, 'kind', 20);
      const kind = SEARCH_KINDS.find((candidate) => candidate === kindParam);
      const partner = text(req, 'partner', 40);
      if (partner !== undefined && !isPartnerId(runtime.adapters, partner)) {
        problem(res, 400, '未知的合作方 / partner: unknown');
        return;
      }
      let trackingNos: string[];
      if (q !== undefined) {
        trackingNos = await searchById(runtime, q, kind ? [kind] : SEARCH_KINDS);
      } else {
        const to = instant(req, 'to') ?? runtime.clock.now();
        const from = instant(req, 'from') ?? to - DAY_MS;
        if (from > to) {
          problem(res, 400, '起始时间不能晚于结束时间 / from must not be after to');
          return;
        }
        trackingNos = await searchByTime(runtime, partner ? [partner] : partners(), from, to, limit);
      }
      const total = trackingNos.length;
      const summaries = await Promise.all(trackingNos.slice(0, limit).map((trackingNo) => messageSummary(runtime, trackingNo)));
      const items = summaries.filter((item): item is RecordSummary => item !== undefined && (partner === undefined || item.partner === partner));
      items.sort((a, b) => (b.receivedAt ?? '').localeCompare(a.receivedAt ?? ''));
      res.json({ items, total, capped: total > limit });
    }),
  );

  router.get(
    '/ops/api/messages/:trackingNo',
    viewer,
    json(async (req, res) => {
      const trackingNo = String(req.params['trackingNo']).slice(0, 128);
      const message = await messageDetail(runtime, trackingNo);
      if (!message) {
        problem(res, 404, '未找到消息 / No such message');
        return;
      }
      res.json(message);
    }),
  );

  return router;
}
