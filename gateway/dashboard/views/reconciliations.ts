import express, { type RequestHandler, type Router } from 'express';
import { redact } from '../../../kernel/pii.ts';
import type { Runtime } from '../../../usecases/runtime.ts';
import { runSummary } from './summaries.ts';
import { LIMITS, integer, json } from './shared.ts';

/** GET /ops/api/reconciliations: the runs with their lists (page #/actions; the overview shows their summaries). */
export function reconciliationRoutes(runtime: Runtime, viewer: RequestHandler): Router {
  const router = express.Router();

  router.get(
    '/ops/api/reconciliations',
    viewer,
    json(async (req, res) => {
      const runs = await runtime.reconciliations.recent(integer(req, 'limit', 20, 1, LIMITS.reconciliationRuns));
      const cut = <T>(list: T[]) => list.slice(0, LIMITS.runListItems);
      res.json({
        items: runs.map((run) => ({
          ...runSummary(run),
          days: run.days,
          missed: cut(run.missed),
          different: cut(run.different),
          extra: cut(run.extra),
          pending: cut(run.pending),
          errors: cut(run.errors.map((error) => redact(error) as string)),
          counts: { missed: run.missed.length, different: run.different.length, extra: run.extra.length, pending: run.pending.length, errors: run.errors.length },
        })),
      });
    }),
  );

  return router;
}
