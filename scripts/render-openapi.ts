/**
 * Writes the OpenAPI documents (gateway/openapi/documents.ts) to docs/openapi/, one file
 * a document (`npm run docs:openapi`): the files partners are sent, and the gateway serves.
 */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildDocuments, documentText } from '../gateway/openapi/documents.ts';
import { OPENAPI_DIR } from '../gateway/openapi/routes.ts';

if (import.meta.main) {
  mkdirSync(OPENAPI_DIR, { recursive: true });
  const documents = buildDocuments();
  // a document no longer built must not linger beside the others
  for (const file of readdirSync(OPENAPI_DIR)) if (file.endsWith('.json') && !(file.slice(0, -'.json'.length) in documents)) rmSync(join(OPENAPI_DIR, file));
  for (const [name, document] of Object.entries(documents)) writeFileSync(join(OPENAPI_DIR, `${name}.json`), documentText(document));
  console.log(`docs/openapi/: ${Object.keys(documents).map((name) => `${name}.json`).join(', ')}`);
}
