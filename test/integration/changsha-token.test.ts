import { expect } from 'chai';
import { TokenSource, TokenUnavailableError } from '../../adapters/changsha/token.ts';
import { partnerHttpClient } from '../../adapters/http.ts';
import { fixedClock } from '../../kernel/clock.ts';
import { CHANGSHA, CHANGSHA_SIMULATOR } from '../helpers/gateway.ts';
import { ChangshaSimulator } from '../simulators/changsha.ts';

describe('Changsha OAuth2 token (real token endpoint on loopback, injected clock)', () => {
  const clock = fixedClock(Date.parse('2026-12-01T09:00:00+08:00'));
  let simulator: ChangshaSimulator;
  let tokens: TokenSource;

  beforeEach(async () => {
    simulator = await new ChangshaSimulator({
      ...CHANGSHA_SIMULATOR,
      tokenTtlSeconds: 7200,
      now: () => clock.now(),
    }).start();
    const http = partnerHttpClient({ baseUrl: simulator.url, delivery: { timeoutMs: 5000 } });
    tokens = new TokenSource(http, { clientId: CHANGSHA.clientId, clientSecret: CHANGSHA.clientSecret }, 60, () => clock.now());
  });
  afterEach(async () => {
    await simulator.stop();
  });

  it('when many callers ask at once, one token is fetched and shared', async () => {
    const all = await Promise.all(Array.from({ length: 10 }, () => tokens.get()));
    expect(new Set(all).size).to.equal(1);
    expect(simulator.tokensIssued).to.equal(1);
  });

  it('when the token is within the margin of expires_in, a new one is fetched; before that, the cached one is used', async () => {
    const first = await tokens.get();
    clock.advance((7200 - 61) * 1000);
    expect(await tokens.get()).to.equal(first);
    clock.advance(2000);
    expect(await tokens.get()).to.not.equal(first);
    expect(simulator.tokensIssued).to.equal(2);
  });

  it('when a refused token is invalidated, the next call fetches once; invalidating a stale token does not drop the new one', async () => {
    const first = await tokens.get();
    tokens.invalidate(first);
    const second = await tokens.get();
    tokens.invalidate(first);
    expect(await tokens.get()).to.equal(second);
    expect(simulator.tokensIssued).to.equal(2);
  });

  it('when the token endpoint answers 503, get() fails with TokenUnavailableError and the next call tries again', async () => {
    simulator.failTokenEndpoint(1);
    let failure: unknown;
    await tokens.get().catch((error: unknown) => {
      failure = error;
    });
    expect(failure).to.be.instanceOf(TokenUnavailableError);
    expect(await tokens.get()).to.be.a('string');
  });
});
