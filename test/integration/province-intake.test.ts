import { expect } from 'chai';
import { Redis } from 'ioredis';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPrivateRedis } from '../../scripts/lib/private-redis.ts';
import { at, futureDay } from '../helpers/dates.ts';
import { startTestGateway, testRedisUrl, type TestGateway } from '../helpers/gateway.ts';
import { applyData, seriesNumber } from '../simulators/province-traffic.ts';

async function namespaceKeys(gateway: TestGateway, pattern: string): Promise<string[]> {
  const redis = new Redis(testRedisUrl());
  try {
    return await redis.keys(`${gateway.config.redis.namespace}:${pattern}`);
  } finally {
    redis.disconnect();
  }
}

describe('province intake: every answer of the spec', () => {
  let gateway: TestGateway;
  const day = futureDay({ open: true });

  beforeEach(async () => {
    gateway = await startTestGateway({ workers: false });
  });
  afterEach(async () => {
    await gateway.close();
  });

  it('when a signed apply is valid, answers 200 with a tracking number and records it', async () => {
    const data = applyData({ start: at(day, '09:00'), end: at(day, '17:30') });
    const response = await gateway.province.send('apply', data);
    expect(response.status).to.equal(200);
    expect(response.data).to.include({ State: '200', Success: true, Msg: '成功' });
    const trackingNo = (response.data as { Data: { TRACKING_NO: string } }).Data.TRACKING_NO;
    expect(trackingNo).to.match(/^[0-9A-Z]{26}$/);
    expect(await namespaceKeys(gateway, `{in:province}:msg:${trackingNo}`)).to.have.length(1);
    expect(await gateway.runtime.inboundQueue.getJob(trackingNo)).to.not.equal(undefined);
  });

  it('when the body is not JSON, answers 400 报文格式错误 and records nothing', async () => {
    const response = await gateway.province.post('apply', '{"validation": ');
    expect(response.status).to.equal(400);
    expect(response.data).to.include({ State: '400', Success: false, Msg: '报文格式错误' });
    expect((response.data as { Data: { errors: unknown[] } }).Data.errors).to.have.length(1);
    expect(await namespaceKeys(gateway, '{in:province}:msg:*')).to.deep.equal([]);
  });

  it('when the content type is not JSON, answers 400 in the province format', async () => {
    const response = await gateway.province.post('apply', 'a=b', { 'Content-Type': 'application/x-www-form-urlencoded' });
    expect(response.status).to.equal(400);
    expect(response.data).to.include({ State: '400' });
  });

  it('when several fields are wrong, answers 400 listing every violation as a JSON Pointer', async () => {
    const data = { ...applyData({ start: '2026-12-03 09:00', end: at(day, '17:30') }), SEAT_COUNT: 16, COLOR: 'red' };
    const response = await gateway.province.send('apply', data);
    expect(response.status).to.equal(400);
    const errors = (response.data as { Data: { errors: { path: string; message: string }[] } }).Data.errors;
    expect(errors).to.deep.include({ path: '/data/BID_EVAL_START_TIME', message: 'must match format yyyyMMddHHmmss' });
    expect(errors).to.deep.include({ path: '/data/SEAT_COUNT', message: 'must be <= 15' });
    expect(errors).to.deep.include({ path: '/data', message: 'must NOT have additional properties: COLOR' });
  });

  it('when the TOKEN is one digit off, answers 401 身份验证失败 and records nothing', async () => {
    const envelope = gateway.province.envelope('apply', applyData({ start: at(day, '09:00'), end: at(day, '12:00') }));
    const last = envelope.validation.TOKEN.slice(-1);
    envelope.validation.TOKEN = envelope.validation.TOKEN.slice(0, -1) + (last === '0' ? '1' : '0');
    const response = await gateway.province.post('apply', envelope);
    expect(response.status).to.equal(401);
    expect(response.data).to.include({ State: '401', Msg: '身份验证失败' });
    expect(await namespaceKeys(gateway, '{in:province}:m*')).to.deep.equal([]);
  });

  it('when SYSTEM_NO is unknown or TIME is stale, answers 401', async () => {
    const data = applyData({ start: at(day, '09:00'), end: at(day, '12:00') });
    const unknown = await gateway.province.post('apply', gateway.province.envelope('apply', data, { systemNo: 'HNXXX' }));
    expect(unknown.status).to.equal(401);
    const stale = await gateway.province.send('apply', data, { time: '20200101000000' });
    expect(stale.status).to.equal(401);
  });

  it('when the body is over 256 KiB, answers 413 报文过大', async () => {
    const response = await gateway.province.post('apply', JSON.stringify({ pad: 'x'.repeat(262_145) }));
    expect(response.status).to.equal(413);
    expect(response.data).to.include({ State: '413', Msg: '报文过大' });
  });

  it('when business rules are broken, answers 422 业务校验失败 listing each', async () => {
    const data = applyData({ start: at(day, '17:00'), end: at(day, '09:00'), SUB_AREA_CODE: '430300', BID_SECTION_CODE: 'X4301000260018837001002' });
    const response = await gateway.province.send('apply', data);
    expect(response.status).to.equal(422);
    expect(response.data).to.include({ State: '422', Msg: '业务校验失败' });
    const paths = (response.data as { Data: { errors: { path: string }[] } }).Data.errors.map((error) => error.path);
    expect(paths).to.include.members(['/data/BID_EVAL_END_TIME', '/data/SUB_AREA_CODE', '/data/BID_SECTION_CODE']);
  });

  it('when the same DATAUUID comes again, answers the first answer and queues nothing new', async () => {
    const envelope = gateway.province.envelope('apply', applyData({ start: at(day, '09:00'), end: at(day, '12:00') }));
    const first = await gateway.province.post('apply', envelope);
    const second = await gateway.province.post('apply', envelope);
    expect(second.status).to.equal(200);
    expect(second.data).to.deep.equal(first.data);
    expect(await gateway.runtime.inboundQueue.count()).to.equal(1);
  });

  it('when the same SERIES_NUMBER comes with the same content under a new DATAUUID, answers the first answer', async () => {
    const data = applyData({ start: at(day, '09:00'), end: at(day, '12:00') });
    const first = await gateway.province.send('apply', data);
    const second = await gateway.province.send('apply', data);
    expect(second.data).to.deep.equal(first.data);
    expect(await gateway.runtime.inboundQueue.count()).to.equal(1);
  });

  it('when a known SERIES_NUMBER comes with other content, answers 409 请求冲突', async () => {
    const data = applyData({ start: at(day, '09:00'), end: at(day, '12:00') });
    await gateway.province.send('apply', data);
    const response = await gateway.province.send('apply', { ...data, SEAT_COUNT: 4 });
    expect(response.status).to.equal(409);
    expect(response.data).to.include({ State: '409', Msg: '请求冲突' });
  });

  it('when a second change names a request another change already names, answers 409', async () => {
    const original = applyData({ start: at(day, '09:00'), end: at(day, '12:00') });
    await gateway.province.send('apply', original);
    const change = (remark: string) => ({ ...applyData({ start: at(day, '13:00'), end: at(day, '15:00') }), SERIES_NUMBER: seriesNumber('BG'), ORIGINAL_SERIES_NUMBER: original.SERIES_NUMBER, REMARK: remark });
    expect((await gateway.province.send('change', change('改期'))).status).to.equal(200);
    const second = await gateway.province.send('change', change('再改期'));
    expect(second.status).to.equal(409);
  });

  it('when a query names a request never received, answers 404 未找到申请', async () => {
    const response = await gateway.province.send('query', { SERIES_NUMBER: seriesNumber('SQ') });
    expect(response.status).to.equal(404);
    expect(response.data).to.include({ State: '404', Msg: '未找到申请' });
  });

  it('when strangers send forged requests past the province\'s rate limit, each is answered 401 and the province\'s own push still gets through', async () => {
    const limited = await startTestGateway({ workers: false, env: { PROVINCE_RATE_LIMIT: '3' } });
    try {
      const forged = Array.from({ length: 20 }, () => limited.province.send('query', { SERIES_NUMBER: seriesNumber('SQ') }, { secret: 'not-the-province-secret-000' }));
      const junk = await Promise.all(forged);
      // within the same second: before the fix, the forged requests spent the province's 3 a second
      const real = await limited.province.send('apply', applyData({ start: at(day, '09:00'), end: at(day, '12:00') }));
      expect(junk.map((answer) => answer.status)).to.deep.equal(Array.from({ length: 20 }, () => 401));
      expect(real.status).to.equal(200);
    } finally {
      await limited.close();
    }
  });

  it('when one source address sends more than INTAKE_SOURCE_RATE_LIMIT a second, the excess is answered 429 in the province\'s format before any check', async () => {
    const limited = await startTestGateway({ workers: false, env: { INTAKE_SOURCE_RATE_LIMIT: '3' } });
    try {
      const answers = await Promise.all(Array.from({ length: 12 }, () => limited.province.post('apply', { not: 'an envelope' })));
      const tooMany = answers.filter((answer) => answer.status === 429);
      expect(tooMany.length).to.be.at.least(1);
      expect(answers.filter((answer) => answer.status !== 429).every((answer) => answer.status === 400)).to.equal(true);
      expect(tooMany[0]?.headers['retry-after']).to.match(/^\d+$/);
      expect(tooMany[0]?.data).to.include({ State: '429' });
    } finally {
      await limited.close();
    }
  });

  it('when the rate limit is exceeded, answers 429 with Retry-After', async () => {
    const limited = await startTestGateway({ workers: false, env: { PROVINCE_RATE_LIMIT: '2' } });
    try {
      const answers = await Promise.all(
        Array.from({ length: 6 }, () => limited.province.send('query', { SERIES_NUMBER: seriesNumber('SQ') })),
      );
      const tooMany = answers.filter((answer) => answer.status === 429);
      expect(tooMany.length).to.be.at.least(1);
      expect(tooMany[0]?.headers['retry-after']).to.match(/^\d+$/);
      expect(tooMany[0]?.data).to.include({ State: '429', Msg: '请求过于频繁' });
    } finally {
      await limited.close();
    }
  });
});

describe('province intake when Redis is down', () => {
  it('answers 503 服务暂不可用 with Retry-After, and accepts again once Redis is back', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'zzgw-503-'));
    const redis = await startPrivateRedis(dir);
    const gateway = await startTestGateway({ workers: false, redisUrl: redis.url });
    const day = futureDay({ open: true });
    try {
      await redis.stop();
      const down = await gateway.province.send('apply', applyData({ start: at(day, '09:00'), end: at(day, '12:00') }));
      expect(down.status).to.equal(503);
      expect(down.headers['retry-after']).to.match(/^\d+$/);
      expect(down.data).to.include({ State: '503', Msg: '服务暂不可用' });

      const again = await startPrivateRedis(dir, redis.port);
      try {
        // the client reconnects on its own; the province retries like this after a 503
        await gateway.runtime.ready();
        const answer = await gateway.province.send('apply', applyData({ start: at(day, '09:00'), end: at(day, '12:00') }));
        expect(answer.status).to.equal(200);
      } finally {
        await gateway.close();
        await again.stop();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
