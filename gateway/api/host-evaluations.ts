import express, { type Request, type Response, type Router } from 'express';
import { asGatewayError } from '../../kernel/errors.ts';
import type { LifecycleStatus } from '../../usecases/hosting/machine.ts';
import {
  cancelHostEvaluation,
  changeHostEvaluation,
  checkHostAction,
  getHostEvaluation,
  listHostEvaluations,
  planHostEvaluation,
  reportHostLifecycle,
  type HostEvaluationView,
} from '../../usecases/hosting/service.ts';
import { DAY_MS, beijingDate } from '../../kernel/beijing-time.ts';
import type { Runtime } from '../../usecases/runtime.ts';
import { problem } from '../problem.ts';
import { validatorFor } from '../../schemas/registry.ts';
import type { HostEvaluationListQuery } from '../../schemas/types.generated.ts';
import { listRequest, refuseListQuery, type Window } from './lists.ts';
import { API_KEY_ACTOR, auditApiAction } from './audit.ts';

/** The machine's refusals of a lifecycle report or a change, by the province's codes. */
const STATE_CODES = new Set(['STATE_CONFLICT', 'NOT_IN_FORCE']);

const TITLES: Record<number, string> = {
  400: 'Invalid host evaluation request',
  404: 'No such host evaluation',
  409: 'Host evaluation conflict',
  422: 'Host evaluation request breaks a rule',
};

const validateListQuery = validatorFor<HostEvaluationListQuery>('api/host-evaluation-list-query.json');

/** A Beijing day (yyyy-MM-dd) as a range: from its 00:00 to the next day's. */
function dayWindow(date: string): Window {
  const from = Date.parse(`${date}T00:00:00+08:00`);
  return { from, to: from + DAY_MS };
}

/** A refusal in the /api/v1 problem format, every violation listed; anything else is the error handler's. */
function answerError(res: Response, thrown: unknown): void {
  const error = asGatewayError(thrown);
  if (error.status >= 500) throw thrown;
  const code = error.violations.find((violation) => STATE_CODES.has(violation.message))?.message;
  problem(res, error.status, TITLES[error.status] ?? error.message, {
    ...(code === undefined ? {} : { code }),
    ...(error.violations.length > 0 ? { errors: error.violations } : { detail: error.message }),
  });
}

/** What the create, change and cancel answers carry: where the evaluation stands. */
function summary(view: HostEvaluationView): { id: string; state: string } {
  return { id: view.id, state: view.state };
}

/** Zhuzhou as host: evaluations with guest venues in several centers, behind X-Api-Key (gateway/api/index.ts). */
export function hostEvaluationRoutes(runtime: Runtime): Router {
  const router = express.Router();
  const base = '/api/v1/host-evaluations';

  /** Runs an action, audits it (target and outcome, never the body: it holds personal data) and answers. */
  const act = (action: string, run: (req: Request) => Promise<{ status: number; body: unknown; target: string; location?: string }>) => async (req: Request, res: Response) => {
    try {
      const done = await run(req);
      await auditApiAction(runtime, req, action, done.target, 'ok');
      if (done.location) res.location(done.location);
      res.status(done.status).json(done.body);
    } catch (thrown) {
      const error = asGatewayError(thrown);
      if (error.status < 500) await auditApiAction(runtime, req, action, req.params['id'] === undefined ? undefined : String(req.params['id']), 'failed', { code: error.code, violations: error.violations.length });
      answerError(res, thrown);
    }
  };

  router.post(
    base,
    act('host-evaluation.plan', async (req) => {
      const view = await planHostEvaluation(runtime, req.body, API_KEY_ACTOR);
      return { status: 201, body: summary(view), target: view.id, location: `${base}/${view.id}` };
    }),
  );

  /**
   * GET /api/v1/host-evaluations: earliest window first, a page at a time, by
   * the day or range the window starts in (today unless date, from or to is
   * given), state and a guest leg's partner; `date` is answered in a day's list.
   */
  router.get(base, async (req: Request, res: Response) => {
    const list = listRequest(runtime, req, 'host-evaluations', validateListQuery, {
      window: (explicit, query, now) => (query.date !== undefined ? dayWindow(query.date) : explicit.from === undefined && explicit.to === undefined ? dayWindow(beijingDate(now)) : explicit),
      violations: (query) => (query['date'] !== undefined && (query['from'] !== undefined || query['to'] !== undefined) ? [{ path: '/date', message: 'names a day: give date, or from and to, not both' }] : []),
    });
    if (!list.ok) {
      refuseListQuery(res, TITLES[400] ?? 'Invalid request', list.violations);
      return;
    }
    const { query, window, after, limit } = list.value;
    const page = await listHostEvaluations(runtime, { from: window.from, to: window.to, state: query.state, partner: query.partner, after, limit });
    // a day's list (named, today's, or followed by its cursor) answers the day
    const day = query.from === undefined && query.to === undefined && window.from !== undefined ? beijingDate(window.from) : undefined;
    res.json({ ...(day === undefined ? {} : { date: day }), ...list.value.answer(page) });
  });

  router.get(`${base}/:id`, async (req: Request, res: Response) => {
    const view = await getHostEvaluation(runtime, String(req.params['id']));
    if (!view) {
      problem(res, 404, TITLES[404] ?? 'Not found');
      return;
    }
    res.json(view);
  });

  router.post(
    `${base}/:id/change`,
    act('host-evaluation.change', async (req) => {
      const view = await changeHostEvaluation(runtime, String(req.params['id']), req.body, API_KEY_ACTOR);
      return { status: 202, body: summary(view), target: view.id };
    }),
  );

  router.delete(
    `${base}/:id`,
    act('host-evaluation.cancel', async (req) => {
      const action = checkHostAction(req.body, 'cancel');
      const view = await cancelHostEvaluation(runtime, String(req.params['id']), action.reason ?? '', API_KEY_ACTOR);
      return { status: 202, body: summary(view), target: view.id };
    }),
  );

  router.post(
    `${base}/:id/status`,
    act('host-evaluation.status', async (req) => {
      const action = checkHostAction(req.body, 'status');
      const view = await reportHostLifecycle(runtime, String(req.params['id']), action.status as LifecycleStatus, action.reason, API_KEY_ACTOR);
      return { status: 200, body: { id: view.id, lifecycle: view.lifecycle }, target: view.id };
    }),
  );

  return router;
}
