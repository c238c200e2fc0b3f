import express, { type Request, type Response, type Router } from 'express';
import { matches, type DeadLetterFilter } from '../../stores/dead-letters.ts';
import { raiseException } from '../../usecases/exceptions.ts';
import { replayDeadLetter } from '../../usecases/replay.ts';
import { requestReconciliation } from '../../usecases/reconciliation.ts';
import { cancelHostEvaluation, changeHostEvaluation, checkHostAction, planHostEvaluation, reportHostLifecycle, type HostEvaluationView } from '../../usecases/hosting/service.ts';
import { validatorFor } from '../../schemas/registry.ts';
import type { ExceptionInput } from '../../schemas/types.generated.ts';
import type { Runtime } from '../../usecases/runtime.ts';
import type { OpsAuth } from './auth.ts';
import { problem } from '../problem.ts';
import { hostPageView, hostProblem, hostRefusal } from './views/hosting.ts';

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

  // host evaluations (主场评标): the use case checks the input and the state; the audit names ids, centers and codes, never the agent's contact or phone
  type HostDone = { view: HostEvaluationView; detail: Record<string, unknown> };
  const hostAction = (action: string, status: number, run: (req: Request, id: string, actor: string) => Promise<HostDone>) => async (req: Request, res: Response) => {
    const id = String(req.params['id'] ?? '').slice(0, 64);
    let done: HostDone;
    try {
      done = await run(req, id, req.session.operator?.username ?? 'operator');
    } catch (thrown) {
      const error = hostRefusal(thrown);
      await auth.auditAction(req, action, id || undefined, 'failed', { code: error.code, violations: error.violations.length });
      hostProblem(res, error);
      return;
    }
    await auth.auditAction(req, action, done.view.id, 'ok', done.detail);
    res.status(status).json(hostPageView(done.view));
  };
  /** what the audit keeps of a plan: the section, the guests and the window */
  const planned = (body: unknown) => {
    const source = (typeof body === 'object' && body !== null ? body : {}) as { sectionCode?: unknown; guests?: unknown; start?: unknown; end?: unknown; reason?: unknown };
    const guests = Array.isArray(source.guests) ? (source.guests as { center?: unknown; seats?: unknown }[]).map((guest) => `${String(guest.center)}:${String(guest.seats)}`).join(',') : undefined;
    return { section: source.sectionCode, guests, start: source.start, end: source.end, ...(source.reason === undefined ? {} : { reason: source.reason }) };
  };

  router.post(
    '/ops/api/host-evaluations',
    json,
    operator,
    hostAction('host-evaluation.plan', 201, async (req, _id, actor) => ({ view: await planHostEvaluation(runtime, req.body, actor), detail: planned(req.body) })),
  );

  router.post(
    '/ops/api/host-evaluations/:id/change',
    json,
    operator,
    hostAction('host-evaluation.change', 202, async (req, id, actor) => ({ view: await changeHostEvaluation(runtime, id, req.body, actor), detail: planned(req.body) })),
  );

  router.post(
    '/ops/api/host-evaluations/:id/cancel',
    json,
    operator,
    hostAction('host-evaluation.cancel', 202, async (req, id, actor) => {
      const reason = checkHostAction(req.body, 'cancel').reason ?? '';
      return { view: await cancelHostEvaluation(runtime, id, reason, actor), detail: { reason } };
    }),
  );

  // 开始 / 暂停（需原因）/ 恢复 / 结束 / 归档
  router.post(
    '/ops/api/host-evaluations/:id/status',
    json,
    operator,
    hostAction('host-evaluation.status', 202, async (req, id, actor) => {
      const { status = 'started', reason } = checkHostAction(req.body, 'status');
      return { view: await reportHostLifecycle(runtime, id, status, reason, actor), detail: { status, ...(reason === undefined ? {} : { reason }) } };
    }),
  );

  router.get('/ops/api/audit', auth.requireRole('admin'), async (_req: Request, res: Response) => {
    res.json({ items: await auth.audit.recent(500) });
  });

  return router;
}
