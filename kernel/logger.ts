import winston from 'winston';
import { redact } from './pii.ts';

export type Logger = winston.Logger;

/** Masks personal data and drops secrets from every log line, whatever the caller passed. */
const redactFormat = winston.format((info) => {
  const cleaned = redact({ ...info }) as Record<string, unknown>;
  for (const key of Object.keys(cleaned)) info[key] = cleaned[key];
  return info;
});

export function createLogger(level: string, defaultMeta: Record<string, unknown> = {}): Logger {
  // winston formats every entry and leaves the level to the transports: an entry below the
  // level is dropped first, before it is masked and serialised for nobody (a few % of a
  // worker's CPU at LOG_LEVEL=warn, bench --profile)
  const enabledOnly = winston.format((info) => (logger.isLevelEnabled(info.level) ? info : false));
  const logger: Logger = winston.createLogger({
    level,
    defaultMeta,
    format: winston.format.combine(enabledOnly(), redactFormat(), winston.format.timestamp(), winston.format.json()),
    transports: [new winston.transports.Console({ stderrLevels: ['error', 'warn'] })],
  });
  return logger;
}
