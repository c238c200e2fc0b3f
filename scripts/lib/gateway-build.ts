/**
 * The gateway as npm start and the bench run it: JavaScript compiled by tsc
 * (tsconfig.build.json), because Node's type stripping costs each process about
 * 25 MB of RSS idle, 20–30 MB under load (bench/README.md, issue 16, fourth round). Tests and the other scripts run the
 * .ts sources as they are.
 *
 * A build is named by a hash of everything it is made of (dist/<hash>/):
 * a build of other sources cannot be taken for the current one, and a rebuild
 * never rewrites the files a running gateway still reads (its dashboard's assets).
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

/** The folders the gateway process imports from or reads at run time, relative to import.meta.dirname. */
const GATEWAY_FOLDERS = ['server', 'gateway', 'workers', 'usecases', 'ledger', 'adapters', 'queues', 'stores', 'telemetry', 'kernel', 'config', 'schemas'];
/** read at run time from outside those folders (gateway/openapi/routes.ts serves them) */
const ASSET_FOLDERS = ['docs/openapi'];
/** what decides the output besides the sources: the compiler's options and version, and the rules below */
const BUILD_FILES = ['tsconfig.json', 'tsconfig.build.json', 'package-lock.json', 'scripts/lib/gateway-build.ts'];
/** builds older than the newest few are removed: a gateway still running one has its modules loaded, only its static files would go */
const KEPT_BUILDS = 3;

/** beside the sources, where a deployment's tools look for a build; gitignored */
export const BUILD_DIR = ['dist'] as const;

function filesUnder(root: string, folder: string): string[] {
  const dir = join(root, folder);
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(root, join(entry.parentPath, entry.name)));
}

/**
 * A hash of the contents (and names) of every file a build is made of: a few tens of
 * milliseconds, so the launcher checks it at every start instead of trusting a date.
 */
export function sourceHash(root: string): string {
  const files = [...GATEWAY_FOLDERS, ...ASSET_FOLDERS].flatMap((folder) => filesUnder(root, folder));
  files.push(...BUILD_FILES.filter((file) => existsSync(join(root, file))));
  const hash = createHash('sha256');
  for (const file of files.sort()) {
    hash.update(`${file}\0`);
    hash.update(readFileSync(join(root, file)));
    hash.update('\0');
  }
  return hash.digest('hex').slice(0, 16);
}

export interface GatewayEntry {
  /** the script to fork */
  script: string;
  /** false: the .ts sources, since no build of them as they are now exists */
  compiled: boolean;
}

/** The compiled gateway when a build of the sources as they are now exists, else the .ts sources. */
export function gatewayEntry(root: string, options: { compiled?: boolean } = {}): GatewayEntry {
  const sources = { script: join(root, 'server', 'main.ts'), compiled: false };
  if (options.compiled === false) return sources;
  const script = join(root, ...BUILD_DIR, sourceHash(root), 'server', 'main.js');
  return existsSync(script) ? { script, compiled: true } : sources;
}

/**
 * Compiles the gateway unless a build of its current sources exists: tsc without its
 * type check (`npm run typecheck` does that; tsconfig's erasableSyntaxOnly leaves
 * nothing to it but erasing types), then the files it reads beside its modules.
 */
export function buildGateway(root: string): { dir: string; built: boolean; ms: number } {
  const started = performance.now();
  const hash = sourceHash(root);
  const buildRoot = join(root, ...BUILD_DIR);
  const dir = join(buildRoot, hash);
  if (existsSync(dir)) return { dir, built: false, ms: performance.now() - started };
  // built aside, then renamed: a build cut short is never found under its hash
  const partial = join(buildRoot, `.partial-${hash}-${process.pid}`);
  rmSync(partial, { recursive: true, force: true });
  mkdirSync(partial, { recursive: true });
  try {
    execFileSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'tsconfig.build.json'), '--outDir', partial, '--noCheck'], { cwd: root, stdio: 'inherit' });
    for (const folder of [...GATEWAY_FOLDERS, ...ASSET_FOLDERS]) {
      const source = join(root, folder);
      if (!existsSync(source)) continue;
      cpSync(source, join(partial, folder), { recursive: true, filter: (path) => !path.endsWith('.ts') || statSync(path).isDirectory() });
    }
    renameSync(partial, dir);
  } catch (error) {
    rmSync(partial, { recursive: true, force: true });
    // another setup may have made the same build meanwhile
    if (!existsSync(dir)) throw error;
  }
  pruneBuilds(buildRoot, hash);
  return { dir, built: true, ms: performance.now() - started };
}

function pruneBuilds(buildRoot: string, current: string): void {
  for (const name of readdirSync(buildRoot)) {
    // a build cut short (its setup killed) an hour ago
    if (name.startsWith('.partial-') && statSync(join(buildRoot, name)).mtimeMs < Date.now() - 3_600_000) rmSync(join(buildRoot, name), { recursive: true, force: true });
  }
  const builds = readdirSync(buildRoot)
    .filter((name) => /^[0-9a-f]{16}$/.test(name) && name !== current)
    .map((name) => ({ name, mtime: statSync(join(buildRoot, name)).mtimeMs }))
    .sort((a, b) => b.mtime - a.mtime);
  for (const { name } of builds.slice(KEPT_BUILDS - 1)) rmSync(join(buildRoot, name), { recursive: true, force: true });
}
