import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import express, { type Request, type Response, type Router } from 'express';
import { pageHeaders } from '../middleware/page-headers.ts';
import { problem } from '../problem.ts';

/** Where `npm run docs:openapi` writes the documents, one file each: served as they are, so partners get the same bytes. */
export const OPENAPI_DIR = join(import.meta.dirname, '..', '..', 'docs', 'openapi');
const PUBLIC_DIR = join(import.meta.dirname, 'public');
/** The viewer, from the installed package: nothing comes from a CDN. */
const SWAGGER_UI_DIR = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
/** Only what the page loads is served from the package (no source maps, no sample index.html pointing at the petstore). */
const SWAGGER_UI_FILES = ['swagger-ui.css', 'swagger-ui-bundle.js', 'favicon-32x32.png'];

interface ServedDocument {
  name: string;
  title: string;
  url: string;
  text: string;
}

function readDocuments(): ServedDocument[] {
  if (!existsSync(OPENAPI_DIR)) return [];
  return readdirSync(OPENAPI_DIR)
    .filter((file) => file.endsWith('.json'))
    .sort()
    .map((file) => {
      const text = readFileSync(join(OPENAPI_DIR, file), 'utf8');
      const title = ((JSON.parse(text) as { info?: { title?: unknown } }).info?.title as string | undefined) ?? file;
      return { name: file.slice(0, -'.json'.length), title, url: `/openapi/${file}`, text };
    });
}

/**
 * GET /openapi/ (the list) and /openapi/<name>.json: the documents of docs/openapi/, read once.
 * GET /docs/: Swagger UI on them. Public, like the partners' own contracts: they describe the
 * interfaces, never a secret or a message.
 */
export function openApiRoutes(): Router {
  const router = express.Router();
  const documents = readDocuments();
  const byFile = new Map(documents.map((document) => [`${document.name}.json`, document]));

  router.get('/openapi/', (_req: Request, res: Response) => {
    res.json({ documents: documents.map(({ name, title, url }) => ({ name, title, url })) });
  });
  router.get('/openapi/:file', (req: Request, res: Response) => {
    const document = byFile.get(String(req.params['file']));
    if (!document) {
      problem(res, 404, 'No such document');
      return;
    }
    res.type('application/json').send(document.text);
  });

  // routing is not strict: '/docs/' matches '/docs' too, whose relative links would miss
  router.get(['/docs/', '/docs/index.html'], pageHeaders, (req: Request, res: Response) => {
    if (req.path === '/docs') {
      res.redirect(301, '/docs/');
      return;
    }
    res.sendFile('index.html', { root: PUBLIC_DIR });
  });
  router.get(['/docs/docs.js', '/docs/docs.css'], pageHeaders, (req: Request, res: Response) => {
    res.sendFile(req.path.slice('/docs/'.length), { root: PUBLIC_DIR });
  });
  router.get('/docs/swagger-ui/:file', pageHeaders, (req: Request, res: Response) => {
    const file = String(req.params['file']);
    if (!SWAGGER_UI_FILES.includes(file)) {
      problem(res, 404, 'Not found');
      return;
    }
    res.sendFile(file, { root: SWAGGER_UI_DIR, maxAge: '1d' });
  });
  return router;
}
