/**
 * Rewrites the README's configuration table from config/env.ts and
 * config/default.json (`npm run docs:config`), between its two markers.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ENV_SETTINGS } from '../config/env.ts';
import { DEFAULT_GATEWAY_NODE_OPTIONS } from '../config/launch.ts';

const root = join(import.meta.dirname, '..');
const START = '<!-- config-table:start -->';
const END = '<!-- config-table:end -->';

export function renderConfigTable(): string {
  const defaults = JSON.parse(readFileSync(join(root, 'config', 'default.json'), 'utf8')) as Record<string, unknown>;
  const valueAt = (path: readonly string[]): unknown => path.reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], defaults);
  const show = (value: unknown): string => {
    if (value === null || value === undefined) return '—';
    if (Array.isArray(value)) return value.length === 0 ? '(none)' : value.every((item) => typeof item !== 'object') ? value.join(',') : `${value.length} entries in config/default.json`;
    if (typeof value === 'object') return `\`${JSON.stringify(value)}\``;
    return JSON.stringify(value).replace(/^"|"$/g, '');
  };
  const rows = ENV_SETTINGS.map((setting) => `| \`${setting.name}\` | ${setting.description.replace(/\|/g, '\\|')} | ${setting.secret ? '— (secret)' : show(valueAt(setting.path))} |`);
  return [
    START,
    '| variable | meaning | default |',
    '|---|---|---|',
    '| `GATEWAY_CONFIG` | a JSON file merged over `config/default.json` | — |',
    ...rows,
    '| `SIMULATOR_INTERVAL_MS` | `npm start` only: pause between simulated partner messages | 3000 |',
    '| `SIMULATOR_SEED` | `npm start` only: seed of what the simulated guest centers and Changsha decide (approve, reject, answer slowly, out of order; offer or decline), to see a run\'s decisions again | drawn and printed at start |',
    '| `TRIAL_GATEWAY_LOGS` | `npm start` trial only: where the gateway\'s JSON log lines go. `file`: to `.data/logs/gateway-<start time>.jsonl` (the last 10 kept; the path is said at start), the terminal showing the narrative and the gateway\'s warnings and errors in plain words; `stdout`: on standard output as in production; `auto`: `file` on a terminal, else `stdout`. A deployment (a partner URL given) always logs JSON to standard output | auto |',
    `| \`GATEWAY_NODE_OPTIONS\` | \`npm start\` (and the bench): node options of the gateway process; give them to \`node server/main.ts\` yourself when you start it another way | \`${DEFAULT_GATEWAY_NODE_OPTIONS}\` |`,
    "| `MALLOC_ARENA_MAX` | `npm start` (and the bench): glibc's malloc arenas in the gateway process. 2 lowered a worker's peak RSS by about 11 MB and raised the api's by about 20 MB (bench/README.md, issue 16, fourth round) | glibc's own |",
    END,
  ].join('\n');
}

if (import.meta.main) {
  const path = join(root, 'README.md');
  const readme = readFileSync(path, 'utf8');
  const start = readme.indexOf(START);
  const end = readme.indexOf(END);
  if (start < 0 || end < 0) throw new Error('README.md lacks the config-table markers');
  writeFileSync(path, readme.slice(0, start) + renderConfigTable() + readme.slice(end + END.length));
  console.log('README.md configuration table rewritten');
}
