import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { buildEnvelope, dataDigest, signToken, signingString, verifyToken, type SigningInput } from '../../adapters/province/signature.ts';
import { hexEquals, hmacHex, sm3Hex, type HmacMethod } from '../../kernel/crypto/digest.ts';
import { canonicalJson } from '../../kernel/crypto/jcs.ts';

// copies of ../shared/partners/examples, so the suite runs wherever the clone is
const EXAMPLES = new URL('../fixtures/partners', import.meta.url).pathname;

interface Vector {
  title: string;
  secret: string;
  input: SigningInput;
  canonical: string;
  sm3: string;
  signingString: string;
  tokens: Record<HmacMethod, string>;
}

/** Reads province-vectors.txt: blocks of `key: value` lines under `# title` lines, then two bare SM3 lines. */
function readVectors(): { vectors: Vector[]; sm3Empty: string; sm3Abc: string } {
  const text = readFileSync(`${EXAMPLES}/province-vectors.txt`, 'utf8');
  const blocks: { title: string; lines: string[] }[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('# ')) blocks.push({ title: line.slice(2), lines: [] });
    else if (line.trim() !== '') blocks[blocks.length - 1]?.lines.push(line);
  }
  const field = (lines: string[], key: string): string => {
    const line = lines.find((l) => l.startsWith(`${key}: `));
    if (line === undefined) throw new Error(`vector field ${key} missing`);
    return line.slice(key.length + 2);
  };
  const vectors = blocks
    .filter((b) => b.lines.some((l) => l.startsWith('secret: ')))
    .map((b): Vector => {
      const canonical = field(b.lines, 'canonical data (UTF-8)');
      return {
        title: b.title,
        secret: field(b.lines, 'secret'),
        input: {
          systemNo: field(b.lines, 'SYSTEM_NO'),
          dataUuid: field(b.lines, 'DATAUUID'),
          time: field(b.lines, 'TIME'),
          interfaceCode: field(b.lines, 'interface') as SigningInput['interfaceCode'],
          data: JSON.parse(canonical) as unknown,
        },
        canonical,
        sm3: field(b.lines, 'SM3(canonical data)'),
        signingString: field(b.lines, 'signing string (\\n shown as |)').split('|').join('\n'),
        tokens: { 'HMAC-SM3': field(b.lines, 'TOKEN HMAC-SM3'), 'HMAC-SHA256': field(b.lines, 'TOKEN HMAC-SHA256') },
      };
    });
  const bare = (title: string): string => {
    const block = blocks.find((b) => b.title.startsWith(title));
    if (block?.lines[0] === undefined) throw new Error(`vector ${title} missing`);
    return block.lines[0].trim();
  };
  return { vectors, sm3Empty: bare('SM3 of the empty string'), sm3Abc: bare('SM3("abc")') };
}

const { vectors, sm3Empty, sm3Abc } = readVectors();

/** Changes one hex digit of a token, keeping it 64 lowercase hex. */
function oneDigitOff(token: string, index: number): string {
  const digit = token[index] ?? '0';
  const changed = ((parseInt(digit, 16) + 1) % 16).toString(16);
  return token.slice(0, index) + changed + token.slice(index + 1);
}

describe('province signature (province.md, province-vectors.txt)', () => {
  it('the vector file holds the cancel, the schedule and the host-apply vectors', () => {
    expect(vectors.map((v) => v.input.interfaceCode)).to.deep.equal(['cancel', 'schedule', 'host-apply']);
  });

  describe('SM3', () => {
    it('when hashing the empty string, the GB/T 32905 digest comes out', () => {
      expect(sm3Empty).to.equal('1ab21d8355cfa17f8e61194831e81a8f22bec8c728fefb747ed035eb5082aa2b');
      expect(sm3Hex('')).to.equal(sm3Empty);
    });

    it('when hashing "abc", the GB/T 32905 example 1 digest comes out', () => {
      expect(sm3Abc).to.equal('66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0');
      expect(sm3Hex('abc')).to.equal(sm3Abc);
      expect(sm3Hex(Buffer.from('abc', 'utf8'))).to.equal(sm3Abc);
    });
  });

  for (const vector of vectors) {
    describe(`vector: ${vector.title}`, () => {
      it('when the data is canonicalized, the vector canonical text comes out', () => {
        expect(canonicalJson(vector.input.data)).to.equal(vector.canonical);
      });

      it('when the data keys arrive in another order, the canonical text is the same', () => {
        const reversed = Object.fromEntries(Object.entries(vector.input.data as Record<string, unknown>).reverse());
        expect(canonicalJson(reversed)).to.equal(vector.canonical);
      });

      it('when the canonical data is hashed, the vector SM3 comes out', () => {
        expect(sm3Hex(vector.canonical)).to.equal(vector.sm3);
        expect(dataDigest(vector.input.data)).to.equal(vector.sm3);
      });

      it('when the signing string is built, it is the five vector lines joined by LF', () => {
        const text = signingString(vector.input);
        expect(text).to.equal(vector.signingString);
        expect(text.split('\n')).to.have.length(5);
        expect(text).not.to.include('\r');
      });

      for (const method of ['HMAC-SM3', 'HMAC-SHA256'] as const) {
        it(`when signed with ${method}, the vector TOKEN comes out`, () => {
          expect(signToken(method, vector.secret, vector.input)).to.equal(vector.tokens[method]);
          expect(hmacHex(method, vector.secret, vector.signingString)).to.equal(vector.tokens[method]);
        });

        it(`when the ${method} TOKEN is the vector TOKEN, verification passes`, () => {
          expect(verifyToken(method, vector.secret, vector.input, vector.tokens[method])).to.equal(true);
        });

        it(`when the ${method} TOKEN is one hex digit off, verification fails`, () => {
          for (const index of [0, 31, 63]) {
            const tampered = oneDigitOff(vector.tokens[method], index);
            expect(tampered).to.have.length(64);
            expect(tampered).not.to.equal(vector.tokens[method]);
            expect(verifyToken(method, vector.secret, vector.input, tampered), `digit ${index}`).to.equal(false);
          }
        });
      }

      it('when the TOKEN was made with the other method, verification fails', () => {
        expect(verifyToken('HMAC-SM3', vector.secret, vector.input, vector.tokens['HMAC-SHA256'])).to.equal(false);
        expect(verifyToken('HMAC-SHA256', vector.secret, vector.input, vector.tokens['HMAC-SM3'])).to.equal(false);
      });

      it('when the secret differs, verification fails', () => {
        expect(verifyToken('HMAC-SM3', `${vector.secret}x`, vector.input, vector.tokens['HMAC-SM3'])).to.equal(false);
      });
    });
  }

  describe('verifyToken edge cases', () => {
    const cancel = vectors[0] as Vector;

    it('when the TOKEN is uppercase hex, verification fails (the spec says lowercase)', () => {
      expect(verifyToken('HMAC-SM3', cancel.secret, cancel.input, cancel.tokens['HMAC-SM3'].toUpperCase())).to.equal(false);
    });

    it('when the TOKEN is truncated or empty, verification fails without throwing', () => {
      expect(verifyToken('HMAC-SM3', cancel.secret, cancel.input, cancel.tokens['HMAC-SM3'].slice(0, 63))).to.equal(false);
      expect(verifyToken('HMAC-SM3', cancel.secret, cancel.input, '')).to.equal(false);
    });

    it('when the data differs by one character, verification fails', () => {
      const data = { ...(cancel.input.data as Record<string, string>), REMARK: '招标人申请延期。' };
      expect(verifyToken('HMAC-SM3', cancel.secret, { ...cancel.input, data }, cancel.tokens['HMAC-SM3'])).to.equal(false);
    });

    it('when the interface code differs, verification fails', () => {
      expect(verifyToken('HMAC-SM3', cancel.secret, { ...cancel.input, interfaceCode: 'change' }, cancel.tokens['HMAC-SM3'])).to.equal(false);
    });

    it('hexEquals is true only for identical strings', () => {
      expect(hexEquals('ab', 'ab')).to.equal(true);
      expect(hexEquals('ab', 'ac')).to.equal(false);
      expect(hexEquals('ab', 'abc')).to.equal(false);
    });
  });

  describe('buildEnvelope', () => {
    const example = JSON.parse(readFileSync(`${EXAMPLES}/province-cancel.json`, 'utf8')) as {
      validation: { DATAUUID: string; SYSTEM_NO: string; TIME: string; SIGN_METHOD: HmacMethod; TOKEN: string };
      data: Record<string, string>;
    };

    it('when the cancel example is signed with the test secret, its envelope equals province-cancel.json with the vector TOKEN', () => {
      const envelope = buildEnvelope(
        {
          secret: 'province-test-secret-0001',
          method: 'HMAC-SM3',
          systemNo: example.validation.SYSTEM_NO,
          dataUuid: example.validation.DATAUUID,
          time: example.validation.TIME,
          interfaceCode: 'cancel',
        },
        example.data,
      );
      expect(envelope.validation.TOKEN).to.equal('03f7f8c800f4646e1f90d0154ede68131b59e67afc75a036e2258ca8bcda1e24');
      expect(envelope).to.deep.equal(example);
    });

    it('when the cancel example is signed with HMAC-SHA256, the envelope carries the SHA-256 vector TOKEN and method', () => {
      const envelope = buildEnvelope(
        {
          secret: 'province-test-secret-0001',
          method: 'HMAC-SHA256',
          systemNo: 'HNSDD',
          dataUuid: example.validation.DATAUUID,
          time: example.validation.TIME,
          interfaceCode: 'cancel',
        },
        example.data,
      );
      expect(envelope.validation.SIGN_METHOD).to.equal('HMAC-SHA256');
      expect(envelope.validation.TOKEN).to.equal('ff94b4cee087b5dbae68a7623fa622647b6a2e4e360f24045e9dd08b4711633c');
    });
  });
});
