import type { GatewayConfig } from '../config/index.ts';
import type { AdapterRegistry } from '../adapters/registry.ts';
import { isPartnerId } from '../adapters/registry.ts';
import type { PartnerId } from '../adapters/types.ts';
import { GatewayError } from '../kernel/errors.ts';

/**
 * Which partner reaches each guest center when Zhuzhou hosts (HOST_ROUTES): a
 * center named in the routes goes to its partner, any other to the `*` one. A
 * third partner is one adapter and one entry here.
 */
export class HostRoutes {
  readonly #routes: ReadonlyMap<string, PartnerId>;

  /** The configuration names only configured partners (config/ checks it); each must also have an adapter. */
  constructor(routes: GatewayConfig['hosting']['routes'], adapters: AdapterRegistry) {
    const checked = new Map<string, PartnerId>();
    for (const [center, partner] of Object.entries(routes)) {
      if (!isPartnerId(adapters, partner)) throw new Error(`HOST_ROUTES: ${center} names ${partner}, which has no adapter`);
      checked.set(center, partner);
    }
    this.#routes = checked;
  }

  /** The partner that serves `center`; a 422 when no route reaches it. */
  partnerFor(center: string): PartnerId {
    const partner = this.#routes.get(center) ?? this.#routes.get('*');
    if (partner === undefined) throw new GatewayError('SEMANTIC_INVALID', undefined, { violations: [{ path: '/guests/center', message: `no partner reaches center ${center} (HOST_ROUTES)` }] });
    return partner;
  }
}
