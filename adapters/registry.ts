import type { GatewayConfig } from '../config/index.ts';
import type { Clock } from '../kernel/clock.ts';
import { createChangshaAdapter } from './changsha/index.ts';
import { createProvinceAdapter } from './province/index.ts';
import type { PartnerAdapter, PartnerId } from './types.ts';

export type AdapterRegistry = Readonly<Record<PartnerId, PartnerAdapter>>;

export interface AdapterDeps {
  config: Readonly<GatewayConfig>;
  clock: Clock;
}

/** One entry per partner: the edge and the queues find partners only here. */
export function createAdapters(deps: AdapterDeps): AdapterRegistry {
  return Object.freeze({
    province: createProvinceAdapter(deps),
    changsha: createChangshaAdapter(deps),
  });
}

export function isPartnerId(registry: AdapterRegistry, value: string): value is PartnerId {
  return Object.hasOwn(registry, value);
}
