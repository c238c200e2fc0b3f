import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..', '..');

/**
 * The files of git revision `rev` (all of them, or only `paths`), extracted afresh under
 * .data/bench-baseline/<rev><suffix>, with this checkout's node_modules beside them: a
 * baseline to run or import in the same sitting as the working tree.
 */
export function revisionTree(rev: string, options: { suffix?: string; paths?: readonly string[] } = {}): string {
  const dir = join(ROOT, '.data', 'bench-baseline', `${rev.replace(/[^A-Za-z0-9_.-]/g, '_')}${options.suffix ?? ''}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const archive = execFileSync('git', ['archive', rev, ...(options.paths ?? [])], { cwd: ROOT, maxBuffer: 256 * 1024 * 1024 });
  execFileSync('tar', ['-x', '-C', dir], { input: archive });
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  return dir;
}
