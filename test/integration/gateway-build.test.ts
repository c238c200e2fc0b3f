import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
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
      child = fork(entry.script, [], {
        env: { ...process.env, ...testEnv(namespace, 'http://127.0.0.1:9'), GATEWAY_ROLE: 'api', HOST: '127.0.0.1', PORT: '0' },
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      });
      const running = child;
      const started = await new Promise<StartedMessage>((resolve, reject) => {
        running.once('exit', (code) => reject(new Error(`compiled gateway exited with ${code}`)));
        running.on('message', (message: Partial<StartedMessage>) => {
          if (message.type === 'listening') resolve({ ...message, type: message.type });
        });
      });
      url = `http://127.0.0.1:${started.port}`;
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
      for (const path of ['/docs/', '/docs/docs.js', '/ops/', '/ops/static/app.js', '/ops/static/views/overview.js', '/ops/static/app.css']) {
        const answer = await fetch(`${url}${path}`);
        await answer.arrayBuffer();
        expect(answer.status, path).to.equal(200);
      }
    });
  });
});
