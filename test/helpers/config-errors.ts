import { expect } from 'chai';
import { ConfigError } from '../../config/index.ts';

/** Runs what must refuse its configuration, and returns the ConfigError it threw. */
export function configErrorOf(action: () => unknown): ConfigError {
  try {
    action();
  } catch (error) {
    expect(error).to.be.instanceOf(ConfigError);
    return error as ConfigError;
  }
  expect.fail('expected a ConfigError');
}
