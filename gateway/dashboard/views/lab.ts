import express, { type Request, type Response, type Router } from 'express';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { Runtime } from '../../../usecases/runtime.ts';
import { pastedRequest, rawRequestText, runLab, type LabRequest } from '../../../usecases/lab.ts';
import type { OpsAuth } from '../auth.ts';
import { clientAddress } from '../auth.ts';
import { problem } from '../../problem.ts';

/** lab runs one operator may make a minute (all api processes together): enough to debug, too few to probe signatures */
export const LAB_RUNS_PER_MINUTE = 30;

/** a ring entry's id: a ULID */
const REFUSED_ID = /^[0-9A-HJKMNP-TV-Z]{26}$/;

/**
 * The message lab (#/lab, 接入调试), operators and admins: GET /ops/api/lab names
 * the partners and their interfaces; POST /ops/api/lab {partner, operation, raw}
 * checks one pasted request step by step (usecases/lab.ts), recording nothing
 * but the audit entry; POST /ops/api/lab/refused {partner, id} opens a refused
 * request kept in the partner's ring (a security event names it) and checks
 * exactly its bytes. CSRF as every action; limited per operator.
 */
export function labRoutes(runtime: Runtime, auth: OpsAuth): Router {
  const router = express.Router();
  const operator = auth.requireRole('operator');
  // the body as pasted, plus the headers and the JSON around it
  const json = express.json({ limit: runtime.config.intake.bodyLimitBytes * 2 + 16_384 });
  // in Redis: with several api processes, the budget is still the operator's, not each process's
  const limiter = new RateLimiterRedis({ storeClient: runtime.redis, keyPrefix: runtime.keys.opsLabRate, points: LAB_RUNS_PER_MINUTE, duration: 60 });
  const labDeps = { adapters: runtime.adapters, messages: runtime.messages, ledger: runtime.ledger, audit: runtime.audit, clock: runtime.clock, bodyLimitBytes: runtime.config.intake.bodyLimitBytes };

  /** Spends one run of the operator's budget; false once the answer (429 or 503) is sent. */
  async function admitted(req: Request, res: Response, target: string): Promise<boolean> {
    try {
      await limiter.consume(req.session.operator?.username ?? 'anonymous');
      return true;
    } catch (rejection) {
      if (!(rejection instanceof RateLimiterRes)) {
        runtime.logger.warn('lab run not counted: Redis failed', { error: rejection instanceof Error ? rejection.message : String(rejection) });
        res.set('Retry-After', String(runtime.config.intake.retryAfterSeconds));
        problem(res, 503, '暂时无法调试，请稍后再试 / The lab is unavailable, try again shortly');
        return false;
      }
      await auth.auditAction(req, 'lab.run', target, 'denied', { reason: 'rate limit' });
      res.set('Retry-After', String(Math.max(1, Math.ceil(rejection.msBeforeNext / 1000))));
      problem(res, 429, '调试过于频繁，请稍后再试 / Too many lab runs, try again in a minute');
      return false;
    }
  }

  function run(req: Request, request: LabRequest) {
    return runLab(labDeps, request, { actor: req.session.operator?.username ?? 'anonymous', from: clientAddress(req) });
  }

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
    if (!(await admitted(req, res, `${partner}/${operation}`))) return;
    const request = pastedRequest(Buffer.from(raw, 'utf8'));
    const result = await run(req, { partner, operation, headers: request.headers, rawBody: request.rawBody });
    res.set('Cache-Control', 'no-store');
    res.json(result);
  });

  router.post('/ops/api/lab/refused', json, operator, async (req: Request, res: Response) => {
    const source = (typeof req.body === 'object' && req.body !== null ? req.body : {}) as Record<string, unknown>;
    const partner = typeof source['partner'] === 'string' && Object.hasOwn(runtime.adapters, source['partner']) ? source['partner'] : '';
    const id = typeof source['id'] === 'string' && REFUSED_ID.test(source['id']) ? source['id'] : '';
    if (!partner || !id) {
      problem(res, 400, '请求的合作方或编号无效 / a known partner and a refused request id are needed');
      return;
    }
    const target = `${partner}/${id}`;
    if (!(await admitted(req, res, target))) return;
    const kept = await runtime.refusedRequests.get(partner, id);
    if (!kept) {
      await auth.auditAction(req, 'lab.open', target, 'failed', { reason: 'no longer kept' });
      const { perPartner, days } = runtime.config.refusedRequests;
      problem(res, 404, `该被拒请求已不再保留（每个合作方只保留最近 ${perPartner} 条、${days} 天）/ This refused request is no longer kept (the last ${perPartner} per partner, for ${days} days)`, { reason: 'rolled-out' });
      return;
    }
    // who saw the request (its body holds personal data), before the run's own entry
    await auth.auditAction(req, 'lab.open', target, 'ok', { operation: kept.operation, refusedAt: kept.at });
    const result = await run(req, { partner, operation: kept.operation, headers: kept.headers, rawBody: kept.rawBody });
    res.set('Cache-Control', 'no-store');
    res.json({ request: { id, partner, operation: kept.operation, at: kept.at, raw: rawRequestText(partner, kept.operation, kept.headers, kept.rawBody) }, result });
  });
  return router;
}
