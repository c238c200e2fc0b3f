import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { expect } from 'chai';
import { cruise, type ICruiseResult } from 'dependency-cruiser';
import extractDepcruiseOptions from 'dependency-cruiser/config-utl/extract-depcruise-options';
import extractTSConfig from 'dependency-cruiser/config-utl/extract-ts-config';

const ROOT = join(import.meta.dirname, '..', '..');
/** The one rule set: the same file `npm run lint` cruises the project with. */
const RULES = join(ROOT, '.dependency-cruiser.cjs');

/** A small tree laid out like the project's, each file with its imports. */
const TREE: Record<string, string[]> = {
  // allowed: down the layers, skipping some; partner folders from adapters/ itself; test helpers from bench/
  'server/main.ts': ['../gateway/ok.ts', '../workers/w.ts', '../config/settings.ts'],
  'bench/run.ts': ['../test/helpers/h.ts', '../server/main.ts'],
  'gateway/ok.ts': ['../kernel/a.ts', '../usecases/u.ts'],
  'workers/w.ts': ['../queues/job.ts', '../ledger/l.ts'],
  'usecases/u.ts': ['../adapters/registry.ts', '../telemetry/t.ts'],
  'adapters/registry.ts': ['./province/x.ts', './changsha/y.ts', './hunan/z.ts', './types.ts'],
  'adapters/types.ts': [],
  'adapters/province/x.ts': ['../changsha/y.ts', './own.ts', '../types.ts'],
  'adapters/province/own.ts': [],
  'adapters/changsha/y.ts': [],
  'adapters/hunan/z.ts': ['../province/own.ts'],
  'queues/job.ts': ['../adapters/types.ts'],
  'ledger/l.ts': ['../adapters/types.ts', '../stores/s.ts'],
  'telemetry/t.ts': ['../stores/store.ts', '../schemas/ok.ts', '../adapters/types.ts'],
  'stores/store.ts': ['../kernel/a.ts'],
  'stores/s.ts': ['../usecases/u.ts', '../kernel/a.ts'],
  'kernel/a.ts': ['../gateway/b.ts', '../config/settings.ts'],
  'kernel/one.ts': ['./two.ts'],
  'kernel/two.ts': ['./one.ts'],
  'kernel/typo.ts': ['./erors.ts'],
  'gateway/b.ts': [],
  'gateway/c.ts': ['../workers/w.ts'],
  'config/settings.ts': ['../schemas/ok.ts'],
  'schemas/ok.ts': [],
  'schemas/bad.ts': ['../config/settings.ts'],
  'test/helpers/h.ts': ['../../kernel/a.ts'],
  // one upward import for each of the other rules
  'gateway/up.ts': ['../server/main.ts'],
  'workers/g.ts': ['../gateway/b.ts'],
  'workers/t.ts': ['../test/helpers/h.ts'],
  'usecases/up.ts': ['../workers/w.ts'],
  'queues/up.ts': ['../usecases/u.ts'],
  'adapters/led.ts': ['./types.ts', '../ledger/l.ts'],
  'telemetry/up.ts': ['../usecases/u.ts'],
  'ledger/up.ts': ['../telemetry/t.ts'],
  'config/up.ts': ['../kernel/a.ts'],
};

/** Imports written `import type` only: they count all the same (tsPreCompilationDeps). */
const TYPE_ONLY = new Set(['kernel/one.ts', 'ledger/l.ts']);

/** Every import of TREE that breaks a rule, and the rule it breaks. */
const BAD = [
  { rule: 'layer-kernel-imports-above', from: 'kernel/a.ts', to: 'gateway/b.ts' },
  { rule: 'layer-stores-imports-above', from: 'stores/s.ts', to: 'usecases/u.ts' },
  { rule: 'partner-imports-other-partner', from: 'adapters/province/x.ts', to: 'adapters/changsha/y.ts' },
  { rule: 'partner-imports-other-partner', from: 'adapters/hunan/z.ts', to: 'adapters/province/own.ts' },
  // a cycle is reported once, at its first module; kernel/one.ts → kernel/two.ts is `import type`
  { rule: 'no-circular', from: 'kernel/one.ts', to: 'kernel/two.ts' },
  { rule: 'not-to-unresolvable', from: 'kernel/typo.ts', to: './erors.ts' },
  { rule: 'gateway-imports-workers', from: 'gateway/c.ts', to: 'workers/w.ts' },
  { rule: 'ledger-imports-adapters-or-queues', from: 'ledger/l.ts', to: 'adapters/types.ts' },
  { rule: 'schemas-imports-project', from: 'schemas/bad.ts', to: 'config/settings.ts' },
  { rule: 'layer-edges-imports-above', from: 'gateway/up.ts', to: 'server/main.ts' },
  { rule: 'workers-imports-gateway', from: 'workers/g.ts', to: 'gateway/b.ts' },
  { rule: 'source-imports-test', from: 'workers/t.ts', to: 'test/helpers/h.ts' },
  { rule: 'layer-usecases-imports-above', from: 'usecases/up.ts', to: 'workers/w.ts' },
  { rule: 'layer-domain-imports-above', from: 'queues/up.ts', to: 'usecases/u.ts' },
  { rule: 'adapters-imports-ledger-or-queues', from: 'adapters/led.ts', to: 'ledger/l.ts' },
  { rule: 'layer-telemetry-imports-above', from: 'telemetry/up.ts', to: 'usecases/u.ts' },
  { rule: 'layer-domain-imports-above', from: 'ledger/up.ts', to: 'telemetry/t.ts' },
  { rule: 'layer-config-imports-above', from: 'config/up.ts', to: 'kernel/a.ts' },
];

function source(file: string, imports: string[]): string {
  const keyword = TYPE_ONLY.has(file) ? 'import type' : 'import';
  const lines = imports.map((path, index) => `${keyword} * as m${index} from '${path}';`);
  const uses = imports.map((_, index) => `m${index}`);
  return `${lines.join('\n')}\nexport type Uses = [${uses.map((name) => `typeof ${name}`).join(', ')}];\nexport const here = '${file}';\n`;
}

describe('Import layers (.dependency-cruiser.cjs)', () => {
  let dir: string;
  let found: { rule: string; from: string; to: string }[];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'zzgw-layers-'));
    for (const [file, imports] of Object.entries(TREE)) {
      mkdirSync(join(dir, dirname(file)), { recursive: true });
      writeFileSync(join(dir, file), source(file, imports));
    }
    const options = await extractDepcruiseOptions(RULES);
    const tsConfigFile = join(ROOT, 'tsconfig.json');
    const folders = [...new Set(Object.keys(TREE).map((file) => file.split('/')[0] ?? file))];
    // the rule set names tsconfig.json relative to the project's root: name it absolutely here
    const result = await cruise(
      folders,
      { ...options, baseDir: dir, tsConfig: { fileName: tsConfigFile } },
      {},
      { tsConfig: extractTSConfig(tsConfigFile) },
    );
    const output = result.output as ICruiseResult;
    // every `.ts` import resolved to its file, but for the mistyped ./erors.ts
    expect(output.summary.totalCruised).to.equal(Object.keys(TREE).length + 1);
    found = output.summary.violations.map((violation) => ({ rule: violation.rule.name, from: violation.from, to: violation.to }));
  });

  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  for (const bad of BAD) {
    it(`when ${bad.from} imports ${bad.to}, the cruise reports it under ${bad.rule}`, () => {
      expect(found).to.deep.include(bad);
    });
  }

  it('when files import down the layers, partner folders from adapters/ itself, or test helpers from bench/, the cruise reports nothing more', () => {
    const key = (violation: { rule: string; from: string; to: string }) => `${violation.rule}: ${violation.from} → ${violation.to}`;
    expect(found.map(key).sort()).to.deep.equal(BAD.map(key).sort());
    expect(found.filter((violation) => ['gateway/ok.ts', 'adapters/registry.ts', 'queues/job.ts', 'bench/run.ts'].includes(violation.from))).to.deep.equal([]);
  });
});
