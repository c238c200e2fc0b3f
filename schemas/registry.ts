import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv, type AnySchemaObject, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { isValidBeijingTimestamp, isValidOffsetDateTime } from './formats.ts';

// ajv-formats ships CommonJS with a default export that TS sees one level down.
const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default;

const schemasDir = dirname(fileURLToPath(import.meta.url));

/** One ajv instance for the whole process: every schema is compiled once, at first import. */
// strictRequired and strictTypes are off: if/then branches name properties declared beside them, not inside.
const ajv = new Ajv({ allErrors: true, strict: true, strictRequired: false, strictTypes: false });
addFormats(ajv, ['date', 'uri']);
// RFC 3339 with a full offset, and only times Date.parse reads: ajv-formats' date-time
// also takes `+08` and leap seconds, which no worker could then compute with.
ajv.addFormat('date-time', { type: 'string', validate: isValidOffsetDateTime });
ajv.addFormat('yyyyMMddHHmmss', { type: 'string', validate: isValidBeijingTimestamp });

function schemaFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return schemaFiles(path);
    return name.endsWith('.json') ? [path] : [];
  });
}

/** At most this many violations are listed: an unauthenticated body must not get an answer larger than itself. */
export const MAX_VIOLATIONS = 50;

const validators = new Map<string, ValidateFunction>();
for (const file of schemaFiles(schemasDir)) {
  const schema = JSON.parse(readFileSync(file, 'utf8')) as AnySchemaObject;
  if (typeof schema.$id !== 'string') throw new Error(`schema ${file} has no $id`);
  ajv.addSchema(schema);
}
for (const file of schemaFiles(schemasDir)) {
  const { $id } = JSON.parse(readFileSync(file, 'utf8')) as { $id: string };
  const validate = ajv.getSchema($id);
  if (!validate) throw new Error(`schema ${$id} did not compile`);
  validators.set($id, validate);
}

export const SCHEMA_BASE = 'https://zzgw.local/schemas/';

/**
 * The schema object a validator was compiled from (`partners/province/apply.json`), for
 * documents that describe what the gateway enforces (gateway/openapi/): the same object, never a copy.
 */
export function schemaObject(relativeId: string): Readonly<AnySchemaObject> {
  const validate = validators.get(SCHEMA_BASE + relativeId);
  if (!validate) throw new Error(`unknown schema ${relativeId}`);
  return validate.schema as AnySchemaObject;
}

/** The ids (relative to SCHEMA_BASE) of every schema file compiled, in a stable order. */
export function schemaIds(): string[] {
  return [...validators.keys()].map((id) => id.slice(SCHEMA_BASE.length)).sort();
}

export interface Violation {
  /** JSON Pointer into the message */
  path: string;
  message: string;
}

export type ValidationResult<T> = { ok: true; value: T } | { ok: false; violations: Violation[] };

/** Returns a typed guard for one schema; the schema was compiled when this module loaded. */
export function validatorFor<T>(relativeId: string): (input: unknown) => ValidationResult<T> {
  // `file.json#/pointer` names a part of a schema (one section of the configuration)
  const validate = validators.get(SCHEMA_BASE + relativeId) ?? (relativeId.includes('#') ? ajv.getSchema(SCHEMA_BASE + relativeId) : undefined);
  if (!validate) throw new Error(`unknown schema ${relativeId}`);
  return (input: unknown) => {
    if (validate(input)) return { ok: true, value: input as T };
    return { ok: false, violations: toViolations(validate.errors ?? []) };
  };
}

function escapePointerToken(token: string): string {
  return token.replace(/~/g, '~0').replace(/\//g, '~1');
}

export function toViolations(errors: readonly ErrorObject[]): Violation[] {
  const seen = new Set<string>();
  const violations: Violation[] = [];
  for (const error of errors) {
    let path = error.instancePath;
    let message = error.message ?? 'is invalid';
    switch (error.keyword) {
      case 'required':
        path = `${path}/${escapePointerToken(String(error.params['missingProperty']))}`;
        message = 'is required';
        break;
      case 'additionalProperties':
        message = `must NOT have additional properties: ${String(error.params['additionalProperty'])}`;
        break;
      case 'format':
        message = `must match format ${String(error.params['format'])}`;
        break;
      case 'enum':
        message = `must be one of ${(error.params['allowedValues'] as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
        break;
      case 'false schema':
        message = 'is not allowed here';
        break;
      case 'if':
        // the branch that failed is already reported on its own
        continue;
      default:
        break;
    }
    const key = `${path}\u0000${message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    violations.push({ path, message });
  }
  if (violations.length <= MAX_VIOLATIONS) return violations;
  return [...violations.slice(0, MAX_VIOLATIONS), { path: '', message: `and ${violations.length - MAX_VIOLATIONS} more violations` }];
}
