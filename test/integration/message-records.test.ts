import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { FieldCipher } from '../../kernel/crypto/field-cipher.ts';
import { Keys } from '../../kernel/redis/keys.ts';
import { MessageStore } from '../../stores/messages.ts';
import { deleteNamespace, testRedisUrl } from '../helpers/gateway.ts';

const KEY = Buffer.alloc(32, 5).toString('base64');

/** A province apply as the province sends it (its contact is personal data). */
function provinceApply(series: string): string {
  return JSON.stringify({
    validation: { DATAUUID: randomBytes(16).toString('hex'), SYSTEM_NO: 'HNSDD', TIME: '20261203120000', SIGN_METHOD: 'HMAC-SM3', TOKEN: randomBytes(32).toString('hex') },
    data: {
      SERIES_NUMBER: series,
      AREA_CODE: '430600',
      CENTER_NAME: '岳阳市公共资源交易中心',
      TENDER_PROJECT_CODE: 'M430600E9D3390000004',
      BID_SECTION_CODE: 'M430600E9D3390000004002',
      TRADE_TYPE: 'GCJS',
      TENDER_PROJECT_TYPE: 'A99',
      BID_EVAL_START_TIME: '20261211090000',
      BID_EVAL_END_TIME: '20261211113000',
      SUB_AREA_CODE: '430200',
      SEAT_COUNT: 11,
      TENDER_AGENT_CONTRACT: '张伟',
      TENDER_AGENT_PHONE: '0734-8226618',
      REMARK: '专家六人，含一名财务专家',
    },
  });
}

describe('intake records at rest: bodies deflated and sealed as bytes, records of before still read (issue 16)', () => {
  const namespace = `zzrec${randomBytes(4).toString('hex')}`;
  const keys = new Keys(namespace);
  const cipher = new FieldCipher(KEY);
  let redis: Redis;
  let store: MessageStore;

  before(() => {
    redis = new Redis(testRedisUrl());
    store = new MessageStore(redis, keys, cipher);
  });

  after(async () => {
    redis.disconnect();
    await deleteNamespace(testRedisUrl(), namespace);
  });

  it('when a message is recorded, its body is stored as sealed bytes smaller than the text, without its personal data, and reads back as received', async () => {
    const rawBody = provinceApply('SQ20261203120000000001');
    const recorded = await store.record(
      { partner: 'province', trackingNo: 'T-NEW', operation: 'apply', receivedAt: 1_764_734_400_000, rawBody, messageKey: 'uuid-new', request: { id: 'SQ20261203120000000001', contentDigest: 'd1' }, searchIds: { series: 'SQ20261203120000000001' } },
      [],
    );
    expect(recorded.verdict).to.equal('new');

    const stored = await redis.hgetBuffer(keys.intake('province').record('T-NEW'), 'body');
    expect(stored).to.be.instanceOf(Buffer);
    expect(FieldCipher.isSealedBytes(stored ?? Buffer.alloc(0))).to.equal(true);
    expect(stored?.length).to.be.below(Buffer.byteLength(rawBody) / 2);
    for (const personal of ['张伟', '0734-8226618']) expect(stored?.includes(Buffer.from(personal))).to.equal(false);

    expect(await store.rawBody('province', 'T-NEW')).to.equal(rawBody);
    expect(await store.body('province', 'T-NEW')).to.deep.equal(JSON.parse(rawBody));
    expect(await store.load('province', 'T-NEW')).to.deep.equal({ operation: 'apply', receivedAt: 1_764_734_400_000, body: JSON.parse(rawBody) as unknown });
  });

  it('when a record was written before bodies were deflated (a `v1.` sealed text), its body still reads: rawBody, body and load give it back', async () => {
    const rawBody = provinceApply('SQ20261203120000000002');
    // the fields as MessageStore.record wrote them before issue 16
    await redis.hset(keys.intake('province').record('T-OLD'), {
      partner: 'province',
      operation: 'apply',
      receivedAt: '1764734400000',
      state: 'processed',
      body: cipher.encrypt(rawBody),
      messageKey: 'uuid-old',
      requestId: 'SQ20261203120000000002',
      replaces: '',
      searchIds: JSON.stringify({ series: 'SQ20261203120000000002' }),
    });

    expect(await store.rawBody('province', 'T-OLD')).to.equal(rawBody);
    expect(await store.body('province', 'T-OLD')).to.deep.equal(JSON.parse(rawBody));
    expect(await store.load('province', 'T-OLD')).to.deep.equal({ operation: 'apply', receivedAt: 1_764_734_400_000, body: JSON.parse(rawBody) as unknown });
    expect(await store.summary(['province'], 'T-OLD')).to.include({ partner: 'province', state: 'processed', requestId: 'SQ20261203120000000002' });
  });

  it('when a stored body has been tampered with, it reads as unreadable rather than as other text', async () => {
    const record = keys.intake('province').record('T-NEW');
    const stored = (await redis.hgetBuffer(record, 'body')) ?? Buffer.alloc(0);
    const tampered = Buffer.from(stored);
    tampered[tampered.length - 1] = (tampered[tampered.length - 1] ?? 0) ^ 0x01;
    await redis.hset(record, 'body', tampered);
    expect(await store.body('province', 'T-NEW')).to.equal('[unreadable]');
  });
});
