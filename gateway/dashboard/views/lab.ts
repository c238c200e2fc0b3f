import express, { type Request, type Response, type Router } from 'express';
import { RateLimiterMemory } from 'rate-limiter-flexible';
import type { Runtime } from '../../../usecases/runtime.ts';
import { pastedRequest, runLab } from '../../../usecases/lab.ts';
import type { OpsAuth } from '../auth.ts';
import { clientAddress } from '../auth.ts';
import { problem } from '../../problem.ts';

/** lab runs one operator may make a minute (in this process): enough to debug, too few to probe signatures */
export const LAB_RUNS_PER_MINUTE = 30;

/**
 * The message lab (#/lab, 接入调试), operators and admins: GET /ops/api/lab names
 * the partners and their interfaces; POST /ops/api/lab {partner, operation, raw}
 * checks one pasted request step by step (usecases/lab.ts), recording nothing
 * but the audit entry. CSRF as every action; limited per operator.
 */
export function labRoutes(runtime: Runtime, auth: OpsAuth): Router {
  const router = express.Router();
  const operator = auth.requireRole('operator');
  // the body as pasted, plus the headers and the JSON around it
  const json = express.json({ limit: runtime.config.intake.bodyLimitBytes * 2 + 16_384 });
  const limiter = new RateLimiterMemory({ points: LAB_RUNS_PER_MINUTE, duration: 60 });

  router.get('/ops/api/lab', operator, (_req: Request, res: Response) => {
    res.json({ partners: Object.values(runtime.adapters).map((adapter) => ({ id: adapter.id, operations: adapter.operations })), runsPerMinute: LAB_RUNS_PER_MINUTE });
  });

  router.post('/ops/api/lab', json, operator, async (req: Request, res: Response) => {
    const source = (typeof req.body === 'object' && req.body !== null ? req.body : {}) as Record<string, unknown>;
    const partner = typeof source['partner'] === 'string' ? source['partner'].slice(0, 40) : '';
    const operation = typeof source['operation'] === 'string' ? source['operation'].slice(0, 40) : '';
    const raw = typeof source['raw'] === 'string' ? source['raw'] : undefined;
    if (!partner || !operation || raw === undefined) {
      problem(res, 400, '请选择合作方和接口并粘贴请求 / partner, operation and raw are needed');
      return;
    }
    const username = req.session.operator?.username ?? 'anonymous';
    try {
      await limiter.consume(username);
    } catch {
      await auth.auditAction(req, 'lab.run', `${partner}/${operation}`, 'denied', { reason: 'rate limit' });
      res.set('Retry-After', '60');
      problem(res, 429, '调试过于频繁，请稍后再试 / Too many lab runs, try again in a minute');
      return;
    }
    const request = pastedRequest(Buffer.from(raw, 'utf8'));
    const result = await runLab(
      { adapters: runtime.adapters, messages: runtime.messages, audit: runtime.audit, clock: runtime.clock, bodyLimitBytes: runtime.config.intake.bodyLimitBytes },
      { partner, operation, headers: request.headers, rawBody: request.rawBody },
      { actor: username, from: clientAddress(req) },
    );
    res.set('Cache-Control', 'no-store');
    res.json(result);
  });
  return router;
}
