import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import type { Runtime } from '../usecases/runtime.ts';
import { apiRoutes } from './api/index.ts';
import { partnerRoutes } from './partners.ts';
import { opsActionRoutes } from './dashboard/actions.ts';
import { createOpsAuth } from './dashboard/auth.ts';
import { probeRoutes } from './probes.ts';
import { openApiRoutes } from './openapi/routes.ts';
import { opsDashboardRoutes } from './dashboard/pages.ts';
import { problem } from './problem.ts';

/** The HTTP application, without listening: tests drive it in process. */
export function createApp(runtime: Runtime): Express {
  const app = express();
  app.disable('x-powered-by');
  // behind a TLS proxy this makes req.secure (Secure cookies) and req.ip (audit) right
  app.set('trust proxy', runtime.config.ops.trustProxy);
  app.set('etag', false);

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  // GET /readyz (Redis and an inbound worker) and GET /metrics (behind the X-Api-Key)
  app.use(probeRoutes(runtime));

  // GET /openapi/ and /docs/: the API documents of docs/openapi/ and their viewer
  app.use(openApiRoutes());

  app.use(partnerRoutes(runtime));
  app.use(express.json({ limit: '64kb' }), apiRoutes(runtime));

  const auth = createOpsAuth(runtime);
  app.use('/ops', auth.middleware);
  app.use(auth.routes);
  app.use(opsActionRoutes(runtime, auth));
  app.use(opsDashboardRoutes(runtime, auth));

  app.use((_req: Request, res: Response) => {
    problem(res, 404, 'Not found');
  });
  // The one place an unexpected error becomes an answer: no stack trace leaves the process.
  app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const status = (error as { status?: number }).status;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      problem(res, status, '请求无效 / Bad request');
      return;
    }
    runtime.logger.error('unhandled error', { error });
    problem(res, 500, '网关内部错误 / Internal error');
  });
  return app;
}
