import express, { type NextFunction, type Request, type RequestHandler, type Response, type Router } from 'express';
import type { Queue } from 'bullmq';
import { match } from 'path-to-regexp';
import type { Runtime } from '../../usecases/runtime.ts';
import { roleAllows, type OperatorRole } from '../../stores/accounts.ts';
import type { OpsAuth } from './auth.ts';
import { problem } from '../problem.ts';

export const QUEUES_BOARD_PATH = '/ops/queues';

const SYSTEM_FONTS = 'system-ui, -apple-system, "Segoe UI", "PingFang SC", "Hiragino Sans GB", "Microsoft YaHei", "Noto Sans CJK SC", "Source Han Sans SC", sans-serif';
const MONO_FONTS = 'ui-monospace, "SFMono-Regular", Menlo, Consolas, "Noto Sans Mono CJK SC", monospace';
/** bull-board's page asks a web font service for its fonts: the dashboard uses none, and serves nothing from elsewhere */
const WEB_FONTS = /<link[^>]+href="https:\/\/fonts\.(googleapis|gstatic)\.com[^"]*"[^>]*>\s*/g;

/**
 * bull-board's page keeps an inline <style> and style attributes (its loading
 * animation), so its policy allows inline styles; scripts, fonts, images and
 * connections stay same-origin only.
 */
export const QUEUES_BOARD_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "manifest-src 'self'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

type Params = Partial<Record<string, string>>;
/** What an operator may do with a route's request, given its params and the queue it names. */
type OperatorCheck = (params: Params, queue: Queue) => Promise<boolean> | boolean;

const always: OperatorCheck = () => true;
const jobIn =
  (...states: string[]): OperatorCheck =>
  async ({ jobId }, queue) => {
    if (jobId === undefined) return false;
    const job = await queue.getJob(jobId);
    return job !== undefined && states.includes(await job.getState());
  };

/**
 * Every write route of bull-board (@bull-board/api 9.10), in the order its
 * router tries them. Operators may retry what failed, promote what is delayed,
 * and clean what is completed or failed: nothing that drops work still to do
 * (a removed inbound job is an acknowledged message lost) or forges it (an
 * added or edited job is signed and sent as Zhuzhou's). Every other write, and
 * any path that matches none of these, is for admins.
 */
const BOARD_WRITES: readonly { method: string; route: string; operator?: OperatorCheck }[] = [
  { method: 'PUT', route: '/api/queues/pause' },
  { method: 'PUT', route: '/api/queues/resume' },
  { method: 'POST', route: '/api/queues/:queueName/add' },
  { method: 'PUT', route: '/api/queues/:queueName/retry/:queueStatus', operator: ({ queueStatus }) => queueStatus === 'failed' },
  { method: 'PUT', route: '/api/queues/:queueName/promote', operator: always },
  { method: 'PUT', route: '/api/queues/:queueName/clean/:queueStatus', operator: ({ queueStatus }) => queueStatus === 'completed' || queueStatus === 'failed' },
  { method: 'PUT', route: '/api/queues/:queueName/pause' },
  { method: 'PUT', route: '/api/queues/:queueName/resume' },
  { method: 'PUT', route: '/api/queues/:queueName/concurrency' },
  { method: 'PUT', route: '/api/queues/:queueName/rate-limit' },
  { method: 'PUT', route: '/api/queues/:queueName/rate-limit/release' },
  { method: 'PUT', route: '/api/queues/:queueName/empty' },
  { method: 'PUT', route: '/api/queues/:queueName/obliterate' },
  { method: 'PUT', route: '/api/queues/:queueName/job-schedulers/:schedulerId/remove' },
  { method: 'PATCH', route: '/api/queues/:queueName/job-schedulers/:schedulerId' },
  { method: 'PUT', route: '/api/queues/:queueName/job-schedulers/:schedulerId/run' },
  { method: 'PUT', route: '/api/queues/:queueName/:jobId/retry', operator: jobIn('failed') },
  { method: 'PUT', route: '/api/queues/:queueName/:jobId/clean', operator: jobIn('completed', 'failed') },
  { method: 'PUT', route: '/api/queues/:queueName/:jobId/promote', operator: jobIn('delayed') },
  { method: 'PATCH', route: '/api/queues/:queueName/:jobId/update-data' },
  { method: 'PATCH', route: '/api/queues/:queueName/:jobId/delay' },
  { method: 'PATCH', route: '/api/queues/:queueName/:jobId/priority' },
  { method: 'PUT', route: '/api/queues/:queueName/:jobId/remove-unprocessed-children' },
];

/**
 * Each route matched as Express 5's router matches it (path-to-regexp 8, as
 * `router` calls it: case-insensitive, a trailing slash allowed, params
 * percent-decoded), so that `/Obliterate`, `/empty/` or `%65mpty` are read
 * here as the router will read them.
 */
const WRITE_MATCHERS = BOARD_WRITES.map((write) => ({ ...write, matches: match<Params>(write.route, { sensitive: false, end: true, trailing: true, decode: decodeURIComponent }) }));

/** The role a board write needs: admin unless the first route the router would run lets an operator do it. */
export async function roleForBoardWrite(method: string, path: string, queues: readonly Queue[]): Promise<OperatorRole> {
  for (const write of WRITE_MATCHERS) {
    if (write.method !== method.toUpperCase()) continue;
    let found: ReturnType<typeof write.matches>;
    try {
      found = write.matches(path);
    } catch {
      // a param that cannot be decoded: the router refuses it too, and nobody below admin gets to try
      return 'admin';
    }
    if (!found) continue;
    const queue = queues.find((candidate) => candidate.name === found.params.queueName);
    if (!write.operator || !queue) return 'admin';
    return (await write.operator(found.params, queue)) ? 'operator' : 'admin';
  }
  return 'admin';
}


interface Boards {
  readOnly: RequestHandler;
  writable: RequestHandler;
}

/**
 * bull-board, and what it brings (lodash, valibot, ejs: 3.3 MB of an idle api's heap),
 * loads with the first operator who opens the board rather than with every api process
 * (bench/README.md, issue 16, fifth round). A failed load is not kept: the next
 * request tries again.
 */
function boardsOnFirstUse(runtime: Runtime, queues: Queue[]): () => Promise<Boards> {
  let loading: Promise<Boards> | undefined;
  return () => {
    loading ??= loadBoards(runtime, queues).catch((error: unknown) => {
      loading = undefined;
      throw error;
    });
    return loading;
  };
}

async function loadBoards(runtime: Runtime, queues: Queue[]): Promise<Boards> {
  const [{ createBullBoard }, { BullMQAdapter }, { ExpressAdapter }] = await Promise.all([import('@bull-board/api'), import('@bull-board/api/bullMQAdapter'), import('@bull-board/express')]);
  const boardFor = (readOnlyMode: boolean): RequestHandler => {
    const serverAdapter = new ExpressAdapter();
    serverAdapter.setBasePath(QUEUES_BOARD_PATH);
    createBullBoard({
      queues: queues.map((queue) => new BullMQAdapter(queue, { readOnlyMode, allowRetries: !readOnlyMode, description: readOnlyMode ? '只读 / read-only' : '' })),
      serverAdapter,
      options: {
        uiConfig: {
          boardTitle: readOnlyMode ? `${runtime.config.center.systemNo} 队列（只读）` : `${runtime.config.center.systemNo} 队列`,
          locale: { lng: 'zh-CN' },
          hideDocsLink: true,
          miscLinks: [{ text: '返回控制台 / Dashboard', url: '/ops/' }],
          theme: { light: { 'font-sans': SYSTEM_FONTS, 'font-mono': MONO_FONTS }, dark: { 'font-sans': SYSTEM_FONTS, 'font-mono': MONO_FONTS } },
        },
      },
    });
    return serverAdapter.getRouter() as RequestHandler;
  };
  return { readOnly: boardFor(true), writable: boardFor(false) };
}

/** Drops the web-font link from bull-board's page as it is sent. */
function withoutWebFonts(_req: Request, res: Response, next: NextFunction): void {
  const send = res.send.bind(res);
  res.send = (body?: unknown) => send(typeof body === 'string' && body.startsWith('<!DOCTYPE html') ? body.replace(WEB_FONTS, '') : body);
  next();
}

/**
 * Audits a board action with its outcome, before the answer leaves: the
 * answer waits for the audit record (as the dashboard's own actions do).
 */
function auditedBeforeAnswer(runtime: Runtime, auth: OpsAuth, req: Request, res: Response): void {
  const send = res.send.bind(res);
  let audited = false;
  res.send = (body?: unknown) => {
    // res.json sends through res.send again: only the first call waits for the audit
    if (audited) return send(body);
    audited = true;
    auth
      .auditAction(req, `queues.${req.method.toLowerCase()}`, req.path, res.statusCode < 400 ? 'ok' : 'failed', { status: res.statusCode })
      .catch((error: unknown) => runtime.logger.warn('board action not audited', { path: req.path, error: error instanceof Error ? error.message : String(error) }))
      .finally(() => send(body));
    return res;
  };
}

/**
 * bull-board under /ops/queues behind the dashboard login. Two boards over the
 * same queues: viewers get the read-only one (bull-board refuses its actions
 * with 405), operators and admins the writable one. Every write is checked
 * here before bull-board sees it: operator role, the session's CSRF token
 * (bull-board's page sends it as X-XSRF-TOKEN from the XSRF-TOKEN cookie set
 * below, as axios does), and it is audited.
 */
export function queuesBoardRoutes(runtime: Runtime, auth: OpsAuth): Router {
  const queues = [runtime.inboundQueue, ...Object.values(runtime.outboundQueues), runtime.periodicQueue];
  const boards = boardsOnFirstUse(runtime, queues);
  const operatorOnly = auth.requireRole('operator');
  const adminOnly = auth.requireRole('admin');

  const router = express.Router();
  router.use(QUEUES_BOARD_PATH, (req: Request, res: Response, next: NextFunction) => {
    res.set('Content-Security-Policy', QUEUES_BOARD_CSP);
    res.set('X-Frame-Options', 'DENY');
    res.set('Referrer-Policy', 'same-origin');
    res.set('X-Content-Type-Options', 'nosniff');
    const operator = req.session.operator;
    const reading = req.method === 'GET' || req.method === 'HEAD';
    if (!operator) {
      // a person opening the board is sent to the login page; a script gets 401
      if (reading && req.accepts(['json', 'html']) === 'html') res.redirect(303, '/ops/#/login');
      else problem(res, 401, '请先登录 / Please log in');
      return;
    }
    if (reading) {
      // whatever throws in there goes to the error handler, as from any handler Express runs
      boards()
        .then(({ readOnly, writable }) => {
          res.set('Cache-Control', req.path.startsWith('/static/') ? 'public, max-age=3600' : 'no-store');
          const board = roleAllows(operator.role, 'operator') ? writable : readOnly;
          const token = (req.session as { csrfToken?: unknown }).csrfToken;
          if (board === writable && typeof token === 'string' && !req.path.startsWith('/static/') && !req.path.startsWith('/api/')) {
            res.cookie('XSRF-TOKEN', token, { path: QUEUES_BOARD_PATH, sameSite: 'strict', secure: req.secure, httpOnly: false });
          }
          withoutWebFonts(req, res, () => board(req, res, next));
        })
        .catch(next);
      return;
    }
    // an action: the same token the dashboard's pages send, under the header name bull-board's page uses
    const xsrf = req.headers['x-xsrf-token'];
    if (!req.headers['x-csrf-token'] && typeof xsrf === 'string') req.headers['x-csrf-token'] = xsrf;
    const guarded = (guard: RequestHandler) =>
      guard(req, res, (error?: unknown) => {
        if (error) {
          next(error);
          return;
        }
        boards()
          .then(({ writable }) => {
            auditedBeforeAnswer(runtime, auth, req, res);
            writable(req, res, next);
          })
          .catch(next);
      });
    roleForBoardWrite(req.method, req.path, queues).then(
      (needed) => guarded(needed === 'admin' ? adminOnly : operatorOnly),
      (error: unknown) => next(error),
    );
  });
  return router;
}
