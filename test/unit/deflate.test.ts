import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { expect } from 'chai';
import { RawDeflate } from '../../kernel/deflate.ts';

const DICTIONARY = Buffer.from('{"eventId":"evt_","eventType":"slot.requested","data":{"requestId":"CSR-","projectCode":"M430100","hostCenter":"430100"}}', 'utf8');
const OTHER_DICTIONARY = Buffer.from('{"at":"2026-01-01T00:00:00.000Z","stage":"decision","outcome":"rejected","reason":"NO_CAPACITY"}', 'utf8');

const bodies = Array.from({ length: 20 }, (_, i) =>
  JSON.stringify({ eventId: `evt_${i}`, eventType: 'slot.requested', data: { requestId: `CSR-${i}`, projectCode: `M430100${i}`, projectName: '工程采购项目', hostCenter: '430100' } }),
);

/** more than one 16 KB output chunk either way, and little to repeat */
function large(): string {
  let text = '';
  for (let i = 0; text.length < 200_000; i++) text += `${(i * 2654435761) % 4294967296},`;
  return text;
}

describe('raw deflate with a preset dictionary: kernel/deflate.ts', () => {
  it('deflates to the very bytes deflateRawSync makes, call after call (the dictionary is set again on each reset)', () => {
    const codec = new RawDeflate(DICTIONARY);
    for (const body of [...bodies, '', large(), ...bodies]) {
      expect(codec.deflate(body).equals(deflateRawSync(body, { dictionary: DICTIONARY }))).to.be.true;
    }
  });

  it('inflates what deflateRawSync wrote with the same dictionary, as stored bodies and traces were', () => {
    const codec = new RawDeflate(DICTIONARY);
    for (const body of [...bodies, '', large(), ...bodies]) {
      expect(codec.inflate(deflateRawSync(body, { dictionary: DICTIONARY })).toString('utf8')).to.equal(body);
    }
  });

  it('what it deflates, inflateRawSync reads, and so does it', () => {
    const codec = new RawDeflate(DICTIONARY);
    for (const body of bodies) {
      const deflated = codec.deflate(Buffer.from(body, 'utf8'));
      expect(inflateRawSync(deflated, { dictionary: DICTIONARY }).toString('utf8')).to.equal(body);
      expect(codec.inflate(deflated).toString('utf8')).to.equal(body);
    }
  });

  it('keeps one native stream each way however many calls: a Node release that changes node:zlib internals fails here', () => {
    const codec = new RawDeflate(DICTIONARY);
    for (let i = 0; i < 200; i++) codec.inflate(codec.deflate(bodies[i % bodies.length] ?? ''));
    expect(codec.streamsOpened).to.deep.equal({ deflate: 1, inflate: 1 });
  });

  it('two dictionaries in one process do not mix', () => {
    const bodiesCodec = new RawDeflate(DICTIONARY);
    const tracesCodec = new RawDeflate(OTHER_DICTIONARY);
    const trace = '[{"at":"2026-01-01T00:00:00.000Z","stage":"decision","outcome":"rejected","reason":"NO_CAPACITY"}]';
    for (const body of bodies) {
      expect(bodiesCodec.deflate(body).equals(deflateRawSync(body, { dictionary: DICTIONARY }))).to.be.true;
      expect(tracesCodec.deflate(trace).equals(deflateRawSync(trace, { dictionary: OTHER_DICTIONARY }))).to.be.true;
      expect(tracesCodec.inflate(tracesCodec.deflate(trace)).toString('utf8')).to.equal(trace);
    }
  });

  it('when the input is not a whole stream, throws the error inflateRawSync throws, and reads the next one', () => {
    const codec = new RawDeflate(DICTIONARY);
    const deflated = deflateRawSync(bodies[0] ?? '', { dictionary: DICTIONARY });
    for (const bad of [deflated.subarray(0, deflated.length - 3), Buffer.of(0xff, 0xff, 0xff, 0xff), Buffer.alloc(0)]) {
      let expected: unknown;
      try {
        inflateRawSync(bad, { dictionary: DICTIONARY });
      } catch (error) {
        expected = error;
      }
      expect(expected).to.be.instanceOf(Error);
      expect(() => codec.inflate(bad)).to.throw((expected as Error).message).with.property('code', (expected as NodeJS.ErrnoException).code);
      expect(codec.inflate(deflated).toString('utf8')).to.equal(bodies[0]);
    }
  });
});
