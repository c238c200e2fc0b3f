/**
 * The environment of a gateway process under the bench: fresh secrets and a
 * fresh namespace, production delivery settings, limits far above any offered
 * load (the bench measures the gateway, not its limiter).
 */
import { randomBytes } from 'node:crypto';
import { testEnv } from '../../test/helpers/gateway.ts';
import type { PartnerSecrets } from './partners.ts';

export interface BenchSecrets {
  provinceInbound: string;
  provinceOutbound: string;
  changshaClientSecret: string;
  changshaInbound: string;
  changshaInboundPrevious: string;
  changshaOutbound: string;
}

export const BENCH_IDS = { clientId: 'zhuzhou-gateway', inboundKeyId: 'changsha-bench', outboundKeyId: 'zhuzhou-bench' } as const;

export function benchSecrets(): BenchSecrets {
  const secret = () => randomBytes(24).toString('hex');
  return {
    provinceInbound: secret(),
    provinceOutbound: secret(),
    changshaClientSecret: secret(),
    changshaInbound: secret(),
    changshaInboundPrevious: secret(),
    changshaOutbound: secret(),
  };
}

/** What the partner simulators must know to check the gateway's calls. */
export function partnerSecrets(secrets: BenchSecrets): PartnerSecrets {
  return {
    provinceOutboundSecret: secrets.provinceOutbound,
    changshaClientId: BENCH_IDS.clientId,
    changshaClientSecret: secrets.changshaClientSecret,
    changshaInboundKeyId: BENCH_IDS.inboundKeyId,
    changshaInboundSecret: secrets.changshaInbound,
    changshaOutboundKeyId: BENCH_IDS.outboundKeyId,
    changshaOutboundSecret: secrets.changshaOutbound,
  };
}

/** What the load generator signs with (BENCH_KEYS). */
export function loadgenKeys(secrets: BenchSecrets): string {
  return JSON.stringify({ provinceSecret: secrets.provinceInbound, changshaKeyId: BENCH_IDS.inboundKeyId, changshaSecret: secrets.changshaInbound });
}

export function gatewayEnv(options: { namespace: string; redisUrl: string; provinceUrl: string; changshaUrl: string; secrets: BenchSecrets }): Record<string, string> {
  const { secrets } = options;
  const base = testEnv(options.namespace, options.provinceUrl, options.redisUrl, options.changshaUrl);
  // the suite's quick retry and debounce settings are for tests: production values here
  for (const name of Object.keys(base)) {
    if (/_(BACKOFF_BASE_MS|BACKOFF_MAX_MS|TIMEOUT_MS|BREAKER_HALF_OPEN_MS)$|^CHANGSHA_AVAILABILITY_DEBOUNCE_MS$/.test(name)) delete base[name];
  }
  return {
    PATH: process.env['PATH'] ?? '',
    ...base,
    PROVINCE_INBOUND_SECRET: secrets.provinceInbound,
    PROVINCE_OUTBOUND_SECRET: secrets.provinceOutbound,
    CHANGSHA_CLIENT_ID: BENCH_IDS.clientId,
    CHANGSHA_CLIENT_SECRET: secrets.changshaClientSecret,
    CHANGSHA_INBOUND_KEY_ID: BENCH_IDS.inboundKeyId,
    CHANGSHA_INBOUND_SECRET: secrets.changshaInbound,
    CHANGSHA_INBOUND_PREVIOUS_SECRET: secrets.changshaInboundPrevious,
    CHANGSHA_OUTBOUND_KEY_ID: BENCH_IDS.outboundKeyId,
    CHANGSHA_OUTBOUND_SECRET: secrets.changshaOutbound,
    DATA_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    LOCAL_API_KEY: randomBytes(24).toString('hex'),
    OPS_SESSION_SECRET: randomBytes(32).toString('hex'),
    PROVINCE_RATE_LIMIT: '1000000',
    INTAKE_SOURCE_RATE_LIMIT: '1000000',
    CHANGSHA_RATE_LIMIT: '1000000',
    LOG_LEVEL: 'warn',
    HOST: '127.0.0.1',
    PORT: '0',
    // several workers on this one host: each its own free metrics port
    METRICS_PORT: '0',
  };
}
