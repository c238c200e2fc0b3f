import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { buildDocuments, documentText, DOCUMENT_NAMES, EXAMPLES_DIR, PROVINCE_INBOUND, type OpenApiDocument } from '../../gateway/openapi/documents.ts';
import { OPENAPI_DIR } from '../../gateway/openapi/routes.ts';
import { SCHEMA_BASE, schemaIds, schemaObject } from '../../schemas/registry.ts';
import { committedDocuments, documentValidator } from '../helpers/openapi.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const run = promisify(execFile);

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Every `$ref` made absolute (`https://zzgw.local/schemas/…/common.json#/$defs/time`), `$id` and annotations dropped. */
function absolute(node: Json, base: string, resolve: (ref: string, base: string) => string): Json {
  if (Array.isArray(node)) return node.map((item) => absolute(item, base, resolve));
  if (node === null || typeof node !== 'object') return node;
  const out: { [key: string]: Json } = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === '$id' || key === '$schema' || key === 'x-schema-id') continue;
    out[key] = key === '$ref' && typeof value === 'string' ? resolve(value, base) : absolute(value, base, resolve);
  }
  return out;
}

/** Every schema component of the documents: its name, where it says it comes from, and the document that holds it. */
function components(documents: Record<string, OpenApiDocument>) {
  return Object.entries(documents).flatMap(([document, body]) =>
    Object.entries((body['components'] as { schemas: Record<string, Json> }).schemas).map(([name, schema]) => ({ document, body, name, schema })),
  );
}

function allOperations(document: OpenApiDocument): [path: string, method: string, operation: Record<string, unknown>][] {
  return Object.entries(document.paths).flatMap(([path, item]) => Object.entries(item).map(([method, operation]) => [path, method, operation] as [string, string, Record<string, unknown>]));
}

/** Every `$ref` anywhere in a value. */
function refsIn(node: unknown): string[] {
  if (Array.isArray(node)) return node.flatMap(refsIn);
  if (node === null || typeof node !== 'object') return [];
  return Object.entries(node).flatMap(([key, value]) => (key === '$ref' && typeof value === 'string' ? [value] : refsIn(value)));
}

describe('OpenAPI documents', () => {
  it('when a schema, an example or an operation changes, the committed documents are stale until `npm run docs:openapi`', () => {
    const built = buildDocuments();
    expect(readdirSync(OPENAPI_DIR).filter((file) => file.endsWith('.json')).sort()).to.deep.equal(DOCUMENT_NAMES.map((name) => `${name}.json`).sort());
    for (const name of DOCUMENT_NAMES) {
      expect(readFileSync(join(OPENAPI_DIR, `${name}.json`), 'utf8'), `docs/openapi/${name}.json is stale: run npm run docs:openapi`).to.equal(documentText(built[name]));
    }
  });

  it('a schema component is the very schema the validators compile, its $refs only pointed at components', () => {
    const documents = committedDocuments();
    const all = components(documents).filter(({ schema }) => typeof schema === 'object' && schema !== null && 'x-schema-id' in schema);
    expect(all.length).to.be.greaterThan(20);
    for (const { document, body, name, schema } of all) {
      const id = (schema as { 'x-schema-id': string })['x-schema-id'];
      const schemas = (body['components'] as { schemas: Record<string, { 'x-schema-id'?: string }> }).schemas;
      // a component ref names another component: back to the schema file it comes from, and the pointer in it
      const fromDocument = (ref: string): string => {
        const match = /^#\/components\/schemas\/([^/]+)(.*)$/.exec(ref);
        const origin = match ? schemas[match[1] ?? '']?.['x-schema-id'] : undefined;
        if (!match || origin === undefined) throw new Error(`${document}: ${name} refers to ${ref}, which is no schema of schemas/`);
        return `${SCHEMA_BASE}${origin}#${match[2] ?? ''}`;
      };
      const fromRegistry = (ref: string, base: string): string => {
        const url = new URL(ref, base);
        return `${url.href.slice(0, url.href.length - url.hash.length)}#${decodeURIComponent(url.hash.slice(1))}`;
      };
      expect(absolute(schema, '', (ref) => fromDocument(ref)), `${document}: ${name} differs from schemas/${id}`).to.deep.equal(absolute(schemaObject(id), SCHEMA_BASE + id, fromRegistry));
    }
  });

  it('every schema of the center API (schemas/api/) is the body or the query of an operation: a new one is not forgotten', () => {
    const center = committedDocuments()['center-api'];
    const schemas = (center['components'] as { schemas: Record<string, { 'x-schema-id'?: string }> }).schemas;
    const used = new Set(
      allOperations(center)
        .flatMap(([, , operation]) => refsIn({ body: operation['requestBody'], parameters: operation['parameters'] }))
        .map((ref) => schemas[/^#\/components\/schemas\/([^/]+)/.exec(ref)?.[1] ?? '']?.['x-schema-id']),
    );
    const api = schemaIds().filter((id) => id.startsWith('api/'));
    expect(api.filter((id) => !used.has(id)), 'schemas of schemas/api/ that no operation of center-api.json names').to.deep.equal([]);
  });

  it('the province examples are the contract\'s own, signed with its test secrets: the cancel and host-apply vectors come out as province.md gives them', () => {
    const documents = committedDocuments();
    const fixture = (file: string) => JSON.parse(readFileSync(join(EXAMPLES_DIR, file), 'utf8')) as { validation: Record<string, string>; data: unknown };
    const example = (document: OpenApiDocument, path: string, name: string) =>
      ((document.paths[path]?.['post']?.['requestBody'] as { content: Record<string, { examples: Record<string, { value: ReturnType<typeof fixture> }> }> }).content['application/json']?.examples[name]?.value);
    for (const [document, path, name, file] of [
      [documents['province-to-gateway'], '/partners/province/cancel', 'cancel', 'province-cancel.json'],
      [documents['gateway-to-province'], '/host-apply', 'host-apply', 'province-host-apply.json'],
    ] as const) {
      expect(example(document, path, name), file).to.deep.equal(fixture(file));
    }
    for (const entry of PROVINCE_INBOUND) {
      for (const file of entry.examples) {
        const signed = example(documents['province-to-gateway'], `/partners/province/${entry.operation}`, file.replace(/^province-|\.json$/g, ''));
        const validation = Object.fromEntries(Object.entries(fixture(file).validation).filter(([field]) => field !== 'TOKEN'));
        expect(signed?.data, file).to.deep.equal(fixture(file).data);
        expect(signed?.validation, file).to.include(validation);
        expect(signed?.validation['TOKEN'], file).to.match(/^[0-9a-f]{64}$/);
      }
    }
  });

  it('every example is valid against its schema as a 2020-12 validator reads the document', () => {
    let checked = 0;
    for (const [name, document] of Object.entries(committedDocuments())) {
      for (const [path, method, operation] of allOperations(document)) {
        const bodies = [
          (operation['requestBody'] as { content?: Record<string, unknown> } | undefined)?.content?.['application/json'],
          ...Object.values((operation['responses'] ?? {}) as Record<string, { content?: Record<string, unknown> }>).map((response) => response.content?.['application/json']),
        ] as ({ schema: { $ref?: string }; examples?: Record<string, { value: unknown }> } | undefined)[];
        for (const media of bodies) {
          if (!media?.examples || media.schema.$ref === undefined) continue;
          const validate = documentValidator(document, media.schema.$ref);
          for (const [example, { value }] of Object.entries(media.examples)) {
            expect(validate(value).violations, `${name} ${method} ${path} ${example}`).to.deep.equal([]);
            checked += 1;
          }
        }
      }
    }
    expect(checked).to.be.greaterThan(15);
  });

  it('the documents pass the OpenAPI linter (Redocly, recommended rules, redocly.yaml) without a single problem', async function () {
    this.timeout(60_000);
    const files = DOCUMENT_NAMES.map((name) => join('docs', 'openapi', `${name}.json`));
    const lint = await run('npx', ['redocly', 'lint', ...files, '--config', 'redocly.yaml', '--format', 'stylish'], {
      cwd: ROOT,
      env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
    }).catch((error: unknown) => error as { stdout: string; stderr: string; code: number });
    const output = `${lint.stdout}\n${lint.stderr}`;
    expect('code' in lint ? lint.code : 0, output).to.equal(0);
    // warnings do not fail the CLI: they fail the test
    expect(output, output).to.not.match(/warning|error/i);
    expect(output).to.include('valid');
  });
});
