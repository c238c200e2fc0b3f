import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { hexEquals } from '../../kernel/crypto/digest.ts';
import type { Runtime } from '../../usecases/runtime.ts';
import { redact } from '../../kernel/pii.ts';
import { SEARCH_KINDS } from '../../stores/traces.ts';
import type { DeadLetterFilter } from '../../stores/dead-letters.ts';
import { pageOf, type Page, type Position } from '../../stores/keyset.ts';
import { DAY_MS } from '../../kernel/beijing-time.ts';
import { validatorFor } from '../../schemas/registry.ts';
import type { DeadLetterListQuery, MessageListQuery } from '../../schemas/types.generated.ts';
import { listRequest, refuseListQuery, within, type ListAnswer, type ListRequest, type Window } from './lists.ts';
import { replayDeadLetter } from '../../usecases/replay.ts';
import { seatRequestRoutes } from './seat-requests.ts';
import { seatCheckRoutes } from './seat-check.ts';
import { hostEvaluationRoutes } from './host-evaluations.ts';
import { operationRoutes } from './operations.ts';
import { auditApiAction } from './audit.ts';
import { problem } from '../problem.ts';

const validateDeadLetterQuery = validatorFor<DeadLetterListQuery>('api/dead-letter-list-query.json');
const validateMessageQuery = validatorFor<MessageListQuery>('api/message-list-query.json');

/** JSON API for the center's own systems and operators, behind X-Api-Key. */
export function apiRoutes(runtime: Runtime): Router {
  const router = express.Router();
  const apiKey = runtime.config.localApiKey;

  router.use('/api/v1', (req: Request, res: Response, next: NextFunction) => {
    const given = req.header('x-api-key') ?? '';
    if (apiKey === null || !hexEquals(apiKey, given)) {
      problem(res, 401, 'Missing or wrong X-Api-Key');
      return;
    }
    next();
  });

  /**
   * GET /api/v1/messages?series=... (or dataUuid, section, trackingNo, messageId, eventId, requestId):
   * the messages with that id; without one, those received in a time range
   * (the last 24 hours unless from or to is given); newest first, a page at a time.
   */
  router.get('/api/v1/messages', async (req: Request, res: Response) => {
    const list = listRequest(runtime, req, 'messages', validateMessageQuery, { window: messageWindow });
    if (!list.ok) {
      refuseListQuery(res, 'Invalid message list query', list.violations);
      return;
    }
    res.json(await listMessages(runtime, list.value));
  });

  router.get('/api/v1/messages/:trackingNo', async (req: Request, res: Response) => {
    const message = await readMessage(runtime, String(req.params['trackingNo']));
    if (!message) {
      problem(res, 404, 'No such message');
      return;
    }
    res.json(message);
  });

  router.get('/api/v1/availability/:partner', async (req: Request, res: Response) => {
    const snapshot = await runtime.availability.latest(String(req.params['partner']));
    if (snapshot === undefined) {
      problem(res, 404, 'No availability received from that partner yet');
      return;
    }
    res.json(snapshot);
  });

  router.use(seatRequestRoutes(runtime));
  router.use(seatCheckRoutes(runtime));
  router.use(hostEvaluationRoutes(runtime));
  router.use(operationRoutes(runtime));

  /** GET /api/v1/dead-letters: newest first, a page at a time, by partner, state, code, queue and time. */
  router.get('/api/v1/dead-letters', async (req: Request, res: Response) => {
    const list = listRequest(runtime, req, 'dead-letters', validateDeadLetterQuery);
    if (!list.ok) {
      refuseListQuery(res, 'Invalid dead-letter list query', list.violations);
      return;
    }
    const { query, window, after, limit } = list.value;
    const filter: DeadLetterFilter = {
      ...(query.partner === undefined ? {} : { partner: query.partner }),
      ...(query.queue === undefined ? {} : { queue: query.queue }),
      ...(query.code === undefined ? {} : { code: query.code }),
      ...(query.state === undefined ? {} : { status: query.state }),
    };
    res.json(list.value.answer(await runtime.deadLetters.page({ filter, from: window.from, to: window.to, after, limit })));
  });

  router.post('/api/v1/dead-letters/:id/replay', async (req: Request, res: Response) => {
    const id = String(req.params['id']);
    const result = await replayDeadLetter(runtime, id);
    await auditApiAction(runtime, req, 'dead-letter.replay', id, result ? 'ok' : 'failed');
    if (!result) {
      problem(res, 404, 'No such dead letter');
      return;
    }
    res.status(202).json(result);
  });

  return router;
}

/** A message as an operator sees it: metadata, the raw body with personal data masked, its trace. */
async function readMessage(runtime: Runtime, trackingNo: string) {
  const record = await runtime.messages.summary(Object.keys(runtime.adapters), trackingNo);
  const trace = await runtime.traces.read(trackingNo);
  if (!record) return trace.length > 0 ? { trackingNo, trace } : undefined;
  return {
    trackingNo,
    partner: record.partner,
    operation: record.operation,
    state: record.state,
    receivedAt: record.receivedAt,
    raw: redact(await runtime.messages.body(record.partner, trackingNo)),
    trace,
  };
}

type Message = NonNullable<Awaited<ReturnType<typeof readMessage>>>;

/** The id a message search names (the first of SEARCH_KINDS given), if any. */
function searchedId(query: MessageListQuery): { kind: (typeof SEARCH_KINDS)[number]; value: string } | undefined {
  const kind = SEARCH_KINDS.find((candidate) => query[candidate] !== undefined);
  const value = kind === undefined ? undefined : query[kind];
  return kind === undefined || value === undefined ? undefined : { kind, value };
}

/** A search by id has no default range; a listing by time is of the last 24 hours unless an end is given. */
function messageWindow(explicit: Window, query: MessageListQuery, now: number): Window {
  if (searchedId(query)) return explicit;
  const to = explicit.to ?? now + 1;
  return { from: explicit.from ?? to - DAY_MS, to };
}

/**
 * A page of messages, newest first (receipt time, then tracking number). By
 * id: the messages the search index names, each read, then filtered. By time:
 * the partners' receipt indexes over the range (MessageStore.receivedBetween,
 * as the dashboard's search), filtered by state or operation from each record
 * when asked; only the page's messages are read whole.
 */
async function listMessages(runtime: Runtime, list: ListRequest<MessageListQuery>): Promise<ListAnswer<Message>> {
  const { query, window, after, limit } = list;
  const searched = searchedId(query);
  const fits = (message: { partner?: string | null; state?: string | null; operation?: string | null }) =>
    (query.partner === undefined || message.partner === query.partner) && (query.state === undefined || message.state === query.state) && (query.operation === undefined || message.operation === query.operation);

  if (searched) {
    const trackingNos = await runtime.traces.find(searched.kind, searched.value);
    const messages = (await Promise.all(trackingNos.map((trackingNo) => readMessage(runtime, trackingNo)))).filter((message): message is Message => message !== undefined);
    const placed = messages.map((message) => ({ message, position: { at: messageTime(message), id: message.trackingNo } }));
    const page = pageOf(
      placed.filter(({ message, position }) => fits(message) && within(window, position.at)),
      ({ position }) => position,
      'newest-first',
      after,
      limit,
    );
    return list.answer({ ...page, items: page.items.map(({ message }) => message) });
  }

  const partners = query.partner === undefined ? Object.keys(runtime.adapters) : [query.partner];
  // receivedBetween takes an inclusive range; a range here ends before `to`
  const from = window.from ?? 0;
  const to = (window.to ?? Number.MAX_SAFE_INTEGER) - 1;
  const received = (await Promise.all(partners.map(async (partner) => (await runtime.messages.receivedBetween(partner, from, to, Number.MAX_SAFE_INTEGER)).map((pair) => ({ ...pair, partner }))))).flat();
  let matching = received;
  if (query.state !== undefined || query.operation !== undefined) {
    const records = await Promise.all(received.map(({ partner, trackingNo }) => runtime.messages.summary([partner], trackingNo)));
    matching = received.filter((_, n) => {
      const record = records[n];
      return record !== undefined && fits(record);
    });
  }
  const page: Page<{ trackingNo: string; at: number }> = pageOf(matching, ({ at, trackingNo }): Position => ({ at, id: trackingNo }), 'newest-first', after, limit);
  const messages = await Promise.all(page.items.map(({ trackingNo }) => readMessage(runtime, trackingNo)));
  return list.answer({ ...page, items: messages.filter((message): message is Message => message !== undefined) });
}

/** When a message was received; one known only by its trace, when its trace began. */
function messageTime(message: Message): number {
  const at = Date.parse(('receivedAt' in message ? message.receivedAt : undefined) ?? message.trace[0]?.at ?? '');
  return Number.isFinite(at) ? at : 0;
}
