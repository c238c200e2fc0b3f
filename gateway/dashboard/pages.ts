import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import type { Runtime } from '../../usecases/runtime.ts';
import type { OpsAuth } from './auth.ts';
import { queuesBoardRoutes } from './queues-board.ts';
import { opsViewRoutes } from './views/index.ts';
import { labRoutes } from './views/lab.ts';
import { problem } from '../problem.ts';
import { pageHeaders } from '../middleware/page-headers.ts';

const PUBLIC_DIR = join(import.meta.dirname, 'public');
/** Apache ECharts (the overview's history charts), served from node_modules as it is published */
const ECHARTS_FILE = createRequire(import.meta.url).resolve('echarts/dist/echarts.min');
/** what the static route serves; anything else in the folder (its tsconfig.json) is not for browsers */
const ASSET = /^\/[\w-]+(\/[\w-]+)*\.(js|css|svg|png|ico)$/;

/**
 * Everything of the dashboard after login and the actions: the data endpoints
 * (views/), bull-board (/ops/queues), and the pages: /ops/ is one page whose
 * views are hash routes (#/overview, #/rooms, #/hosting, #/messages, #/dead-letters,
 * #/security, #/actions, #/audit, #/login); its files are under /ops/static/.
 * The page itself needs no login (it shows the login form); all data does.
 */
export function opsDashboardRoutes(runtime: Runtime, auth: OpsAuth): Router {
  const router = express.Router();
  router.use(opsViewRoutes(runtime, auth));
  router.use(queuesBoardRoutes(runtime, auth));
  router.use(labRoutes(runtime, auth));

  // Express matches '/ops' and '/ops/' alike (non-strict routing): only the page has the slash
  router.get(['/ops', '/ops/', '/ops/index.html'], pageHeaders, (req: Request, res: Response) => {
    if (req.path === '/ops') {
      res.redirect(301, '/ops/');
      return;
    }
    res.set('Cache-Control', 'no-cache');
    res.sendFile('index.html', { root: PUBLIC_DIR });
  });

  router.get('/ops/static/vendor/echarts.min.js', pageHeaders, (_req: Request, res: Response) => {
    res.set('Cache-Control', 'public, max-age=86400');
    res.type('text/javascript').sendFile(basename(ECHARTS_FILE), { root: dirname(ECHARTS_FILE) });
  });

  router.use(
    '/ops/static',
    pageHeaders,
    (req: Request, res: Response, next: NextFunction) => {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        next();
        return;
      }
      if (!ASSET.test(req.path)) {
        problem(res, 404, 'Not found');
        return;
      }
      next();
    },
    express.static(PUBLIC_DIR, {
      index: false,
      dotfiles: 'deny',
      redirect: false,
      fallthrough: true,
      // no build step, so no content hashes in the names: the browser revalidates (ETag, Last-Modified) and gets 304 while nothing changed
      setHeaders: (res) => {
        res.setHeader('Cache-Control', 'no-cache');
      },
    }),
  );
  return router;
}
