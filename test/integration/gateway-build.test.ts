import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { buildGateway, BUILD_DIR, gatewayEntry, sourceHash } from '../../scripts/lib/gateway-build.ts';
import { deleteNamespace, stopProcess, testEnv, testRedisUrl, type StartedMessage } from '../helpers/gateway.ts';

const ROOT = join(import.meta.dirname, '..', '..');

describe('the compiled gateway (npm start and the bench)', function () {
  this.timeout(60_000);

  describe('which entry the launcher takes', () => {
    let root: string;
    beforeEach(() => {
      root = mkdtempSync(join(tmpdir(), 'zzgw-build-'));
      mkdirSync(join(root, 'server'));
      mkdirSync(join(root, 'ledger'));
      writeFileSync(join(root, 'server', 'main.ts'), 'export {};\n');
      writeFileSync(join(root, 'ledger', 'decide.lua'), 'return 1\n');
    });
    afterEach(() => rmSync(root, { recursive: true, force: true }));

    const pretendBuilt = () => {
      const dir = join(root, ...BUILD_DIR, sourceHash(root), 'server');
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'main.js'), 'export {};\n');
    };

    it('runs the .ts sources while no build of them exists, the build once one does', () => {
      expect(gatewayEntry(root)).to.deep.equal({ script: join(root, 'server', 'main.ts'), compiled: false });
      pretendBuilt();
      expect(gatewayEntry(root)).to.deep.equal({ script: join(root, ...BUILD_DIR, sourceHash(root), 'server', 'main.js'), compiled: true });
      expect(gatewayEntry(root, { compiled: false }).compiled).to.equal(false);
    });

    it('never runs a build of other sources: an edited script, an added file or a removed one sends it back to the .ts sources', () => {
      pretendBuilt();
      writeFileSync(join(root, 'ledger', 'decide.lua'), 'return 2\n');
      expect(gatewayEntry(root).compiled).to.equal(false);
      pretendBuilt();
      writeFileSync(join(root, 'ledger', 'lifecycle.lua'), 'return 3\n');
      expect(gatewayEntry(root).compiled).to.equal(false);
      pretendBuilt();
      rmSync(join(root, 'ledger', 'lifecycle.lua'));
      expect(gatewayEntry(root).compiled).to.equal(true, 'back to the sources of the first build');
      rmSync(join(root, 'ledger', 'decide.lua'));
      expect(gatewayEntry(root).compiled).to.equal(false);
    });
  });

  /** Starts a compiled gateway's api from `script` on a free port; its base URL. */
  async function startCompiled(script: string, namespace: string): Promise<{ child: ChildProcess; url: string }> {
    const child = fork(script, [], {
      env: { ...process.env, ...testEnv(namespace, 'http://127.0.0.1:9'), GATEWAY_ROLE: 'api', HOST: '127.0.0.1', PORT: '0' },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const started = await new Promise<StartedMessage>((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`compiled gateway exited with ${code}`)));
      child.on('message', (message: Partial<StartedMessage>) => {
        if (message.type === 'listening') resolve({ ...message, type: message.type });
      });
    });
    return { child, url: `http://127.0.0.1:${started.port}` };
  }

  /** Every page and asset the gateway reads from disk per request answers 200. */
  async function expectFilesServed(url: string): Promise<void> {
    for (const path of ['/docs/', '/docs/docs.js', '/docs/swagger-ui/swagger-ui.css', '/ops/', '/ops/static/app.js', '/ops/static/views/overview.js', '/ops/static/app.css', '/ops/static/vendor/echarts.min.js']) {
      const answer = await fetch(`${url}${path}`);
      await answer.arrayBuffer();
      expect(answer.status, path).to.equal(200);
    }
  }

  describe('as built by setup', () => {
    const namespace = `build-${randomBytes(4).toString('hex')}`;
    let child: ChildProcess | undefined;
    let url = '';

    before(async function () {
      this.timeout(120_000);
      // a no-op when setup built these sources already
      const { dir } = buildGateway(ROOT);
      const entry = gatewayEntry(ROOT);
      expect(entry).to.deep.equal({ script: join(dir, 'server', 'main.js'), compiled: true });
      ({ child, url } = await startCompiled(entry.script, namespace));
    });

    after(async () => {
      if (child) await stopProcess(child);
      await deleteNamespace(testRedisUrl(), namespace);
    });

    // every file it reads beside its modules (scripts, schemas, defaults) was read at start; these are read per request
    it('serves the files it reads from disk: the OpenAPI documents, their viewer, the dashboard page and its assets', async () => {
      const listed = (await (await fetch(`${url}/openapi/`)).json()) as { documents: { name: string }[] };
      const documents = readdirSync(join(ROOT, 'docs', 'openapi')).filter((file) => file.endsWith('.json'));
      expect(listed.documents.map((document) => `${document.name}.json`)).to.have.members(documents).and.have.length(documents.length);
      await expectFilesServed(url);
    });
  });

  describe('installed under a dot-folder', () => {
    const namespace = `build-${randomBytes(4).toString('hex')}`;
    let home = '';
    let child: ChildProcess | undefined;

    after(async () => {
      if (child) await stopProcess(child);
      await deleteNamespace(testRedisUrl(), namespace);
      rmSync(home, { recursive: true, force: true });
    });

    // Express's sendFile refuses a path through a dot-folder unless it is given the root apart
    it('serves its pages and assets from a path such as ~/.local/…, where a dot-folder is part of the install path', async function () {
      this.timeout(120_000);
      const { dir } = buildGateway(ROOT);
      home = mkdtempSync(join(tmpdir(), 'zzgw-dot-'));
      const installed = join(home, '.local', 'gateway');
      cpSync(dir, installed, { recursive: true });
      writeFileSync(join(installed, 'package.json'), JSON.stringify({ type: 'module' }));
      symlinkSync(join(ROOT, 'node_modules'), join(installed, 'node_modules'));
      const started = await startCompiled(join(installed, 'server', 'main.js'), namespace);
      child = started.child;
      await expectFilesServed(started.url);
    });
  });
});
