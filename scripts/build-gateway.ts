/**
 * Compiles the gateway for npm start and the bench when its sources changed
 * (scripts/setup.sh runs it; see scripts/lib/gateway-build.ts).
 */
import { join, relative } from 'node:path';
import { buildGateway } from './lib/gateway-build.ts';

const root = join(import.meta.dirname, '..');
const { dir, built, ms } = buildGateway(root);
if (built) console.log(`setup: gateway compiled to ${relative(process.cwd(), dir)} in ${(ms / 1000).toFixed(1)} s`);
