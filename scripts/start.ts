/**
 * `npm start`: the gateway with everything it needs on this machine. Without
 * REDIS_URL it runs a private Redis (AOF) under .data/redis; without
 * PROVINCE_BASE_URL it runs the province simulator and sends it realistic
 * traffic, so a newcomer sees requests arrive and get decided.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { childEnvironment, gatewayLogOutput, launchPlan, readLaunchEnvironment, TRIAL_REDIS_URL_FILE } from '../config/launch.ts';
import { Redis } from 'ioredis';
import { Keys } from '../kernel/redis/keys.ts';
import { AccountStore } from '../stores/accounts.ts';
import { startPrivateRedis, type PrivateRedis } from './lib/private-redis.ts';
import { GatewayLogFile, gatewayLogPath } from './lib/gateway-log.ts';
import { gatewayEntry } from './lib/gateway-build.ts';
import { ProvinceSimulator } from '../test/simulators/province.ts';
import { ProvinceClient } from '../test/simulators/province-traffic.ts';
import { ChangshaSimulator } from '../test/simulators/changsha.ts';
import { startChangshaTraffic, startProvinceTraffic } from '../test/simulators/demo-traffic.ts';
import { narrateProvinceHost, startHostPlanning } from '../test/simulators/host-planning.ts';
import { freshSeed, SeededRandom } from '../test/simulators/prng.ts';

const root = join(import.meta.dirname, '..');
const dataDir = join(root, '.data');
const launch = readLaunchEnvironment();
const additions: Record<string, string> = {};
let redis: PrivateRedis | undefined;
let simulator: ProvinceSimulator | undefined;
let changshaSimulator: ChangshaSimulator | undefined;
const stopTraffic: (() => void)[] = [];

function say(line: string): void {
  process.stdout.write(`[start] ${line}\n`);
}

/** Secrets for a local trial, kept under .data so that restarts can read what they wrote. */
function trialSecrets(names: readonly string[]): Record<string, string> {
  const file = join(dataDir, 'trial-secrets.json');
  const stored = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>) : {};
  for (const name of names) {
    stored[name] ??= name === 'DATA_ENCRYPTION_KEY' ? randomBytes(32).toString('base64') : randomBytes(24).toString('hex');
  }
  writeFileSync(file, JSON.stringify(stored, null, 2), { mode: 0o600 });
  return Object.fromEntries(names.map((name) => [name, stored[name] ?? '']));
}

mkdirSync(dataDir, { recursive: true });
const plan = launchPlan(launch);
if (plan.missing.length > 0) {
  say(`a partner URL is given, so this is a deployment, not a trial: set ${plan.missing.join(', ')} (see the README's configuration table); nothing was started`);
  process.exit(78);
}
for (const warning of plan.warnings) say(warning);
if (plan.trial && launch.missingSecrets.length > 0) {
  Object.assign(additions, trialSecrets(launch.missingSecrets));
  say(`trial secrets for ${launch.missingSecrets.join(', ')} are in .data/trial-secrets.json (a deployment sets them in the environment)`);
}
if (!launch.redisUrl) {
  redis = await startPrivateRedis(join(dataDir, 'redis'));
  additions['REDIS_URL'] = redis.url;
  // the account and audit commands read it while this runs, without REDIS_URL
  writeFileSync(TRIAL_REDIS_URL_FILE, `${redis.url}\n`, { mode: 0o600 });
  say(`private Redis (AOF everysec, noeviction) on ${redis.url}, data in .data/redis (npm run user:add and audit:verify find it while this runs)`);
}
// what the simulated partners decide repeats given this seed (SIMULATOR_SEED)
const seed = launch.simulatorSeed ?? freshSeed();
if (!launch.provinceBaseUrl || !launch.changshaBaseUrl) say(`simulator seed ${seed} (SIMULATOR_SEED=${seed} replays the partners' decisions)`);
if (!launch.provinceBaseUrl) {
  const outboundSecret = launch.provinceOutboundSecret ?? additions['PROVINCE_OUTBOUND_SECRET'] ?? '';
  // it also plays the dispatcher of Zhuzhou's host applications: each guest approves, rejects or answers slowly
  simulator = (await new ProvinceSimulator({ secret: outboundSecret }).start()).dispatch({ seed });
  additions['PROVINCE_BASE_URL'] = simulator.url;
  say(`province simulator on ${simulator.url} (no PROVINCE_BASE_URL given)`);
}

if (!launch.changshaBaseUrl) {
  // key ids and client id are names, not secrets: a trial may as well pick them
  const given = launch.changsha;
  const agreed = {
    clientId: given.clientId ?? 'zhuzhou-gateway',
    clientSecret: given.clientSecret ?? additions['CHANGSHA_CLIENT_SECRET'] ?? '',
    inboundKeyId: given.inboundKeyId ?? 'changsha-trial',
    inboundSecret: given.inboundSecret ?? additions['CHANGSHA_INBOUND_SECRET'] ?? '',
    outboundKeyId: given.outboundKeyId ?? 'zhuzhou-trial',
    outboundSecret: given.outboundSecret ?? additions['CHANGSHA_OUTBOUND_SECRET'] ?? '',
  };
  Object.assign(additions, { CHANGSHA_CLIENT_ID: agreed.clientId, CHANGSHA_INBOUND_KEY_ID: agreed.inboundKeyId, CHANGSHA_OUTBOUND_KEY_ID: agreed.outboundKeyId });
  changshaSimulator = await new ChangshaSimulator({
    clientId: agreed.clientId,
    clientSecret: agreed.clientSecret,
    zhuzhouKeyId: agreed.outboundKeyId,
    zhuzhouSecret: agreed.outboundSecret,
    changshaKeyId: agreed.inboundKeyId,
    changshaSecret: agreed.inboundSecret,
  }).start();
  additions['CHANGSHA_BASE_URL'] = changshaSimulator.url;
  say(`Changsha simulator (token endpoint, events, availability) on ${changshaSimulator.url} (no CHANGSHA_BASE_URL given)`);
}

// a person at a terminal reads the narrative; the gateway's JSON goes to a file (TRIAL_GATEWAY_LOGS)
const logFile = gatewayLogOutput(plan, launch, process.stdout.isTTY === true) === 'file' ? new GatewayLogFile(gatewayLogPath(join(dataDir, 'logs'), new Date())) : undefined;
if (logFile) say(`the gateway's JSON logs go to ${relative(process.cwd(), logFile.path)}; its warnings and errors are told here`);

// compiled by setup, which npm start runs first; sources edited since then run as they are, never an older build
const entry = gatewayEntry(root);
if (!entry.compiled) say('the gateway runs its .ts sources: they changed since setup compiled them (npm start compiles them again)');
const gateway: ChildProcess = fork(entry.script, [], {
  execArgv: launch.nodeOptions,
  env: childEnvironment(additions),
  stdio: ['inherit', logFile ? 'pipe' : 'inherit', logFile ? 'pipe' : 'inherit', 'ipc'],
  // its own process group: a Ctrl-C reaches it once, through us, so it drains instead of dying
  detached: true,
});
logFile?.attach(gateway, (line) => process.stdout.write(`${line}\n`));

/** A trial admin account, so the dashboard can be opened at once; its password stays in .data. */
async function trialAdmin(redisUrl: string): Promise<void> {
  const file = join(dataDir, 'trial-secrets.json');
  const stored = JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>;
  stored['OPS_TRIAL_ADMIN_PASSWORD'] ??= randomBytes(12).toString('base64url');
  writeFileSync(file, JSON.stringify(stored, null, 2), { mode: 0o600 });
  const client = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  try {
    await new AccountStore(client, new Keys(launch.namespace), { attempts: 5, minutes: 15 }).put('admin', stored['OPS_TRIAL_ADMIN_PASSWORD'], 'admin', Date.now());
  } finally {
    client.disconnect();
  }
}

gateway.on('message', (message: { type?: string; port?: number }) => {
  if (message.type !== 'listening') return;
  const url = `http://127.0.0.1:${message.port ?? launch.port}`;
  say(`gateway listening on ${url} (partners POST ${url}/partners/province/{apply,change,cancel,query})`);
  if (redis) {
    trialAdmin(redis.url).then(
      () => say(`dashboard ${url}/ops/ — trial account "admin", its password is OPS_TRIAL_ADMIN_PASSWORD in .data/trial-secrets.json`),
      (error: unknown) => say(`trial account not created: ${(error as Error).message}`),
    );
  } else {
    say(`dashboard ${url}/ops/ — create an account first: npm run user:add -- --username <name> --role admin`);
  }
  const inboundSecret = launch.provinceInboundSecret ?? additions['PROVINCE_INBOUND_SECRET'];
  const apiKey = launch.localApiKey ?? additions['LOCAL_API_KEY'];
  if (simulator && inboundSecret) {
    // the dispatcher pushes host results and outcomes to this gateway
    simulator.attach(new ProvinceClient({ gatewayUrl: url, secret: inboundSecret }));
    stopTraffic.push(narrateProvinceHost(simulator, say));
    stopTraffic.push(startProvinceTraffic({ gatewayUrl: url, secret: inboundSecret, simulator, intervalMs: launch.trafficIntervalMs, log: say }));
  }
  if (changshaSimulator) {
    const keyId = additions['CHANGSHA_INBOUND_KEY_ID'] ?? launch.changsha.inboundKeyId ?? '';
    const secret = launch.changsha.inboundSecret ?? additions['CHANGSHA_INBOUND_SECRET'] ?? '';
    stopTraffic.push(startChangshaTraffic({ gatewayUrl: url, keyId, secret, simulator: changshaSimulator, intervalMs: launch.trafficIntervalMs * 2, log: say, seed: seed + 1, ...(apiKey ? { apiKey } : {}) }));
  }
  // now and then the center hosts: a gateway without /api/v1/host-evaluations (404) is left alone
  if (simulator && changshaSimulator && apiKey) {
    stopTraffic.push(startHostPlanning({ gatewayUrl: url, apiKey, random: new SeededRandom(seed + 2), intervalMs: launch.trafficIntervalMs * 5, log: say }));
  }
});

let stopping = false;
async function stopAll(code: number): Promise<void> {
  for (const stop of stopTraffic) stop();
  await simulator?.stop();
  await changshaSimulator?.stop();
  if (redis) {
    await redis.stop();
    rmSync(TRIAL_REDIS_URL_FILE, { force: true });
  }
  await logFile?.closed();
  process.exit(code);
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) {
      gateway.kill('SIGKILL');
      return;
    }
    stopping = true;
    say(`${signal}: stopping the gateway, then Redis`);
    // no new simulated message while it drains: a keep-alive connection kept busy would hold its HTTP server open
    for (const stop of stopTraffic.splice(0)) stop();
    gateway.kill('SIGTERM');
  });
}
// with its output piped, the gateway's last lines are read before stopping
gateway.on(logFile ? 'close' : 'exit', (code: number | null) => void stopAll(code ?? 1));
