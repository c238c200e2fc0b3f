import { expect } from 'chai';
import { ENV_SETTINGS } from '../../config/env.ts';
import { FieldCipher } from '../../kernel/crypto/field-cipher.ts';
import { maskName, maskPhone, redact } from '../../kernel/pii.ts';
import { GatewayError } from '../../kernel/errors.ts';
import { partnerBackoff } from '../../usecases/delivery/backoff.ts';

const KEY = Buffer.alloc(32, 7).toString('base64');
const OTHER_KEY = Buffer.alloc(32, 8).toString('base64');

describe('personal data: kernel/pii.ts', () => {
  describe('maskName', () => {
    it('when the name is two Chinese characters, only the first stays', () => {
      expect(maskName('李明')).to.equal('李*');
    });

    it('when the name is four characters, the first stays and three stars follow', () => {
      expect(maskName('欧阳娜娜')).to.equal('欧***');
    });

    it('when the name is one character or empty, a single star comes out', () => {
      expect(maskName('李')).to.equal('*');
      expect(maskName('')).to.equal('*');
    });

    it('when the name has a character outside the BMP, it is masked per character, not per UTF-16 unit', () => {
      expect(maskName('𠮷野家')).to.equal('𠮷**');
    });
  });

  describe('maskPhone', () => {
    it('when the phone is a landline with area code, the first three and last four stay', () => {
      expect(maskPhone('0731-28881234')).to.equal('073******1234');
    });

    it('when the phone is an 11-digit mobile, the first three and last four stay', () => {
      expect(maskPhone('13812345678')).to.equal('138****5678');
    });

    it('when the phone is 7 digits (the shortest allowed), only the last four stay', () => {
      expect(maskPhone('2888123')).to.equal('***8123');
    });

    it('when the phone is 4 characters or fewer, all of it is masked', () => {
      expect(maskPhone('1234')).to.equal('****');
    });

    it('when the phone is masked, its length is kept, the last four stay and at most three leading characters stay', () => {
      for (const phone of ['2888123', '28881234', '0731-28881234', '13812345678', '0086-731-2888-1234']) {
        const masked = maskPhone(phone);
        expect(masked, phone).to.have.length(phone.length);
        expect(masked.slice(-4), phone).to.equal(phone.slice(-4));
        expect(masked.slice(0, -4).replace(/^[^*]{0,3}/, ''), phone).to.match(/^\*+$/);
      }
    });
  });

  describe('redact', () => {
    it('when an object holds secrets, their values become [REDACTED]', () => {
      const out = redact({
        inboundSecret: 'province-inbound-secret-0001',
        outboundSecret: 'province-outbound-secret-0001',
        TOKEN: '03f7f8c800f4646e1f90d0154ede68131b59e67afc75a036e2258ca8bcda1e24',
        password: 'p',
        dataEncryptionKey: KEY,
        localApiKey: 'local-api-key-0123456789',
        headers: { authorization: 'Bearer abc', 'x-api-key': 'k', cookie: 'c=1' },
      });
      expect(out).to.deep.equal({
        inboundSecret: '[REDACTED]',
        outboundSecret: '[REDACTED]',
        TOKEN: '[REDACTED]',
        password: '[REDACTED]',
        dataEncryptionKey: '[REDACTED]',
        localApiKey: '[REDACTED]',
        headers: { authorization: '[REDACTED]', 'x-api-key': '[REDACTED]', cookie: '[REDACTED]' },
      });
    });

    it('when the env variables marked secret in ENV_SETTINGS are logged by name, their values become [REDACTED]', () => {
      // REDIS_URL and the proxy URLs are marked secret for their passwords, which the URL rule masks
      const isUrl = (name: string) => name.endsWith('_URL');
      const secretNames = ENV_SETTINGS.filter((s) => s.secret === true && !isUrl(s.name)).map((s) => s.name);
      expect(secretNames).to.include.members(['PROVINCE_INBOUND_SECRET', 'PROVINCE_OUTBOUND_SECRET', 'DATA_ENCRYPTION_KEY', 'LOCAL_API_KEY']);
      const out = redact(Object.fromEntries(secretNames.map((name) => [name, 'sensitive-value-0001']))) as Record<string, unknown>;
      for (const name of secretNames) expect(out[name], name).to.equal('[REDACTED]');
      const secretUrls = ENV_SETTINGS.filter((s) => s.secret === true && isUrl(s.name)).map((s) => s.name);
      expect(secretUrls).to.include.members(['REDIS_URL', 'PROVINCE_PROXY_URL', 'CHANGSHA_PROXY_URL']);
      const urls = redact(Object.fromEntries(secretUrls.map((name) => [name, 'http://ops:sensitive-value-0001@10.0.0.1:3128']))) as Record<string, unknown>;
      for (const name of secretUrls) expect(urls[name], name).to.equal('http://***@10.0.0.1:3128');
    });

    it('when a province apply is logged, TENDER_AGENT_CONTRACT and TENDER_AGENT_PHONE are masked and other fields kept', () => {
      const out = redact({
        validation: { DATAUUID: '5b0e7c1d2a3f4e5d6c7b8a9f0e1d2c3b', TOKEN: 'ab' },
        data: { SERIES_NUMBER: 'SQ20261125090000000117', CENTER_NAME: '长沙市公共资源交易中心', TENDER_AGENT_CONTRACT: '李明', TENDER_AGENT_PHONE: '0731-28881234', SEAT_COUNT: 3 },
      });
      expect(out).to.deep.equal({
        validation: { DATAUUID: '5b0e7c1d2a3f4e5d6c7b8a9f0e1d2c3b', TOKEN: '[REDACTED]' },
        data: { SERIES_NUMBER: 'SQ20261125090000000117', CENTER_NAME: '长沙市公共资源交易中心', TENDER_AGENT_CONTRACT: '李*', TENDER_AGENT_PHONE: '073******1234', SEAT_COUNT: 3 },
      });
    });

    it('when a canonical booking is logged, contact.name and contact.phone are masked', () => {
      const out = redact({ booking: { hostCenterName: '长沙市公共资源交易中心', seats: 3, contact: { name: '李明', phone: '13812345678' } } });
      expect(out).to.deep.equal({ booking: { hostCenterName: '长沙市公共资源交易中心', seats: 3, contact: { name: '李*', phone: '138****5678' } } });
    });

    it('when contacts are in an array, each contact is masked', () => {
      const out = redact({ items: [{ contact: { name: '王五', phone: '13912345678' } }, { contact: { name: '赵六', phone: '13712345678' } }] });
      expect(out).to.deep.equal({ items: [{ contact: { name: '王*', phone: '139****5678' } }, { contact: { name: '赵*', phone: '137****5678' } }] });
    });

    it('when `name` is outside a contact (a center or room name), it is kept', () => {
      expect(redact({ center: { name: '株洲市公共资源交易中心' }, room: { name: 'ZZ-PBS-05' } })).to.deep.equal({
        center: { name: '株洲市公共资源交易中心' },
        room: { name: 'ZZ-PBS-05' },
      });
    });

    it('when contactName and contactPhone are logged, they are masked wherever they are', () => {
      expect(redact({ contactName: '李明', contactPhone: '13812345678' })).to.deep.equal({ contactName: '李*', contactPhone: '138****5678' });
    });

    it('when a URL carries credentials, they are masked and host and path kept', () => {
      expect(redact('redis://default:s3cret@10.0.0.5:6379/0')).to.equal('redis://***@10.0.0.5:6379/0');
      expect(redact({ url: 'https://user:pa55@province.example/notify' })).to.deep.equal({ url: 'https://***@province.example/notify' });
    });

    it('when a log message embeds a URL with credentials, they are masked inside the text', () => {
      expect(redact('connect to rediss://:hunter2@cache.local:6380 failed')).to.equal('connect to rediss://***@cache.local:6380 failed');
    });

    it('when an Error message carries a URL with credentials, the error is logged with them masked', () => {
      expect(redact(new Error('ECONNREFUSED redis://u:p@h:1'))).to.deep.equal({ name: 'Error', message: 'ECONNREFUSED redis://***@h:1' });
    });

    it('when a URL has no credentials but an @ in its path, it is kept as it is', () => {
      expect(redact('https://province.example/a@b')).to.equal('https://province.example/a@b');
      expect(redact('redis://127.0.0.1:6379')).to.equal('redis://127.0.0.1:6379');
    });

    it('when a value is redacted, the original is not changed', () => {
      const original = { TENDER_AGENT_CONTRACT: '李明', inboundSecret: 'x', contact: { name: '王五' } };
      const copy = structuredClone(original);
      redact(original);
      expect(original).to.deep.equal(copy);
    });

    it('when the object is cyclic, redact ends with a [DEEP] marker instead of looping', () => {
      const cyclic: Record<string, unknown> = { a: 1 };
      cyclic['self'] = cyclic;
      const out = JSON.stringify(redact(cyclic));
      expect(out).to.include('[DEEP]');
    });

    it('when the value is a number, boolean or null, it is returned as it is', () => {
      expect(redact(3)).to.equal(3);
      expect(redact(true)).to.equal(true);
      expect(redact(null)).to.equal(null);
    });
  });
});

describe('personal data at rest: FieldCipher', () => {
  /** Flips one bit of one base64url part of a sealed value. */
  function tamper(sealed: string, part: 1 | 2 | 3): string {
    const parts = sealed.split('.');
    const bytes = Buffer.from(parts[part] ?? '', 'base64url');
    bytes[0] = (bytes[0] ?? 0) ^ 0x01;
    parts[part] = bytes.toString('base64url');
    return parts.join('.');
  }

  it('when a value is encrypted and decrypted, the original comes back', () => {
    const cipher = new FieldCipher(KEY);
    for (const text of ['李明', '0731-28881234', '', 'a'.repeat(10_000), '𠮷 emoji 🙂']) expect(cipher.decrypt(cipher.encrypt(text))).to.equal(text);
  });

  it('when a value is encrypted, the result is v1.<iv>.<tag>.<ciphertext> and does not contain the plaintext', () => {
    const sealed = new FieldCipher(KEY).encrypt('13812345678');
    const parts = sealed.split('.');
    expect(parts).to.have.length(4);
    expect(parts[0]).to.equal('v1');
    expect(Buffer.from(parts[1] ?? '', 'base64url')).to.have.length(12);
    expect(Buffer.from(parts[2] ?? '', 'base64url')).to.have.length(16);
    expect(sealed).not.to.include('13812345678');
  });

  it('when the same value is encrypted twice, the two results differ (fresh IV)', () => {
    const cipher = new FieldCipher(KEY);
    expect(cipher.encrypt('李明')).not.to.equal(cipher.encrypt('李明'));
  });

  it('when many values are encrypted (several refills of the random pool), no IV repeats', () => {
    const cipher = new FieldCipher(KEY);
    const ivs = new Set(Array.from({ length: 2000 }, () => cipher.encrypt('x').split('.')[1]));
    expect(ivs.size).to.equal(2000);
  });

  it('when another instance has the same key, it decrypts', () => {
    expect(new FieldCipher(KEY).decrypt(new FieldCipher(KEY).encrypt('李明'))).to.equal('李明');
  });

  for (const [part, label] of [
    [1, 'IV'],
    [2, 'tag'],
    [3, 'ciphertext'],
  ] as const) {
    it(`when one bit of the ${label} is flipped, decryption throws`, () => {
      const cipher = new FieldCipher(KEY);
      const tampered = tamper(cipher.encrypt('0731-28881234'), part);
      expect(() => cipher.decrypt(tampered)).to.throw();
    });
  }

  it('when decrypted with another key, decryption throws', () => {
    const sealed = new FieldCipher(KEY).encrypt('李明');
    expect(() => new FieldCipher(OTHER_KEY).decrypt(sealed)).to.throw();
  });

  it('when the tag is truncated, decryption throws', () => {
    const cipher = new FieldCipher(KEY);
    const parts = cipher.encrypt('李明').split('.');
    parts[2] = Buffer.from(parts[2] ?? '', 'base64url').subarray(0, 4).toString('base64url');
    expect(() => cipher.decrypt(parts.join('.'))).to.throw();
  });

  it('when the value is not sealed (plain text or another version), decryption throws "not a sealed value"', () => {
    const cipher = new FieldCipher(KEY);
    expect(() => cipher.decrypt('李明')).to.throw('not a sealed value');
    expect(() => cipher.decrypt(cipher.encrypt('x').replace(/^v1\./, 'v2.'))).to.throw('not a sealed value');
  });

  it('when bytes are sealed and opened, the original comes back, behind a version byte, a 12-byte IV and a 16-byte tag, a fresh IV each time', () => {
    const cipher = new FieldCipher(KEY);
    const plain = Buffer.from('0731-28881234 李明');
    const sealed = cipher.sealBytes(plain);
    expect(FieldCipher.isSealedBytes(sealed)).to.equal(true);
    expect(sealed).to.have.length(1 + 12 + 16 + plain.length);
    expect(sealed.includes(plain)).to.equal(false);
    expect(cipher.openBytes(sealed).equals(plain)).to.equal(true);
    expect(cipher.sealBytes(plain).subarray(1, 13).equals(sealed.subarray(1, 13))).to.equal(false);
  });

  it('when sealed bytes are tampered with, opened with another key or cut short, opening throws', () => {
    const cipher = new FieldCipher(KEY);
    const sealed = cipher.sealBytes(Buffer.from('李明'));
    for (const at of [1, 13, sealed.length - 1]) {
      const tampered = Buffer.from(sealed);
      tampered[at] = (tampered[at] ?? 0) ^ 0x01;
      expect(() => cipher.openBytes(tampered)).to.throw();
    }
    expect(() => new FieldCipher(OTHER_KEY).openBytes(sealed)).to.throw();
    expect(() => cipher.openBytes(sealed.subarray(0, 20))).to.throw('not a sealed value');
  });

  it('when a value is a v1 text, it is not taken for sealed bytes', () => {
    expect(FieldCipher.isSealedBytes(Buffer.from(new FieldCipher(KEY).encrypt('李明')))).to.equal(false);
  });

  it('when the key is not 32 bytes, the cipher cannot be made', () => {
    expect(() => new FieldCipher(Buffer.alloc(16, 7).toString('base64'))).to.throw('32 bytes');
    expect(() => new FieldCipher('')).to.throw('32 bytes');
  });
});

describe('retry delays: partnerBackoff', () => {
  const BASE = 2000;
  const MAX = 600_000;

  it('when jitter is at its top, delays double from the base attempt by attempt', () => {
    const backoff = partnerBackoff(BASE, MAX, () => 1);
    expect([1, 2, 3, 4, 5].map((n) => backoff(n))).to.deep.equal([2000, 4000, 8000, 16000, 32000]);
  });

  it('when jitter is at its bottom, each delay is half its ceiling', () => {
    const backoff = partnerBackoff(BASE, MAX, () => 0);
    expect([1, 2, 3, 4].map((n) => backoff(n))).to.deep.equal([1000, 2000, 4000, 8000]);
  });

  it('when jitter is in the middle, the delay is three quarters of the ceiling', () => {
    expect(partnerBackoff(BASE, MAX, () => 0.5)(3)).to.equal(6000);
  });

  it('when the job carries attempts made before it was queued (a direct first attempt), the delays continue from them', () => {
    const backoff = partnerBackoff(BASE, MAX, () => 1);
    const job = { data: { attemptsBefore: 1 } };
    expect([1, 2, 3].map((n) => backoff(n, 'partner', undefined, job))).to.deep.equal([4000, 8000, 16000]);
    expect(backoff(1, 'partner', undefined, { data: {} })).to.equal(2000);
  });

  it('when many attempts were made, the delay is capped at the maximum', () => {
    const backoff = partnerBackoff(BASE, MAX, () => 1);
    expect(backoff(9)).to.equal(512_000);
    expect(backoff(10)).to.equal(MAX);
    expect(backoff(12)).to.equal(MAX);
    expect(backoff(2000)).to.equal(MAX);
  });

  it('when capped, the jitter stays within the upper half of the maximum', () => {
    expect(partnerBackoff(BASE, MAX, () => 0)(50)).to.equal(MAX / 2);
  });

  it('for any random value in [0, 1), the delay is between half the ceiling and the ceiling', () => {
    for (const r of [0, 0.1, 0.33, 0.5, 0.77, 0.999]) {
      const backoff = partnerBackoff(BASE, MAX, () => r);
      for (let attempt = 1; attempt <= 15; attempt++) {
        const ceiling = Math.min(MAX, BASE * 2 ** (attempt - 1));
        const delay = backoff(attempt);
        expect(delay, `attempt ${attempt}, r ${r}`).to.be.within(ceiling / 2, ceiling);
        expect(Number.isInteger(delay)).to.equal(true);
      }
    }
  });

  it('when the error carries a retryAfterMs longer than the backoff, the delay is the retryAfterMs', () => {
    const backoff = partnerBackoff(BASE, MAX, () => 1);
    const error = new GatewayError('DELIVERY_RETRYABLE', 'province answered 429', { retryAfterMs: 60_000 });
    expect(backoff(1, 'custom', error)).to.equal(60_000);
  });

  it('when the error carries a retryAfterMs shorter than the backoff, the backoff stays', () => {
    const backoff = partnerBackoff(BASE, MAX, () => 1);
    const error = new GatewayError('DELIVERY_RETRYABLE', 'province answered 503', { retryAfterMs: 1000 });
    expect(backoff(4, 'custom', error)).to.equal(16_000);
  });

  it('when a partner\'s Retry-After is beyond the maximum (a year), the delay is the maximum, so the message is not parked out of sight', () => {
    const backoff = partnerBackoff(BASE, MAX, () => 0);
    expect(backoff(20, 'custom', new GatewayError('DELIVERY_RETRYABLE', 'province answered 503', { retryAfterMs: 900_000 }))).to.equal(MAX);
    expect(backoff(1, 'custom', new GatewayError('DELIVERY_RETRYABLE', 'province answered 503', { retryAfterMs: 365 * 24 * 3600 * 1000 }))).to.equal(MAX);
  });

  it('when the attempts setting is reached, the delay stops doubling: the setting caps the delay between attempts, not their number', () => {
    const backoff = partnerBackoff(BASE, MAX, () => 1, { doublings: 3 });
    expect([1, 2, 3, 4, 5, 50].map((n) => backoff(n))).to.deep.equal([2000, 4000, 8000, 8000, 8000, 8000]);
    // attempts made directly count towards it too
    expect(backoff(1, 'partner', undefined, { data: { attemptsBefore: 3 } })).to.equal(8000);
  });

  it('when the next retry would fall past the retry horizon, it is made at the horizon', () => {
    const now = 1_000_000_000;
    const backoff = partnerBackoff(BASE, MAX, () => 1, { horizonMs: 24 * 3600 * 1000, now: () => now });
    const startedAt = now - 24 * 3600 * 1000 + 5000;
    expect(backoff(12, 'partner', undefined, { data: { firstAttemptAt: startedAt }, timestamp: now })).to.equal(5000);
    // well inside the horizon the backoff is untouched; a job from before the first attempt was kept counts from its add time
    expect(backoff(12, 'partner', undefined, { data: { firstAttemptAt: now - 3600 * 1000 } })).to.equal(MAX);
    expect(backoff(12, 'partner', undefined, { data: {}, timestamp: startedAt })).to.equal(5000);
    // past it, at once (the job is then handed to operators)
    expect(backoff(3, 'partner', undefined, { data: { firstAttemptAt: startedAt - 60_000 } })).to.equal(0);
  });

  it('when the error has no retryAfterMs (or a non-number), the backoff is used', () => {
    const backoff = partnerBackoff(BASE, MAX, () => 1);
    expect(backoff(2, 'custom', new Error('timeout'))).to.equal(4000);
    expect(backoff(2, 'custom', Object.assign(new Error('x'), { retryAfterMs: '60000' }))).to.equal(4000);
  });

  it('when attemptsMade is 0, the delay is the base (not half of it)', () => {
    expect(partnerBackoff(BASE, MAX, () => 1)(0)).to.equal(BASE);
  });
});
