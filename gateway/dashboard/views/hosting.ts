import express, { type RequestHandler, type Response, type Router } from 'express';
import { HUNAN_AREA_CODES } from '../../../adapters/province/rules.ts';
import { beijingDate } from '../../../kernel/beijing-time.ts';
import { asGatewayError, type GatewayError } from '../../../kernel/errors.ts';
import { redact } from '../../../kernel/pii.ts';
import type { TraceEntry } from '../../../stores/traces.ts';
import { checkSeats, seatCheckQueryOf } from '../../../usecases/hosting/seat-check.ts';
import { getHostEvaluation, hostEvaluationsOn, type HostEvaluationView } from '../../../usecases/hosting/service.ts';
import type { Runtime } from '../../../usecases/runtime.ts';
import { problem } from '../../problem.ts';
import { LIMITS, json, text } from './shared.ts';

/**
 * Host evaluations (#/hosting, 主场评标): those of a day with their legs, one
 * with its trace, and the free seats of a guest center for the plan form. The
 * use case masks the agent's contact and phone; the trace is masked here.
 * Planning, changing, cancelling and the lifecycle are actions (actions.ts).
 */

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** An evaluation as the page shows it: the use case's view (personal data masked), its trace masked and bounded. */
export function hostPageView(view: HostEvaluationView): HostEvaluationView & { traceTotal: number } {
  return { ...view, trace: view.trace.slice(-LIMITS.traceEntries).map((entry) => redact(entry) as TraceEntry), traceTotal: view.trace.length };
}

/** What a host evaluation use case threw, as a refusal; a failure of the gateway itself is thrown again (500). */
export function hostRefusal(thrown: unknown): GatewayError {
  const error = asGatewayError(thrown);
  if (error.code === 'INTERNAL' || error.code === 'STORE_UNAVAILABLE') throw thrown;
  return error;
}

/** A refusal as a problem: its status, its code and every violation. */
export function hostProblem(res: Response, error: GatewayError): void {
  const title =
    error.status === 400
      ? '请求无效 / Invalid request'
      : error.status === 404
        ? '未找到主场评标 / No such host evaluation'
        : error.status === 409
          ? '与当前状态冲突 / Conflicts with the evaluation as it stands'
          : error.status === 422
            ? '不符合业务规则 / Breaks a rule'
            : error.status === 502 || error.status === 503
              ? '合作方未应答 / The partner did not answer'
              : '请求未完成 / Not done';
  problem(res, error.status, title, { code: error.code, detail: error.message, ...(error.violations.length > 0 ? { errors: error.violations } : {}) });
}

/** The centers a guest may be (every Hunan center but this one), with the partner that reaches each (HOST_ROUTES). */
function guestCenters(runtime: Runtime): { center: string; partner: string | null }[] {
  return [...HUNAN_AREA_CODES]
    .filter((center) => center !== runtime.config.center.areaCode)
    .map((center) => {
      try {
        return { center, partner: runtime.hostRoutes.partnerFor(center) };
      } catch {
        return { center, partner: null };
      }
    });
}

/** GET /ops/api/host-evaluations?date=, /ops/api/host-evaluations/:id, /ops/api/seat-check */
export function hostingRoutes(runtime: Runtime, viewer: RequestHandler): Router {
  const router = express.Router();

  router.get(
    '/ops/api/host-evaluations',
    viewer,
    json(async (req, res) => {
      const date = text(req, 'date', 10) ?? beijingDate(runtime.clock.now());
      if (!DATE.test(date) || !Number.isFinite(Date.parse(`${date}T00:00:00+08:00`))) {
        problem(res, 400, '日期格式应为 yyyy-MM-dd / date: a date yyyy-MM-dd');
        return;
      }
      const items = await hostEvaluationsOn(runtime, date);
      res.json({ date, generatedAt: new Date(runtime.clock.now()).toISOString(), items: items.map(hostPageView), centers: guestCenters(runtime), host: runtime.config.center.areaCode });
    }),
  );

  router.get(
    '/ops/api/host-evaluations/:id',
    viewer,
    json(async (req, res) => {
      const view = await getHostEvaluation(runtime, String(req.params['id']).slice(0, 64));
      if (!view) {
        problem(res, 404, '未找到主场评标 / No such host evaluation');
        return;
      }
      res.json(hostPageView(view));
    }),
  );

  // advisory: what a guest center has free over the window being planned (nothing is held)
  router.get(
    '/ops/api/seat-check',
    viewer,
    json(async (req, res) => {
      const checked = seatCheckQueryOf(req.query);
      if (!checked.ok) {
        problem(res, 400, '查询条件无效 / Invalid seat-check query', { errors: checked.violations });
        return;
      }
      try {
        res.json(await checkSeats(runtime, checked.value));
      } catch (thrown) {
        hostProblem(res, hostRefusal(thrown));
      }
    }),
  );

  return router;
}
