/**
 * Reads V8 CPU profiles (`node --cpu-prof`, as `npm run bench -- --profile`
 * writes them under bench/profiles/) and prints where the time went: self time
 * by function and by package or source folder, and the inclusive time of the
 * gateway's own functions.
 *
 *   node bench/profile-summary.ts bench/profiles/<run>/api-*.cpuprofile [--top=30]
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

const args = process.argv.slice(2);
const top = Number(args.find((arg) => arg.startsWith('--top='))?.slice(6) ?? '30');
const files = args.filter((arg) => !arg.startsWith('--'));
if (files.length === 0) {
  process.stderr.write('usage: node bench/profile-summary.ts <file.cpuprofile>... [--top=30]\n');
  process.exit(2);
}

/** Where a frame comes from: a package, a folder of this repository, or the runtime. */
function origin(url: string, name: string): string {
  if (!url) return name === '(garbage collector)' ? '(gc)' : name.startsWith('(') ? name : '(native)';
  const nodeModules = url.lastIndexOf('/node_modules/');
  if (nodeModules >= 0) {
    const rest = url.slice(nodeModules + 14).split('/');
    return rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1] ?? ''}` : (rest[0] ?? '?');
  }
  if (url.startsWith('node:')) return url;
  const repo = /\/(gateway|adapters|queues|ledger|schemas|config|bench|test|scripts)\/(.*)$/.exec(url);
  if (repo) return `${repo[1]}/${repo[2]}`;
  return url;
}

for (const file of files) {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  // self time per node from samples and time deltas (microseconds)
  const selfUs = new Map<number, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  for (let i = 0; i < samples.length; i++) {
    const id = samples[i] ?? 0;
    selfUs.set(id, (selfUs.get(id) ?? 0) + (deltas[i + 1] ?? deltas[i] ?? 0));
  }
  const total = [...selfUs.values()].reduce((sum, us) => sum + us, 0);
  let idle = 0;
  const selfByFunction = new Map<string, number>();
  const selfByOrigin = new Map<string, number>();
  const inclusiveOwn = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const node = byId.get(id);
    if (!node) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === '(idle)') {
      idle += us;
      continue;
    }
    const where = origin(url, functionName);
    const key = `${functionName || '(anonymous)'} ${where}:${lineNumber + 1}`;
    selfByFunction.set(key, (selfByFunction.get(key) ?? 0) + us);
    selfByOrigin.set(where, (selfByOrigin.get(where) ?? 0) + us);
    // inclusive time of this repository's functions: walk up the stack once per frame
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const frame = byId.get(at)?.callFrame;
      if (!frame) break;
      const own = origin(frame.url, frame.functionName);
      if (!/^(gateway|adapters|queues|ledger|schemas)\//.test(own)) continue;
      const name = `${frame.functionName || '(anonymous)'} ${own}:${frame.lineNumber + 1}`;
      if (seen.has(name)) continue;
      seen.add(name);
      inclusiveOwn.set(name, (inclusiveOwn.get(name) ?? 0) + us);
    }
  }
  const busy = total - idle;
  const pct = (us: number) => `${((100 * us) / Math.max(1, busy)).toFixed(1).padStart(5)}%`;
  const list = (title: string, map: Map<string, number>, count: number) => {
    process.stdout.write(`\n${title}\n`);
    for (const [name, us] of [...map].sort((a, b) => b[1] - a[1]).slice(0, count)) process.stdout.write(`  ${pct(us)} ${(us / 1000).toFixed(0).padStart(7)} ms  ${name}\n`);
  };
  process.stdout.write(`\n=== ${file}\nsampled ${(total / 1e6).toFixed(1)} s, busy ${(busy / 1e6).toFixed(1)} s (${((100 * busy) / Math.max(1, total)).toFixed(0)}%); percentages are of busy time\n`);
  list('self time by package / folder', selfByOrigin, top);
  list('self time by function', selfByFunction, top);
  list('inclusive time of the gateway\'s own functions', inclusiveOwn, top);
}
