import { Writable } from 'node:stream';
import { expect } from 'chai';
import winston from 'winston';
import { createLogger, type Logger } from '../../kernel/logger.ts';

/** The lines a logger writes, through winston's Stream transport in place of its Console. */
function capture(logger: Logger): string[] {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString('utf8').trimEnd());
      done();
    },
  });
  logger.clear();
  logger.add(new winston.transports.Stream({ stream }));
  return lines;
}

describe('logger', () => {
  it('when an entry is at or above the level, it is written as JSON with the contact phone masked and the secret dropped', () => {
    const logger = createLogger('info');
    const lines = capture(logger);
    logger.info('delivered', { contact: { phone: '13812345678' }, clientSecret: 's3cr3t' });
    expect(lines).to.have.length(1);
    const line = JSON.parse(lines[0] ?? '{}') as { message: string; contact: { phone: string }; clientSecret: string };
    expect(line.message).to.equal('delivered');
    expect(line.contact.phone).to.equal('138****5678');
    expect(line.clientSecret).to.equal('[REDACTED]');
  });

  it('when an entry is below the level, it is neither masked nor serialised: nothing reads its details', () => {
    const logger = createLogger('warn');
    const lines = capture(logger);
    let serialised = 0;
    logger.debug('decided', { decision: { toJSON: () => ++serialised } });
    logger.warn('slow', { decision: { toJSON: () => ++serialised } });
    expect(lines).to.have.length(1);
    expect(serialised).to.equal(1);
  });
});
