import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { hexEquals } from '../../kernel/crypto/digest.ts';
import type { Runtime } from '../../usecases/runtime.ts';
import { redact } from '../../kernel/pii.ts';
import { SEARCH_KINDS } from '../../stores/traces.ts';
import { replayDeadLetter } from '../../usecases/replay.ts';
import { seatRequestRoutes } from './seat-requests.ts';
import { seatCheckRoutes } from './seat-check.ts';
import { hostEvaluationRoutes } from './host-evaluations.ts';
import { operationRoutes } from './operations.ts';
import { auditApiAction } from './audit.ts';
import { problem } from '../problem.ts';


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

  /** GET /api/v1/messages?series=... (or dataUuid, section, trackingNo, messageId) */
  router.get('/api/v1/messages', async (req: Request, res: Response) => {
    const query = req.query as Record<string, unknown>;
    const kind = SEARCH_KINDS.find((candidate) => typeof query[candidate] === 'string');
    if (!kind) {
      problem(res, 400, 'Name one id to search by', { detail: `one of ${SEARCH_KINDS.join(', ')}` });
      return;
    }
    const trackingNos = await runtime.traces.find(kind, query[kind] as string);
    const messages = await Promise.all(trackingNos.map((trackingNo) => readMessage(runtime, trackingNo)));
    res.json({ items: messages.filter((message) => message !== undefined) });
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

  router.get('/api/v1/dead-letters', async (_req: Request, res: Response) => {
    res.json({ items: await runtime.deadLetters.list(500) });
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
