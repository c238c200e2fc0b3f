import express, { type Request, type Response, type Router } from 'express';
import { raiseException } from '../../usecases/exceptions.ts';
import { requestReconciliation } from '../../usecases/reconciliation.ts';
import { validatorFor } from '../../schemas/registry.ts';
import type { ExceptionInput } from '../../schemas/types.generated.ts';
import type { Runtime } from '../../usecases/runtime.ts';
import { problem } from '../problem.ts';
import { API_KEY_ACTOR, auditApiAction } from './audit.ts';

const validateException = validatorFor<ExceptionInput>('api/exception.json');


/** Operator actions behind X-Api-Key: reconciliations on demand, exceptions to the province. */
export function operationRoutes(runtime: Runtime): Router {
  const router = express.Router();

  router.post('/api/v1/reconciliations', async (req: Request, res: Response) => {
    const runId = await requestReconciliation(runtime, 'on demand (API)');
    await auditApiAction(runtime, req, 'reconciliation.run', runId, 'ok');
    res.status(202).json({ runId });
  });

  router.get('/api/v1/reconciliations', async (_req: Request, res: Response) => {
    res.json({ items: await runtime.reconciliations.recent() });
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
