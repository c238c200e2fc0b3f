import { expect } from 'chai';
import { Redis } from 'ioredis';
import { randomBytes } from 'node:crypto';
import { Keys } from '../../kernel/redis/keys.ts';
import { HostEvaluationStore } from '../../stores/host-evaluations.ts';
import { deleteNamespace, testRedisUrl } from '../helpers/gateway.ts';

interface Doc {
  id: string;
  plan: { start: number };
  steps: string[];
}

describe('host evaluation store (real Redis)', () => {
  const namespace = `t-${randomBytes(6).toString('hex')}`;
  let redis: Redis;
  let other: Redis;
  let store: HostEvaluationStore<Doc>;
  let racing: HostEvaluationStore<Doc>;

  before(() => {
    redis = new Redis(testRedisUrl());
    other = new Redis(testRedisUrl());
    store = new HostEvaluationStore<Doc>(redis, new Keys(namespace));
    racing = new HostEvaluationStore<Doc>(other, new Keys(namespace));
  });
  after(async () => {
    await deleteNamespace(testRedisUrl(), namespace);
    redis.disconnect();
    other.disconnect();
  });

  it('when the same evaluation is created twice, the second create is refused and the first document stands', async () => {
    expect(await store.create({ id: 'HE-A', plan: { start: 1000 }, steps: ['first'] })).to.equal(true);
    expect(await store.create({ id: 'HE-A', plan: { start: 1000 }, steps: ['second'] })).to.equal(false);
    expect((await store.get('HE-A'))?.steps).to.deep.equal(['first']);
  });

  it('when 40 updates from two connections race, every step is kept (compare-and-set computes a stale one again)', async () => {
    await store.create({ id: 'HE-B', plan: { start: 2000 }, steps: [] });
    await Promise.all(
      Array.from({ length: 40 }, (_, n) => (n % 2 === 0 ? store : racing).update('HE-B', (current) => ({ ...current, steps: [...current.steps, `s${n}`] }))),
    );
    const steps = (await store.get('HE-B'))?.steps ?? [];
    expect([...steps].sort()).to.deep.equal(Array.from({ length: 40 }, (_, n) => `s${n}`).sort());
  });

  it('when listed by the start of their window, gives those in [from, to) earliest first, and follows a change of window once reindexed', async () => {
    await store.create({ id: 'HE-C', plan: { start: 5000 }, steps: [] });
    await store.create({ id: 'HE-D', plan: { start: 4000 }, steps: [] });
    expect((await store.startingBetween(3000, 6000)).map((doc) => doc.id)).to.deep.equal(['HE-D', 'HE-C']);
    expect((await store.startingBetween(3000, 5000)).map((doc) => doc.id)).to.deep.equal(['HE-D']);
    const moved = await store.update('HE-C', (current) => ({ ...current, plan: { start: 9000 } }));
    if (moved) await store.reindex(moved);
    expect((await store.startingBetween(3000, 6000)).map((doc) => doc.id)).to.deep.equal(['HE-D']);
  });

  it('when an update returns nothing, the document is left as it is and returned', async () => {
    const unchanged = await store.update('HE-A', () => undefined);
    expect(unchanged?.steps).to.deep.equal(['first']);
    expect(await store.update('HE-missing', (current) => current)).to.equal(undefined);
  });
});
