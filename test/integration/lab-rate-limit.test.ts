import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { createApp } from '../../gateway/app.ts';
import { LAB_RUNS_PER_MINUTE } from '../../gateway/dashboard/views/lab.ts';
import { createLogger } from '../../kernel/logger.ts';
import { createRuntime } from '../../server/runtime.ts';
import type { Runtime } from '../../usecases/runtime.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { loggedIn, OpsClient } from '../helpers/ops-client.ts';

describe('message lab: the runs of an operator are limited across api processes', () => {
  let gateway: TestGateway;
  let second: { runtime: Runtime; server: Server; url: string };

  before(async () => {
    gateway = await startTestGateway({ workers: false });
    // a second api process of the same gateway: same Redis, same namespace, its own memory
    const runtime = createRuntime(gateway.config, { logger: createLogger(gateway.config.logLevel) });
    await runtime.ready();
    const server = createApp(runtime).listen(0, '127.0.0.1');
    await once(server, 'listening');
    second = { runtime, server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
  });
  after(async () => {
    second.server.closeAllConnections();
    await new Promise<void>((resolve) => second.server.close(() => resolve()));
    await second.runtime.close();
    await gateway.close();
  });

  it(`an operator sharing ${LAB_RUNS_PER_MINUTE} runs a minute between two api processes is refused the next one on either (429)`, async () => {
    const first = await loggedIn(gateway, 'lab-limited', 'operator');
    // the session lives in Redis: the same cookie and CSRF token hold on the other process
    const other = new OpsClient(second.url);
    other.cookie = first.cookie;
    other.csrf = first.csrf;
    const run = (client: OpsClient) => client.request('POST', '/ops/api/lab', { partner: 'province', operation: 'apply', raw: '{}' });
    for (let n = 0; n < LAB_RUNS_PER_MINUTE; n += 1) {
      const answer = await run(n % 2 === 0 ? first : other);
      expect(answer.status, `run ${n + 1}`).to.equal(200);
    }
    const refusedHere = await run(first);
    const refusedThere = await run(other);
    expect([refusedHere.status, refusedThere.status]).to.deep.equal([429, 429]);
    expect(Number(refusedThere.headers['retry-after'])).to.be.within(1, 60);
    // another operator's budget is untouched
    const colleague = await loggedIn(gateway, 'lab-colleague', 'operator');
    expect((await run(colleague)).status).to.equal(200);
  });
});
