import { SCHEMA_BASE, schemaObject } from '../../schemas/registry.ts';

/**
 * The JSON Schemas of schemas/ as OpenAPI components: the very objects the validators
 * were compiled from (schemas/registry.ts), with two mechanical changes so that one
 * self-contained document holds them: `$id` goes (its path stays as `x-schema-id`), and
 * every `$ref` (`common.json#/$defs/time`, `#/$defs/requestId`) points at the component
 * it names (`#/components/schemas/ProvinceCommon/$defs/time`). Nothing else is touched,
 * so what a document says is what the gateway enforces.
 */

/** A JSON value as it appears in a schema. */
type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** A component's name: the schema's `title` (unique across schemas/, checked when named). */
export function componentName(relativeId: string): string {
  const title: unknown = schemaObject(relativeId)['title'];
  if (typeof title !== 'string' || !/^[A-Za-z0-9._-]+$/.test(title)) throw new Error(`schema ${relativeId} needs a title usable as a component name`);
  return title;
}

/** `common.json#/$defs/time` read from `partners/province/apply.json`: the schema it names and the pointer inside it. */
function resolveRef(ref: string, fromId: string): { relativeId: string; pointer: string } {
  const url = new URL(ref, SCHEMA_BASE + fromId);
  const target = url.href.slice(0, url.href.length - url.hash.length);
  if (!target.startsWith(SCHEMA_BASE)) throw new Error(`$ref ${ref} in ${fromId} leaves schemas/`);
  return { relativeId: target.slice(SCHEMA_BASE.length), pointer: decodeURIComponent(url.hash.slice(1)) };
}

/** Rewrites one schema for the document; `need` is told of every other schema it refers to. */
export function componentOf(relativeId: string, need: (relativeId: string) => void): Json {
  const rewrite = (node: Json, root: boolean): Json => {
    if (Array.isArray(node)) return node.map((item) => rewrite(item, false));
    if (node === null || typeof node !== 'object') return node;
    const out: { [key: string]: Json } = {};
    if (root) out['x-schema-id'] = relativeId;
    for (const [key, value] of Object.entries(node)) {
      if (root && (key === '$id' || key === '$schema')) continue;
      if (key === '$ref' && typeof value === 'string') {
        const target = resolveRef(value, relativeId);
        if (target.relativeId !== relativeId) need(target.relativeId);
        out[key] = `#/components/schemas/${componentName(target.relativeId)}${target.pointer}`;
        continue;
      }
      // the keys of `properties` and `$defs` are names, not keywords: only their values are schemas
      out[key] = rewrite(value, false);
    }
    return out;
  };
  return rewrite(schemaObject(relativeId), true);
}

/** The components one document needs: those it names and, transitively, those they refer to. */
export class SchemaComponents {
  readonly #schemas = new Map<string, Json>();

  /** `{ $ref }` to the component of `relativeId` (`partners/province/apply.json`), added with all it needs. */
  ref(relativeId: string, pointer = ''): { $ref: string } {
    this.#add(relativeId);
    return { $ref: `#/components/schemas/${componentName(relativeId)}${pointer}` };
  }

  #add(relativeId: string): void {
    const name = componentName(relativeId);
    if (this.#schemas.has(name)) return;
    this.#schemas.set(name, null);
    this.#schemas.set(name, componentOf(relativeId, (other) => this.#add(other)));
  }

  /** Sorted by name, so that a document's text does not depend on the order of its operations. */
  toJSON(): Record<string, Json> {
    return Object.fromEntries([...this.#schemas.entries()].sort(([a], [b]) => a.localeCompare(b)));
  }
}
