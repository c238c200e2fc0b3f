import { expect } from 'chai';
import { createAdapters } from '../../adapters/registry.ts';
import { loadConfig } from '../../config/index.ts';
import { systemClock } from '../../kernel/clock.ts';
import { HostRoutes } from '../../usecases/host-routing.ts';
import { GatewayError } from '../../kernel/errors.ts';
import { configErrorOf } from '../helpers/config-errors.ts';
import { testEnv } from '../helpers/gateway.ts';

const env = (extra: Record<string, string> = {}) => ({ ...testEnv('t-routes', 'http://127.0.0.1:9', 'redis://127.0.0.1:9', 'http://127.0.0.1:9'), ...extra });

function routesFrom(extra: Record<string, string> = {}): HostRoutes {
  const config = loadConfig({ env: env(extra) });
  return new HostRoutes(config.hosting.routes, createAdapters({ config, clock: systemClock }));
}

describe('host routing (HOST_ROUTES)', () => {
  it('when HOST_ROUTES is not set, Changsha (430100) is reached through Changsha and every other center through the province', () => {
    const routes = routesFrom();
    expect(routes.partnerFor('430100')).to.equal('changsha');
    expect(routes.partnerFor('430300')).to.equal('province');
    expect(routes.partnerFor('110000')).to.equal('province');
  });

  it('when HOST_ROUTES names centers without a "*", a center it does not name is refused with a 422 naming the center', () => {
    const routes = routesFrom({ HOST_ROUTES: JSON.stringify({ '430100': 'changsha', '430300': 'province' }) });
    expect(routes.partnerFor('430300')).to.equal('province');
    let refused: unknown;
    try {
      routes.partnerFor('430400');
    } catch (error) {
      refused = error;
    }
    expect(refused).to.be.instanceOf(GatewayError);
    expect((refused as GatewayError).status).to.equal(422);
    expect((refused as GatewayError).violations[0]?.message).to.include('430400');
  });

  it('when HOST_ROUTES names a partner the gateway has none of, loading refuses it, naming the route and HOST_ROUTES', () => {
    const error = configErrorOf(() => loadConfig({ env: env({ HOST_ROUTES: JSON.stringify({ '430100': 'chagnsha', '*': 'province' }) }) }));
    expect(error.message).to.include('/hosting/routes/430100 (HOST_ROUTES)').and.include('chagnsha');
  });

  it('when HOST_ROUTES has a key that is neither a six-digit center code nor "*", loading refuses it', () => {
    const error = configErrorOf(() => loadConfig({ env: env({ HOST_ROUTES: JSON.stringify({ changsha: 'changsha' }) }) }));
    expect(error.message).to.include('HOST_ROUTES');
  });
});
