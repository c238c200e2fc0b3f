/**
 * Imports run one way only: down the layers below, never up, never in a circle.
 *
 * Checked by `npm run lint` (so by `npm test`) and by test/unit/layers.test.ts,
 * which loads this same file. Paths are relative to the folder the cruise runs in
 * (the project's root).
 */

/**
 * Top to bottom. A layer may import any layer below it (skipping is allowed),
 * never one above it. Folders of one layer may import each other unless a rule
 * further down says otherwise.
 */
const LAYERS = [
  { name: 'entry', folders: ['server', 'scripts', 'bench', 'chaos'] },
  { name: 'edges', folders: ['gateway', 'workers'] },
  { name: 'usecases', folders: ['usecases'] },
  // telemetry counts by partner (PartnerId) and audits: above the domain it names, below the use cases that count
  { name: 'telemetry', folders: ['telemetry'] },
  { name: 'domain', folders: ['ledger', 'adapters', 'queues'] },
  { name: 'stores', folders: ['stores'] },
  { name: 'kernel', folders: ['kernel'] },
  { name: 'config', folders: ['config', 'schemas'] },
];

/** `^(a|b)/`: a path in one of these top-level folders. */
const under = (folders) => `^(${folders.join('|')})/`;

const layerRules = LAYERS.slice(1).map((layer, index) => {
  const above = LAYERS.slice(0, index + 1).flatMap((upper) => upper.folders);
  return {
    name: `layer-${layer.name}-imports-above`,
    comment: `${layer.folders.join(', ')} may import only the layers below: not ${above.join(', ')}.`,
    severity: 'error',
    from: { path: under(layer.folders) },
    to: { path: under(above) },
  };
});

/** The project's own code, the folders of every layer. */
const PROJECT = under(LAYERS.flatMap((layer) => layer.folders));

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    ...layerRules,
    {
      name: 'gateway-imports-workers',
      comment: 'The two edges stand side by side: the HTTP side does not import the BullMQ consumers.',
      severity: 'error',
      from: { path: '^gateway/' },
      to: { path: '^workers/' },
    },
    {
      name: 'workers-imports-gateway',
      comment: 'The two edges stand side by side: the BullMQ consumers do not import the HTTP side.',
      severity: 'error',
      from: { path: '^workers/' },
      to: { path: '^gateway/' },
    },
    {
      name: 'ledger-imports-adapters-or-queues',
      comment: 'The ledger knows neither the partners nor the job contract.',
      severity: 'error',
      from: { path: '^ledger/' },
      to: { path: '^(adapters|queues)/' },
    },
    {
      name: 'adapters-imports-ledger-or-queues',
      comment: 'The partner adapters know neither the ledger nor the job contract (queues/ may import adapters/, not the reverse).',
      severity: 'error',
      from: { path: '^adapters/' },
      to: { path: '^(ledger|queues)/' },
    },
    {
      name: 'schemas-imports-project',
      comment: 'schemas/ imports nothing of the project but itself (config/ may import schemas/, not the reverse).',
      severity: 'error',
      from: { path: '^schemas/' },
      to: { path: PROJECT, pathNot: '^schemas/' },
    },
    {
      name: 'partner-imports-other-partner',
      comment: 'A partner folder (adapters/<partner>/) does not import another partner folder; adapters/registry.ts and the other files directly in adapters/ may import any.',
      severity: 'error',
      from: { path: '^adapters/([^/]+)/' },
      to: { path: '^adapters/[^/]+/', pathNot: '^adapters/$1/' },
    },
    {
      name: 'source-imports-test',
      comment: 'Only bench/, chaos/ and scripts/ (and test/ itself) may import test/ helpers and simulators.',
      severity: 'error',
      from: { path: PROJECT, pathNot: under(['bench', 'chaos', 'scripts']) },
      to: { path: '^test/' },
    },
    {
      name: 'no-circular',
      comment: 'No module imports itself through others, type-only imports included.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'not-to-unresolvable',
      comment: 'Every import resolves to a file or a package: a mistyped path cannot slip past the rules above.',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    // Packages are resolved (so a missing one is reported) but not cruised into.
    doNotFollow: { path: '(^|/)node_modules/' },
    // `import type` counts: a cycle or an upward import through types is one all the same.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    moduleSystems: ['es6', 'cjs'],
    enhancedResolveOptions: {
      extensions: ['.ts', '.js', '.mjs', '.cjs', '.json', '.d.ts'],
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'types', 'default'],
      mainFields: ['module', 'main', 'types', 'typings'],
    },
    skipAnalysisNotInRules: true,
  },
};
