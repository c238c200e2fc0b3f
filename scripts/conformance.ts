/**
 * `npm run conformance -- --partner province|changsha --url BASE`: plays the
 * gateway's side of a partner's contract against that partner's own
 * implementation (the province's receivers of notify and exception and its
 * GET /schedule; Changsha's token, events and availability endpoints), with
 * messages encoded and signed by the gateway's adapters, and prints each
 * contract rule as PASS or FAIL, a failure with the exchange that shows it
 * (secrets and bearer tokens masked). Exit 0 when every rule passes, 1 when
 * one fails, 2 when the run could not start.
 */
import { parseArgs } from 'node:util';
import { ConfigError } from '../config/index.ts';
import { CONFORMANCE_PARTNERS, conformanceConfig, conformanceReport, isConformancePartner, runConformance } from './lib/conformance/index.ts';

const HELP = `usage: npm run conformance -- --partner province|changsha --url BASE [options]

Plays the gateway's side of the partner's contract against BASE and prints
each rule as PASS or FAIL (a failure with its exchange; secrets masked).
Exit code 0 when every rule passes, 1 when one fails, 2 on a usage or
configuration error.

Settings come from the gateway's configuration (config/default.json,
GATEWAY_CONFIG, environment variables); these options override them:

  --partner NAME        province or changsha (required)
  --url BASE            base URL of the partner's implementation (required)
  --secret SECRET       what Zhuzhou signs with: province PROVINCE_OUTBOUND_SECRET,
                        changsha CHANGSHA_OUTBOUND_SECRET
  --key-id ID           changsha: X-YCH-Key-Id (CHANGSHA_OUTBOUND_KEY_ID)
  --client-id ID        changsha: OAuth2 client id (CHANGSHA_CLIENT_ID)
  --client-secret S     changsha: OAuth2 client secret (CHANGSHA_CLIENT_SECRET)
  -h, --help            this text

Prefer the environment for secrets: a command line is visible to other users.
Also read: PROVINCE_SIGN_METHOD, CENTER_SYSTEM_NO, PROVINCE_TIMEOUT_MS,
CHANGSHA_TIMEOUT_MS, and the proxy settings PROVINCE_PROXY_URL, CHANGSHA_PROXY_URL.`;

let values;
try {
  ({ values } = parseArgs({
    options: {
      partner: { type: 'string' },
      url: { type: 'string' },
      secret: { type: 'string' },
      'key-id': { type: 'string' },
      'client-id': { type: 'string' },
      'client-secret': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  }));
} catch (error) {
  console.error(`${(error as Error).message}\n\n${HELP}`);
  process.exit(2);
}

if (values.help) {
  console.log(HELP);
  process.exit(0);
}
const partner = values.partner ?? '';
if (!isConformancePartner(partner) || values.url === undefined) {
  console.error(`--partner (${CONFORMANCE_PARTNERS.join(' or ')}) and --url are required\n\n${HELP}`);
  process.exit(2);
}

let config;
try {
  config = conformanceConfig(partner, {
    url: values.url,
    ...(values.secret === undefined ? {} : { secret: values.secret }),
    ...(values['key-id'] === undefined ? {} : { keyId: values['key-id'] }),
    ...(values['client-id'] === undefined ? {} : { clientId: values['client-id'] }),
    ...(values['client-secret'] === undefined ? {} : { clientSecret: values['client-secret'] }),
  });
} catch (error) {
  console.error(error instanceof ConfigError ? error.message : String(error));
  process.exit(2);
}

console.log(`conformance of ${partner} at ${values.url}`);
const results = await runConformance(partner, config);
console.log(conformanceReport(partner, config, results));
process.exitCode = results.every((result) => result.passed) ? 0 : 1;
