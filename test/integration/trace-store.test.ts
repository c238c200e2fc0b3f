import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { Redis } from 'ioredis';
import type { RedisCommand } from '../../kernel/redis/client.ts';
import { Keys } from '../../kernel/redis/keys.ts';
import { TraceStore } from '../../stores/traces.ts';
import { deleteNamespace, testRedisUrl } from '../helpers/gateway.ts';

describe('traces at rest: the entries of one write packed in one element, traces of before still read (issue 16)', () => {
  const namespace = `zztrace${randomBytes(4).toString('hex')}`;
  const keys = new Keys(namespace);
  let redis: Redis;
  let traces: TraceStore;
  let clock = Date.parse('2026-12-03T08:00:00Z');

  before(() => {
    redis = new Redis(testRedisUrl());
    traces = new TraceStore(redis, keys, () => clock);
  });

  after(async () => {
    redis.disconnect();
    await deleteNamespace(testRedisUrl(), namespace);
  });

  it('when a write appends several entries to one trace beside other commands, they become one smaller element; the trace reads in order, an entry alone stays JSON text, the other commands are made', async () => {
    const trackingNo = 'T-PACKED';
    await traces.append(trackingNo, 'received', { partner: 'province', operation: 'apply' });
    clock += 1000;
    const entries: RedisCommand[] = [
      traces.appendCommand(trackingNo, 'canonical', { event: { partner: 'province', kind: 'apply', requestId: 'SQ1' } }),
      traces.appendCommand(trackingNo, 'decision', { requestId: 'SQ1', outcome: 'approved', seatIds: ['ZZ-PBS-01-01'] }),
      ...traces.indexCommands(trackingNo, { messageId: 'N-1' }),
      traces.appendCommand(trackingNo, 'answer-sent', { partner: 'province', messageId: 'N-1' }),
      ['hset', keys.intake('province').record(trackingNo), 'state', 'processed'],
    ];
    await traces.write(entries);

    const elements = await redis.lrangeBuffer(keys.trace(trackingNo), 0, -1);
    expect(elements).to.have.length(2);
    expect(elements[0]?.toString('utf8')).to.match(/^\{"at":"2026-12-03T08:00:00.000Z","stage":"received"/);
    const plainLength = entries.filter((command) => command[0] === 'rpush').reduce((sum, command) => sum + Buffer.byteLength(String(command[2])), 0);
    expect(elements[1]?.length).to.be.below(plainLength);

    expect((await traces.read(trackingNo)).map((entry) => entry.stage)).to.deep.equal(['received', 'canonical', 'decision', 'answer-sent']);
    expect((await traces.read(trackingNo))[2]).to.deep.include({ at: '2026-12-03T08:00:01.000Z', outcome: 'approved', seatIds: ['ZZ-PBS-01-01'] });
    expect(await traces.find('messageId', 'N-1')).to.deep.equal([trackingNo]);
    expect(await redis.hget(keys.intake('province').record(trackingNo), 'state')).to.equal('processed');
  });

  it('when a trace was written before packing (one JSON element an entry), it reads as before, and its first entry is found', async () => {
    const trackingNo = 'T-OLD';
    const old = [
      { at: '2026-06-01T00:00:00.000Z', stage: 'received', partner: 'province', operation: 'apply' },
      { at: '2026-06-01T00:00:01.000Z', stage: 'answer-sent', partner: 'province', messageId: 'N-OLD' },
    ];
    await redis.rpush(keys.trace(trackingNo), ...old.map((entry) => JSON.stringify(entry)));
    expect(await traces.read(trackingNo)).to.deep.equal(old);
    expect(await traces.first(trackingNo)).to.deep.equal(old[0]);
  });

  it('when a trace begins with a packed element, its first entry is the first packed', async () => {
    const trackingNo = 'availability.T-FIRST';
    await traces.write([traces.appendCommand(trackingNo, 'published', { partner: 'changsha' }), traces.appendCommand(trackingNo, 'delivery-attempt', { attempt: 1 })]);
    expect(await traces.first(trackingNo)).to.deep.include({ stage: 'published', partner: 'changsha' });
  });

  it('when ids are indexed, a search finds every message of that id and none of an id it is a prefix of; entries of before (a set an id) are found beside them and purged with them', async () => {
    await traces.index('T-A', { series: 'SQ1', section: 'S-1' });
    await traces.index('T-B', { series: 'SQ1' });
    await traces.index('T-C', { series: 'SQ10' });
    // as the index was written before issue 16
    await redis.sadd(keys.index('series', 'SQ1'), 'T-LEGACY');
    await redis.sadd(keys.index('trackingNo', 'T-LEGACY'), 'T-LEGACY');

    expect(await traces.find('series', 'SQ1')).to.deep.equal(['T-A', 'T-B', 'T-LEGACY']);
    expect(await traces.find('series', 'SQ10')).to.deep.equal(['T-C']);
    expect(await traces.find('series', 'SQ')).to.deep.equal([]);
    expect(await redis.exists(keys.index('series', 'SQ1'))).to.equal(1);

    await traces.remove([
      { trackingNo: 'T-A', searchIds: { series: 'SQ1', section: 'S-1' } },
      { trackingNo: 'T-LEGACY', searchIds: { series: 'SQ1' } },
    ]);
    expect(await traces.find('series', 'SQ1')).to.deep.equal(['T-B']);
    expect(await traces.find('section', 'S-1')).to.deep.equal([]);
    expect(await redis.exists(keys.index('series', 'SQ1'), keys.index('trackingNo', 'T-LEGACY'))).to.equal(0);
  });

  it('when retention removes traces, the answers ids named inside packed elements lose their index entries too, and a standalone trace whose last packed entry is old goes', async () => {
    await traces.remove([{ trackingNo: 'T-PACKED', searchIds: {} }]);
    expect(await traces.find('messageId', 'N-1')).to.deep.equal([]);
    expect(await redis.exists(keys.trace('T-PACKED'))).to.equal(0);

    expect(await traces.purgeStandalone('availability.', Date.parse('2026-12-03T08:00:00Z'), 10)).to.equal(0);
    expect(await traces.purgeStandalone('availability.', Date.parse('2026-12-03T08:00:02Z'), 10)).to.equal(1);
    expect(await redis.exists(keys.trace('availability.T-FIRST'))).to.equal(0);
  });
});
