import { expect } from 'chai';
import winston from 'winston';
import { createLogger, type Logger } from '../../kernel/logger.ts';

/** winston's key of the formatted line (triple-beam's MESSAGE) */
const MESSAGE = Symbol.for('message');

/** The lines a logger writes, as its Console transport would write them. */
function capture(logger: Logger): string[] {
  const lines: string[] = [];
  class Capture extends winston.Transport {
    override log(info: Record<string | symbol, unknown>, next: () => void): void {
      lines.push(String(info[MESSAGE]));
      next();
    }
  }
  logger.clear();
  logger.add(new Capture());
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
