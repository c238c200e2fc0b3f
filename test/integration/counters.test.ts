import { expect } from 'chai';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { PendingCounters } from '../../telemetry/pending-counters.ts';

describe('statistics counters waiting in the process (real Redis)', () => {
  let gateway: TestGateway;
  let counters: PendingCounters;
  const errors: unknown[] = [];
  const key = (name: string) => `${gateway.config.redis.namespace}:{ops}:test:${name}`;

  before(async () => {
    gateway = await startTestGateway({ workers: false });
  });
  after(async () => {
    await gateway.close();
  });
  beforeEach(() => {
    errors.length = 0;
    counters = new PendingCounters(gateway.runtime.redis, (error) => errors.push(error));
  });

  it('when counts are added, Redis sees nothing until the flush, then their sums in one go', async () => {
    counters.increment(key('sums'), 'in:2xx');
    counters.increment(key('sums'), 'in:2xx', { by: 2 });
    counters.increment(key('sums'), 'in:4xx');
    expect(await gateway.runtime.redis.hgetall(key('sums'))).to.deep.equal({});
    await counters.flush();
    expect(await gateway.runtime.redis.hgetall(key('sums'))).to.deep.equal({ 'in:2xx': '3', 'in:4xx': '1' });
    expect(errors).to.deep.equal([]);
  });

  it('when a time is given twice, the later one is written whatever the order', async () => {
    counters.latest(key('last'), 'lastIn', 2000);
    counters.latest(key('last'), 'lastIn', 1000);
    await counters.flush();
    expect(await gateway.runtime.redis.hget(key('last'), 'lastIn')).to.equal('2000');
  });

  it('when a key has a time to live, the flush sets it; others are left without', async () => {
    counters.increment(key('expiring'), 'n', { ttlSeconds: 60 });
    counters.increment(key('kept'), 'n');
    await counters.flush();
    expect(await gateway.runtime.redis.ttl(key('expiring'))).to.be.within(1, 60);
    expect(await gateway.runtime.redis.ttl(key('kept'))).to.equal(-1);
  });

  it('when nothing is flushed by hand, the counts reach Redis by themselves', async () => {
    counters.increment(key('timed'), 'n');
    while ((await gateway.runtime.redis.hget(key('timed'), 'n')) === null) await new Promise<void>((resolve) => setImmediate(resolve));
    expect(await gateway.runtime.redis.hget(key('timed'), 'n')).to.equal('1');
  });

  it('when Redis refuses the write, the error is reported and flush still resolves', async () => {
    await gateway.runtime.redis.set(key('not-a-hash'), 'x');
    counters.increment(key('not-a-hash'), 'n');
    await counters.flush();
    expect(errors).to.have.length(1);
    expect(String(errors[0])).to.match(/WRONGTYPE/);
  });
});
