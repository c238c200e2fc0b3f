import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { DOCUMENT_NAMES, type DocumentName, type OpenApiDocument } from '../../gateway/openapi/documents.ts';
import { OPENAPI_DIR } from '../../gateway/openapi/routes.ts';
import { isValidBeijingTimestamp, isValidOffsetDateTime } from '../../schemas/formats.ts';
import { toViolations, type Violation } from '../../schemas/registry.ts';

const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default;

/** The committed documents of docs/openapi/, as partners get them. */
export function committedDocuments(): Record<DocumentName, OpenApiDocument> {
  return Object.fromEntries(DOCUMENT_NAMES.map((name) => [name, JSON.parse(readFileSync(join(OPENAPI_DIR, `${name}.json`), 'utf8')) as OpenApiDocument])) as Record<DocumentName, OpenApiDocument>;
}

export type DocumentCheck = (input: unknown) => { ok: boolean; violations: Violation[] };

/**
 * Validates with a document's own schemas, read as OpenAPI 3.1 reads them (JSON Schema
 * 2020-12, by a second ajv that knows nothing of schemas/): what a partner's tool would do.
 */
export function documentValidator(document: OpenApiDocument, ref: string): DocumentCheck {
  // x-schema-id is an annotation OpenAPI allows; the formats are the gateway's own
  const ajv = new Ajv2020({ allErrors: true, strict: false });
  addFormats(ajv, ['date', 'uri']);
  ajv.addFormat('date-time', { type: 'string', validate: isValidOffsetDateTime });
  ajv.addFormat('yyyyMMddHHmmss', { type: 'string', validate: isValidBeijingTimestamp });
  ajv.addSchema({ components: document['components'] as object }, 'https://openapi.invalid/document');
  const validate = ajv.getSchema(`https://openapi.invalid/document${ref}`);
  if (!validate) throw new Error(`no schema at ${ref}`);
  return (input) => (validate(input) ? { ok: true, violations: [] } : { ok: false, violations: toViolations(validate.errors ?? []) });
}

/**
 * The example, and variations of it that a schema may refuse: each property removed, an
 * unknown one added, each value of the wrong type or empty, at every level.
 */
export function variations(example: unknown): unknown[] {
  const out: unknown[] = [example];
  const walk = (path: (string | number)[], node: unknown): void => {
    if (Array.isArray(node)) {
      out.push(replaceAt(example, path, []));
      node.forEach((item, index) => walk([...path, index], item));
      return;
    }
    if (node !== null && typeof node === 'object') {
      out.push(replaceAt(example, path, { ...node, unexpected: 'x' }));
      for (const [key, value] of Object.entries(node)) {
        const without = { ...(node as Record<string, unknown>) };
        delete without[key];
        out.push(replaceAt(example, path, without));
        walk([...path, key], value);
      }
      return;
    }
    out.push(replaceAt(example, path, typeof node === 'string' ? 12345 : 'x'));
    if (typeof node === 'string') out.push(replaceAt(example, path, ''), replaceAt(example, path, `${node}${'9'.repeat(600)}`));
    if (typeof node === 'number') out.push(replaceAt(example, path, -1), replaceAt(example, path, 1000));
  };
  walk([], example);
  return out;
}

function replaceAt(root: unknown, path: (string | number)[], value: unknown): unknown {
  if (path.length === 0) return value;
  const [head, ...rest] = path as [string | number, ...(string | number)[]];
  if (Array.isArray(root)) return (root as unknown[]).map((item, index) => (index === head ? replaceAt(item, rest, value) : item));
  return { ...(root as Record<string, unknown>), [head]: replaceAt((root as Record<string, unknown>)[head], rest, value) };
}
