import express, { type Request, type Response, type Router } from 'express';
import { matches, type DeadLetterFilter } from '../../stores/dead-letters.ts';
import { raiseException } from '../../usecases/exceptions.ts';
import { replayDeadLetter } from '../../usecases/replay.ts';
import { requestReconciliation } from '../../usecases/reconciliation.ts';
import { validatorFor } from '../../schemas/registry.ts';
import type { ExceptionInput } from '../../schemas/types.generated.ts';
import type { Runtime } from '../../usecases/runtime.ts';
import type { OpsAuth } from './auth.ts';
import { problem } from '../problem.ts';

const validateException = validatorFor<ExceptionInput>('api/exception.json');


function filterOf(body: unknown): DeadLetterFilter {
  const source = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  const text = (name: string) => (typeof source[name] === 'string' && source[name] !== '' ? (source[name]) : undefined);
  const status = text('status');
  return {
    ...(text('partner') ? { partner: text('partner') } : {}),
    ...(text('queue') ? { queue: text('queue') } : {}),
    ...(text('reason') ? { reason: text('reason') } : {}),
    ...(status === 'pending' || status === 'replayed' || status === 'discarded' ? { status } : {}),
  };
}

/** What operators do from the dashboard; each action needs its role, a CSRF token, and is audited. */
export function opsActionRoutes(runtime: Runtime, auth: OpsAuth): Router {
  const router = express.Router();
  const json = express.json({ limit: '16kb' });
  const operator = auth.requireRole('operator');

  router.post('/ops/api/dead-letters/:id/replay', json, operator, async (req: Request, res: Response) => {
    const id = String(req.params['id']);
    const result = await replayDeadLetter(runtime, id);
    await auth.auditAction(req, 'dead-letter.replay', id, result ? 'ok' : 'failed');
    if (!result) problem(res, 404, '未找到死信 / No such dead letter');
    else res.status(202).json(result);
  });

  router.post('/ops/api/dead-letters/replay', json, operator, async (req: Request, res: Response) => {
    // "all that match": pending letters only, never one already replayed or discarded
    const filter: DeadLetterFilter = { ...filterOf(req.body), status: 'pending' };
    const letters = (await runtime.deadLetters.list(10_000)).filter((letter) => matches(letter, filter));
    const replayed = [];
    for (const letter of letters) replayed.push(await replayDeadLetter(runtime, letter.id));
    await auth.auditAction(req, 'dead-letter.replay-matching', JSON.stringify(filter), 'ok', { count: replayed.length });
    res.status(202).json({ replayed: replayed.length });
  });

  router.post('/ops/api/dead-letters/:id/discard', json, operator, async (req: Request, res: Response) => {
    const id = String(req.params['id']);
    const reason = typeof (req.body as { reason?: unknown } | undefined)?.reason === 'string' ? (req.body as { reason: string }).reason.trim() : '';
    if (reason.length < 2 || reason.length > 500) {
      problem(res, 400, '请填写丢弃原因 / A reason (2-500 characters) is required');
      return;
    }
    const letter = await runtime.deadLetters.discard(id, req.session.operator?.username ?? 'unknown', reason);
    await auth.auditAction(req, 'dead-letter.discard', id, letter ? 'ok' : 'failed', { reason });
    if (!letter) problem(res, 404, '未找到死信 / No such dead letter');
    else res.json(letter);
  });

  router.post('/ops/api/reconciliations', json, operator, async (req: Request, res: Response) => {
    const runId = await requestReconciliation(runtime, `on demand by ${req.session.operator?.username ?? 'operator'}`);
    await auth.auditAction(req, 'reconciliation.run', runId, 'ok');
    res.status(202).json({ runId });
  });

  router.post('/ops/api/exceptions', json, operator, async (req: Request, res: Response) => {
    const checked = validateException(req.body);
    if (!checked.ok) {
      await auth.auditAction(req, 'exception.raise', undefined, 'failed', { violations: checked.violations.length });
      problem(res, 400, '异常信息不完整 / Invalid exception', { errors: checked.violations });
      return;
    }
    const result = await raiseException(runtime, checked.value, req.session.operator?.username ?? 'operator');
    await auth.auditAction(req, 'exception.raise', checked.value.seriesNumber, result.ok ? 'ok' : 'failed', { type: checked.value.type });
    if (!result.ok) problem(res, result.status, result.title);
    else res.status(202).json(result);
  });

  router.get('/ops/api/audit', auth.requireRole('admin'), async (_req: Request, res: Response) => {
    res.json({ items: await auth.audit.recent(500) });
  });

  return router;
}
