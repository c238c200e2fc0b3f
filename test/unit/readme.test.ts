import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderConfigTable } from '../../scripts/render-config-table.ts';

describe('README', () => {
  it('when a setting is added, removed or its default changes, the configuration table is stale until `npm run docs:config`', () => {
    const readme = readFileSync(join(import.meta.dirname, '..', '..', 'README.md'), 'utf8');
    expect(readme).to.include(renderConfigTable());
  });

  it('opens with the two commands', () => {
    const readme = readFileSync(join(import.meta.dirname, '..', '..', 'README.md'), 'utf8');
    const firstBlock = /```sh\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
    expect(firstBlock.split('\n').filter((line) => line.trim() !== '').map((line) => line.split('#')[0]?.trim())).to.deep.equal(['npm start', 'npm test']);
  });
});
