import { loadConfig, type GatewayConfig } from '../../../config/index.ts';
import { changshaRules, changshaSecrets } from './changsha.ts';
import { provinceRules, provinceSecrets } from './province.ts';
import { formatResults, runRules, type RuleResult } from './runner.ts';

export { formatResults, type RuleResult } from './runner.ts';

export const CONFORMANCE_PARTNERS = ['province', 'changsha'] as const;
export type ConformancePartner = (typeof CONFORMANCE_PARTNERS)[number];

export function isConformancePartner(value: string): value is ConformancePartner {
  return (CONFORMANCE_PARTNERS as readonly string[]).includes(value);
}

/** What the command line may set over the configuration (secrets are better left to the environment). */
export interface ConformanceOptions {
  url: string;
  /** province: PROVINCE_OUTBOUND_SECRET; changsha: CHANGSHA_OUTBOUND_SECRET */
  secret?: string;
  /** changsha: CHANGSHA_OUTBOUND_KEY_ID */
  keyId?: string;
  /** changsha: CHANGSHA_CLIENT_ID */
  clientId?: string;
  /** changsha: CHANGSHA_CLIENT_SECRET */
  clientSecret?: string;
}

/** Settings the run never uses but the configuration requires: filled so that only the partner under test needs configuring. */
const UNUSED = {
  dataEncryptionKey: Buffer.alloc(32).toString('base64'),
  redis: { url: 'redis://127.0.0.1:9' },
  ops: { sessionSecret: 'conformance-run-uses-no-dashboard-session-0000' },
};

const UNUSED_PARTNER = {
  province: { baseUrl: 'http://127.0.0.1:9', inboundSecret: 'unused-by-the-conformance-run', outboundSecret: 'unused-by-the-conformance-run' },
  changsha: {
    baseUrl: 'http://127.0.0.1:9',
    clientId: 'unused',
    clientSecret: 'unused-by-the-conformance-run',
    inboundKeyId: 'unused',
    inboundSecret: 'unused-by-the-conformance-run',
    outboundKeyId: 'unused',
    outboundSecret: 'unused-by-the-conformance-run',
  },
};

/**
 * The gateway's configuration (config/default.json, GATEWAY_CONFIG, the
 * environment) with the partner under test at `url` and what the command line
 * gives; what the run does not use is filled in.
 */
export function conformanceConfig(partner: ConformancePartner, options: ConformanceOptions, env?: Record<string, string | undefined>): Readonly<GatewayConfig> {
  const given = (entries: Record<string, string | undefined>) => Object.fromEntries(Object.entries(entries).filter(([, value]) => value !== undefined)) as Record<string, string>;
  const partners =
    partner === 'province'
      ? { changsha: UNUSED_PARTNER.changsha, province: { inboundSecret: UNUSED_PARTNER.province.inboundSecret, baseUrl: options.url, ...given({ outboundSecret: options.secret }) } }
      : {
          province: UNUSED_PARTNER.province,
          changsha: {
            inboundKeyId: UNUSED_PARTNER.changsha.inboundKeyId,
            inboundSecret: UNUSED_PARTNER.changsha.inboundSecret,
            baseUrl: options.url,
            ...given({ outboundSecret: options.secret, outboundKeyId: options.keyId, clientId: options.clientId, clientSecret: options.clientSecret }),
          },
        };
  return loadConfig({ ...(env === undefined ? {} : { env }), overrides: { ...UNUSED, partners } });
}

/** Runs every rule of `partner`'s contract against the implementation the configuration names. */
export async function runConformance(partner: ConformancePartner, config: Readonly<GatewayConfig>, now: () => number = Date.now): Promise<RuleResult[]> {
  return runRules(partner === 'province' ? provinceRules({ config, now }) : changshaRules({ config, now }));
}

/** The report as printed: one line per rule, the exchange under each failure, secrets masked. */
export function conformanceReport(partner: ConformancePartner, config: Readonly<GatewayConfig>, results: readonly RuleResult[]): string {
  const secrets = partner === 'province' ? provinceSecrets(config) : changshaSecrets(config);
  return formatResults(results, secrets);
}
