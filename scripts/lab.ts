/**
 * `npm run lab -- --partner province --interface apply FILE`: the message lab
 * (接入调试) on the command line. FILE holds one raw request (headers, blank
 * line, body) or a bare JSON body, whose headers then come from `--header
 * "Name: value"` (Content-Type defaults to application/json). Prints every
 * step (`--json`: the steps as JSON); records and queues nothing. Secrets come
 * from the configuration; neither they nor any expected signature are printed.
 * Audited, with the OS user as actor. Exit code 0 when every step passes, 1
 * otherwise, 64 when used wrongly.
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import { createAdapters } from '../adapters/registry.ts';
import { loadConfig } from '../config/index.ts';
import { systemClock } from '../kernel/clock.ts';
import { FieldCipher } from '../kernel/crypto/field-cipher.ts';
import { createRedis, whenReady } from '../kernel/redis/client.ts';
import { Keys } from '../kernel/redis/keys.ts';
import { RoomLedger } from '../ledger/index.ts';
import { AuditLog } from '../stores/audit.ts';
import { MessageStore } from '../stores/messages.ts';
import { parseRawRequest, runLab, type LabResult } from '../usecases/lab.ts';
import { commandActor, USAGE_EXIT } from './lib/account-command.ts';

const USAGE = 'usage: npm run lab -- --partner <province|changsha> --interface <interface> [--header "Name: value"]... [--json] FILE';

let parsed;
try {
  parsed = parseArgs({
    allowPositionals: true,
    options: { partner: { type: 'string' }, interface: { type: 'string' }, header: { type: 'string', multiple: true }, json: { type: 'boolean', default: false } },
  });
} catch (error) {
  console.error(`lab: ${(error as Error).message}\n${USAGE}`);
  process.exit(USAGE_EXIT);
}
const { values, positionals } = parsed;
const file = positionals[0];
if (!values.partner || !values.interface || file === undefined || positionals.length !== 1) {
  console.error(USAGE);
  process.exit(USAGE_EXIT);
}

const MARK = { pass: 'PASS', fail: 'FAIL', skipped: 'SKIP' } as const;

function print(result: LabResult): void {
  console.log(`${result.partner}/${result.operation}: ${result.passed ? 'every step passes' : 'some steps fail'}`);
  for (const step of result.steps) {
    console.log(`\n[${MARK[step.status]}] ${step.name}: ${step.summary}`);
    for (const detail of step.details) console.log(`  ${detail.label}: ${detail.value}`);
    for (const violation of step.violations ?? []) console.log(`  - ${violation.path || '/'}: ${violation.message}`);
  }
}

let config: ReturnType<typeof loadConfig>;
let input: Buffer;
try {
  config = loadConfig();
  input = readFileSync(file);
} catch (error) {
  // a configuration error names the setting, never its value
  console.error(`lab: ${(error as Error).message}`);
  process.exit(1);
}
const request = parseRawRequest(input);
for (const header of values.header ?? []) {
  const colon = header.indexOf(':');
  if (colon <= 0) {
    console.error(`lab: --header ${JSON.stringify(header)} is not "Name: value"\n${USAGE}`);
    process.exit(USAGE_EXIT);
  }
  request.headers[header.slice(0, colon).trim().toLowerCase()] = header.slice(colon + 1).trim();
}
// a bare JSON body is what a developer pastes: it is meant as JSON
if (request.headers['content-type'] === undefined && request.requestLine === undefined && Object.keys(request.headers).length === (values.header ?? []).length) {
  request.headers['content-type'] = 'application/json; charset=utf-8';
}

const redis = createRedis(config.redis, 'queue');
const keys = new Keys(config.redis.namespace);
try {
  await whenReady(redis);
  const result = await runLab(
    {
      adapters: createAdapters({ config, clock: systemClock }),
      messages: new MessageStore(redis, keys, new FieldCipher(config.dataEncryptionKey)),
      ledger: new RoomLedger(redis, keys, config.ledger.rooms, config.ledger.bufferMinutes),
      audit: new AuditLog(redis, keys, () => systemClock.now()),
      clock: systemClock,
      bodyLimitBytes: config.intake.bodyLimitBytes,
    },
    { partner: values.partner, operation: values.interface, headers: request.headers, rawBody: request.rawBody },
    { actor: commandActor(), from: `cli:${hostname()}` },
  );
  if (values.json) console.log(JSON.stringify(result, null, 2));
  else print(result);
  process.exitCode = result.passed ? 0 : 1;
} catch (error) {
  console.error(`lab: ${(error as Error).message}`);
  process.exitCode = 1;
} finally {
  redis.disconnect();
}
