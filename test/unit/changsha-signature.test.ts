import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { parseSignatureHeader, signBody, verifySignature } from '../../adapters/changsha/signature.ts';

/** changsha.md's test vector: secret, t and body as the spec prints them */
const VECTOR = {
  secret: 'changsha-test-secret-0001',
  t: 1764034200,
  body: '{"eventId":"evt_20261125_000042","eventType":"slot.released","occurredAt":"2026-11-25T09:30:00+08:00","data":{"requestId":"CSR-2026-1125-007","reason":"PROJECT_POSTPONED"}}',
  v1: '87eed196f460910051206c9f400b5b62de1a709d3b48c86a1ff327847da9eb18',
};

describe('Changsha signature (changsha.md)', () => {
  it('the vector body is the slot.released example of changsha.md', () => {
    const example = JSON.parse(readFileSync(new URL('../fixtures/partners/changsha-slot-released.json', import.meta.url), 'utf8')) as unknown;
    expect(JSON.parse(VECTOR.body)).to.deep.equal(example);
  });

  it('when the vector body is signed at t=1764034200 with the test secret, v1 is the vector value', () => {
    expect(signBody(VECTOR.secret, VECTOR.t, VECTOR.body)).to.equal(VECTOR.v1);
  });

  it('when the header holds several v1 and one matches, verification passes', () => {
    const parsed = parseSignatureHeader(`t=${VECTOR.t},v1=${'0'.repeat(64)},v1=${VECTOR.v1}`);
    expect(parsed).to.deep.equal({ timestamp: VECTOR.t, signatures: ['0'.repeat(64), VECTOR.v1] });
    expect(verifySignature([VECTOR.secret], parsed!, Buffer.from(VECTOR.body))).to.equal(true);
  });

  it('when the current secret does not match but the previous one does, verification passes (rotation)', () => {
    const parsed = parseSignatureHeader(`t=${VECTOR.t},v1=${VECTOR.v1}`)!;
    expect(verifySignature(['the-new-secret-000000', VECTOR.secret], parsed, Buffer.from(VECTOR.body))).to.equal(true);
  });

  it('when one byte of the body differs, verification fails', () => {
    const parsed = parseSignatureHeader(`t=${VECTOR.t},v1=${VECTOR.v1}`)!;
    expect(verifySignature([VECTOR.secret], parsed, Buffer.from(VECTOR.body.replace('POSTPONED', 'POSTPONEd')))).to.equal(false);
  });

  for (const header of ['', 'v1=abc', `t=${VECTOR.t}`, `t=abc,v1=${VECTOR.v1}`, `t=${VECTOR.t},v1=${VECTOR.v1.toUpperCase()}`, `t=${VECTOR.t},v2=${VECTOR.v1}`, `t=1,t=2,v1=${VECTOR.v1}`]) {
    it(`when the header is ${JSON.stringify(header)}, it does not parse`, () => {
      expect(parseSignatureHeader(header)).to.equal(undefined);
    });
  }
});
