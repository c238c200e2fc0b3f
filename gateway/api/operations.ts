import express, { type Request, type Response, type Router } from 'express';
import { raiseException } from '../../usecases/exceptions.ts';
import { requestReconciliation } from '../../usecases/reconciliation.ts';
import { validatorFor } from '../../schemas/registry.ts';
import type { ExceptionInput, ReconciliationListQuery } from '../../schemas/types.generated.ts';
import type { ReconciliationRun } from '../../stores/reconciliation-runs.ts';
import { pageOf } from '../../stores/keyset.ts';
import type { Runtime } from '../../usecases/runtime.ts';
import { problem } from '../problem.ts';
import { API_KEY_ACTOR, auditApiAction } from './audit.ts';
import { listRequest, refuseListQuery, within } from './lists.ts';

const validateException = validatorFor<ExceptionInput>('api/exception.json');
const validateReconciliationQuery = validatorFor<ReconciliationListQuery>('api/reconciliation-list-query.json');

/** Runs read to list them: more than the store keeps (100), so every kept run. */
const RUNS_READ = 1000;

/** What a run came to: errors met; else findings (missed, different or extra); else clean. */
function runState(run: ReconciliationRun): ReconciliationListQuery['state'] {
  if (run.errors.length > 0) return 'errors';
  return run.missed.length + run.different.length + run.extra.length > 0 ? 'findings' : 'clean';
}


/** Operator actions behind X-Api-Key: reconciliations on demand, exceptions to the province. */
export function operationRoutes(runtime: Runtime): Router {
  const router = express.Router();

  router.post('/api/v1/reconciliations', async (req: Request, res: Response) => {
    const runId = await requestReconciliation(runtime, 'on demand (API)');
    await auditApiAction(runtime, req, 'reconciliation.run', runId, 'ok');
    res.status(202).json({ runId });
  });

  /** GET /api/v1/reconciliations: the runs kept (the last 100), newest first, a page at a time, by partner, state and time. */
  router.get('/api/v1/reconciliations', async (req: Request, res: Response) => {
    const list = listRequest(runtime, req, 'reconciliations', validateReconciliationQuery);
    if (!list.ok) {
      refuseListQuery(res, 'Invalid reconciliation list query', list.violations);
      return;
    }
    const { query, window, after, limit } = list.value;
    const placed = (await runtime.reconciliations.recent(RUNS_READ)).map((run) => ({ run, position: { at: Date.parse(run.startedAt), id: `${run.runId}/${run.partner}` } }));
    const matching = placed.filter(
      ({ run, position }) => (query.partner === undefined || run.partner === query.partner) && (query.state === undefined || runState(run) === query.state) && within(window, position.at),
    );
    const page = pageOf(matching, ({ position }) => position, 'newest-first', after, limit);
    res.json(list.value.answer({ ...page, items: page.items.map(({ run }) => run) }));
  });

  router.post('/api/v1/exceptions', async (req: Request, res: Response) => {
    const checked = validateException(req.body);
    if (!checked.ok) {
      await auditApiAction(runtime, req, 'exception.raise', undefined, 'failed', { violations: checked.violations.length });
      problem(res, 400, 'Invalid exception', { errors: checked.violations });
      return;
    }
    const result = await raiseException(runtime, checked.value, API_KEY_ACTOR);
    await auditApiAction(runtime, req, 'exception.raise', checked.value.seriesNumber, result.ok ? 'ok' : 'failed', { type: checked.value.type });
    if (!result.ok) {
      problem(res, result.status, result.title);
      return;
    }
    const { reportId, messageId, trackingNo } = result;
    res.status(202).json({ reportId, messageId, trackingNo });
  });

  return router;
}
