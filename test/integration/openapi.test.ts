import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Express } from 'express';
import { createApp } from '../../gateway/app.ts';
import { PAGE_CSP } from '../../gateway/middleware/page-headers.ts';
import { DOCUMENT_NAMES, EXAMPLES_DIR, type OpenApiDocument } from '../../gateway/openapi/documents.ts';
import { OPENAPI_DIR } from '../../gateway/openapi/routes.ts';
import { API_KEY, startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { committedDocuments, documentValidator, variations } from '../helpers/openapi.ts';

interface RouteLayer {
  route?: { path: string | string[]; methods: Record<string, boolean> };
  handle?: { stack?: RouteLayer[] };
}

/** Every route of the Express app, as `METHOD /path` (nested routers walked; their routes carry full paths). */
function expressRoutes(app: Express): string[] {
  const walk = (stack: RouteLayer[]): string[] =>
    stack.flatMap((layer) => {
      if (layer.route) {
        const paths = Array.isArray(layer.route.path) ? layer.route.path : [layer.route.path];
        return paths.flatMap((path) => Object.keys(layer.route?.methods ?? {}).filter((method) => method !== '_all').map((method) => `${method.toUpperCase()} ${path}`));
      }
      return layer.handle?.stack ? walk(layer.handle.stack) : [];
    });
  return walk((app as unknown as { router: { stack: RouteLayer[] } }).router.stack);
}

function operationsOf(document: OpenApiDocument): string[] {
  return Object.entries(document.paths).flatMap(([path, item]) => Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`));
}

function requestSchemaRef(document: OpenApiDocument, path: string, method = 'post'): string {
  const body = document.paths[path]?.[method]?.['requestBody'] as { content: Record<string, { schema: { $ref: string } }> } | undefined;
  const ref = body?.content['application/json']?.schema.$ref;
  if (ref === undefined) throw new Error(`${method} ${path} has no request schema`);
  return ref;
}

function fixture(file: string): unknown {
  return JSON.parse(readFileSync(join(EXAMPLES_DIR, file), 'utf8')) as unknown;
}

describe('OpenAPI documents against the running gateway', function () {
  this.timeout(60_000);
  let gateway: TestGateway;
  let documents: ReturnType<typeof committedDocuments>;

  before(async () => {
    gateway = await startTestGateway({ workers: false });
    documents = committedDocuments();
  });

  after(async () => {
    await gateway.close();
  });

  it('every partner route and every /api/v1 route has an operation in the documents, and every operation a route', () => {
    const routes = expressRoutes(createApp(gateway.runtime));
    const expected = new Set<string>();
    for (const route of routes) {
      const [method, path = ''] = route.split(' ') as [string, string];
      if (path === '/partners/:partner/:operation') {
        // one route serves every partner's interfaces: each is an operation of its own
        for (const adapter of Object.values(gateway.runtime.adapters)) for (const operation of adapter.operations) expected.add(`${method} /partners/${adapter.id}/${operation}`);
      } else if (path.startsWith('/api/v1/') || path.startsWith('/partners/')) {
        expected.add(`${method} ${path.replace(/:([A-Za-z]+)/g, '{$1}')}`);
      }
    }
    const documented = [...operationsOf(documents['province-to-gateway']), ...operationsOf(documents['changsha-to-gateway']), ...operationsOf(documents['center-api'])];
    expect(documented.filter((operation) => !expected.has(operation)), 'operations with no route').to.deep.equal([]);
    expect([...expected].filter((operation) => !documented.includes(operation)), 'routes with no operation (run npm run docs:openapi, or add them to gateway/openapi/documents.ts)').to.deep.equal([]);
  });

  it('for every partner interface, the document\'s schema accepts and refuses exactly what the adapter\'s validator does, with the same violations', () => {
    const cases: { partner: 'province' | 'changsha'; operation: string; document: OpenApiDocument; example: unknown }[] = [
      { partner: 'province', operation: 'apply', document: documents['province-to-gateway'], example: fixture('province-apply.json') },
      { partner: 'province', operation: 'change', document: documents['province-to-gateway'], example: fixture('province-change.json') },
      { partner: 'province', operation: 'cancel', document: documents['province-to-gateway'], example: fixture('province-cancel.json') },
      { partner: 'province', operation: 'query', document: documents['province-to-gateway'], example: { validation: (fixture('province-cancel.json') as { validation: unknown }).validation, data: { SERIES_NUMBER: 'SQ20261125090000000117' } } },
      { partner: 'province', operation: 'host-result', document: documents['province-to-gateway'], example: fixture('province-host-result-approved.json') },
      { partner: 'province', operation: 'host-outcome', document: documents['province-to-gateway'], example: fixture('province-host-outcome-failed.json') },
      { partner: 'province', operation: 'eval-status', document: documents['province-to-gateway'], example: fixture('province-eval-status.json') },
      ...['changsha-slot-requested.json', 'changsha-slot-confirmed.json', 'changsha-slot-released.json', 'changsha-session-status.json', 'changsha-availability.json', 'changsha-slot-offered.json'].map((file) => ({
        partner: 'changsha' as const,
        operation: 'events',
        document: documents['changsha-to-gateway'],
        example: fixture(file),
      })),
    ];
    const covered = new Set<string>();
    let compared = 0;
    for (const { partner, operation, document, example } of cases) {
      covered.add(`${partner}/${operation}`);
      const adapter = gateway.runtime.adapters[partner];
      const fromDocument = documentValidator(document, requestSchemaRef(document, `/partners/${partner}/${operation}`));
      for (const body of variations(example)) {
        const enforced = adapter.validate(operation, body);
        const described = fromDocument(body);
        expect({ ok: described.ok, violations: described.violations }, `${partner} ${operation}: ${JSON.stringify(body).slice(0, 300)}`).to.deep.equal({ ok: enforced.ok, violations: enforced.ok ? [] : enforced.violations });
        compared += 1;
      }
    }
    for (const adapter of Object.values(gateway.runtime.adapters)) for (const operation of adapter.operations) expect(covered, `no case for ${adapter.id}/${operation}`).to.include(`${adapter.id}/${operation}`);
    expect(compared).to.be.greaterThan(500);
  });

  it('for every /api/v1 body the gateway checks, a refused body gets from the route the violations the document\'s schema gives', async () => {
    const center = documents['center-api'];
    const headers = { 'content-type': 'application/json', 'x-api-key': API_KEY };
    const plan = {
      projectCode: 'E4302000260012340001', sectionCode: 'E4302000260012340001001', projectName: '株洲示范工程', tradeType: 'GCJS', projectType: 'A01',
      start: '2031-12-15T09:00:00+08:00', end: '2031-12-15T12:00:00+08:00', hostSeats: 3, guests: [{ center: '430100', seats: 2 }], agentContact: '张三', agentPhone: '0731-22334455',
    };
    const cases: { method: string; path: string; documentPath: string; documentMethod: string; body: Record<string, unknown> }[] = [
      { method: 'POST', path: '/api/v1/seat-requests', documentPath: '/api/v1/seat-requests', documentMethod: 'post', body: { start: '2031-12-15T09:00:00+08:00', end: '2031-12-15T12:00:00+08:00', seats: 2, projectCode: 'M4302000260021190001', sectionCode: 'M4302000260021190001001', category: 'building', projectName: '示范' } },
      { method: 'POST', path: '/api/v1/exceptions', documentPath: '/api/v1/exceptions', documentMethod: 'post', body: { seriesNumber: 'SQ20261125090000000117', type: 'ROOM_FAULT', description: '空调故障', occurredAt: '2026-11-25T09:30:00+08:00' } },
      { method: 'POST', path: '/api/v1/host-evaluations', documentPath: '/api/v1/host-evaluations', documentMethod: 'post', body: plan },
      { method: 'POST', path: '/api/v1/host-evaluations/HE-NONE/status', documentPath: '/api/v1/host-evaluations/{id}/status', documentMethod: 'post', body: { status: 'paused', reason: '专家回避' } },
      { method: 'DELETE', path: '/api/v1/host-evaluations/HE-NONE', documentPath: '/api/v1/host-evaluations/{id}', documentMethod: 'delete', body: { reason: '项目延期' } },
    ];
    let compared = 0;
    for (const { method, path, documentPath, documentMethod, body } of cases) {
      const fromDocument = documentValidator(center, requestSchemaRef(center, documentPath, documentMethod));
      expect(fromDocument(body).violations, `${method} ${path}: the sample body`).to.deep.equal([]);
      for (const variation of variations(body).filter((candidate) => !fromDocument(candidate).ok && candidate !== null && typeof candidate === 'object' && !Array.isArray(candidate))) {
        const response = await fetch(`${gateway.url}${path}`, { method, headers, body: JSON.stringify(variation) });
        const answer = (await response.json()) as { errors?: unknown };
        expect({ status: response.status, errors: answer.errors }, `${method} ${path}: ${JSON.stringify(variation).slice(0, 300)}`).to.deep.equal({ status: 400, errors: fromDocument(variation).violations });
        compared += 1;
      }
    }
    expect(compared).to.be.greaterThan(40);
  });

  it('for every /api/v1 query the gateway checks, a refused query gets from the route the violations the document\'s parameters give', async () => {
    const center = documents['center-api'];
    const queries: { path: string; valid: Record<string, string | number> }[] = [
      { path: '/api/v1/seat-check', valid: { center: '430100', start: '2031-12-15T09:00:00+08:00', end: '2031-12-15T12:00:00+08:00', seats: 2 } },
      { path: '/api/v1/dead-letters', valid: { partner: 'province', state: 'pending', limit: 10 } },
      { path: '/api/v1/reconciliations', valid: { state: 'clean', limit: 10 } },
      { path: '/api/v1/seat-requests', valid: { state: 'requested', limit: 10 } },
      { path: '/api/v1/host-evaluations', valid: { state: 'in-force', limit: 10 } },
      { path: '/api/v1/messages', valid: { series: 'SQ20261125090000000117', limit: 10 } },
    ];
    let compared = 0;
    for (const { path, valid } of queries) {
      const parameters = (center.paths[path]?.['get']?.['parameters'] ?? []) as { name: string; required: boolean; schema: { $ref: string } }[];
      expect(parameters.length, `${path} documents its query`).to.be.greaterThan(0);
      // the document's parameters make one object schema: each parameter's own schema under its name
      const check = (query: Record<string, unknown>): string[] =>
        parameters.flatMap((parameter) => {
          if (!(parameter.name in query)) return parameter.required ? [`/${parameter.name}`] : [];
          return documentValidator(center, parameter.schema.$ref)(query[parameter.name]).violations.map((violation) => `/${parameter.name}${violation.path}`);
        });
      expect(check(valid), `${path}: the sample query`).to.deep.equal([]);
      const refused = [
        ...parameters.map((parameter) => ({ ...valid, [parameter.name]: parameter.name === 'seats' || parameter.name === 'limit' ? 0 : '!!' })),
        ...parameters.filter((parameter) => parameter.required).map((parameter) => Object.fromEntries(Object.entries(valid).filter(([name]) => name !== parameter.name))),
      ];
      for (const query of refused) {
        const expected = check(query);
        if (expected.length === 0) continue;
        const response = await fetch(`${gateway.url}${path}?${new URLSearchParams(Object.entries(query).map(([name, value]): [string, string] => [name, String(value)])).toString()}`, { headers: { 'x-api-key': API_KEY } });
        const answer = (await response.json()) as { errors?: { path: string }[] };
        expect(response.status, `${path}?${JSON.stringify(query)}`).to.equal(400);
        expect((answer.errors ?? []).map((error) => error.path), `${path}?${JSON.stringify(query)}`).to.include.members(expected);
        compared += 1;
      }
    }
    expect(compared).to.be.greaterThan(15);
  });

  it('serves each document at /openapi/ as committed, and the viewer at /docs/ under the dashboard\'s Content-Security-Policy, nothing inline', async () => {
    const index = (await (await fetch(`${gateway.url}/openapi/`)).json()) as { documents: { name: string; url: string }[] };
    expect(index.documents.map((document) => document.name).sort()).to.deep.equal([...DOCUMENT_NAMES].sort());
    for (const { name, url } of index.documents) {
      const response = await fetch(`${gateway.url}${url}`);
      expect(response.headers.get('content-type')).to.match(/^application\/json/);
      expect(await response.text()).to.equal(readFileSync(join(OPENAPI_DIR, `${name}.json`), 'utf8'));
    }
    expect((await fetch(`${gateway.url}/openapi/other.json`)).status).to.equal(404);

    const redirect = await fetch(`${gateway.url}/docs`, { redirect: 'manual' });
    expect(redirect.status).to.equal(301);
    expect(redirect.headers.get('location')).to.equal('/docs/');
    const page = await fetch(`${gateway.url}/docs/`);
    expect(page.status).to.equal(200);
    expect(page.headers.get('content-security-policy')).to.equal(PAGE_CSP);
    const html = await page.text();
    expect(html).to.not.match(/<script(?![^>]*\ssrc=)[^>]*>/);
    expect(html).to.not.match(/\sstyle=|<style|\son[a-z]+=/);
    for (const asset of [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((match) => match[1] ?? '').filter((href) => !href.startsWith('..'))) {
      const response = await fetch(`${gateway.url}/docs/${asset}`);
      expect(response.status, asset).to.equal(200);
      expect(response.headers.get('content-security-policy'), asset).to.equal(PAGE_CSP);
    }
    // only what the page loads comes from the package: not its sample page, which points at a remote document
    expect((await fetch(`${gateway.url}/docs/swagger-ui/index.html`)).status).to.equal(404);
  });
});
