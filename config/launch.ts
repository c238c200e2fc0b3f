import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The project's folder, also when this module runs compiled under dist/<hash>/ (scripts/lib/gateway-build.ts). */
function projectRoot(from: string): string {
  for (let dir = from; dirname(dir) !== dir; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
  }
  return from;
}

/**
 * Where npm start writes the URL of the private Redis it runs, so that the
 * account and audit commands find it without REDIS_URL while it runs.
 */
export const TRIAL_REDIS_URL_FILE = join(projectRoot(join(import.meta.dirname, '..')), '.data', 'redis.url');

/**
 * What the launcher (npm start) needs to know before the gateway's own
 * configuration can be loaded: which services it must provide itself.
 */
export interface LaunchEnvironment {
  redisUrl: string | undefined;
  provinceBaseUrl: string | undefined;
  /** the simulator checks notifies with it and signs its traffic with the inbound one */
  provinceOutboundSecret: string | undefined;
  provinceInboundSecret: string | undefined;
  changshaBaseUrl: string | undefined;
  /** what the Changsha simulator must agree on with the gateway, as given (or not) */
  changsha: Record<'clientId' | 'clientSecret' | 'inboundKeyId' | 'inboundSecret' | 'outboundKeyId' | 'outboundSecret', string | undefined>;
  localApiKey: string | undefined;
  namespace: string;
  /** settings the launcher fills in for a local trial when they are absent */
  missingSecrets: string[];
  port: number;
  trafficIntervalMs: number;
  /** seed of the simulators' choices (SIMULATOR_SEED); undefined: the launcher draws one and prints it */
  simulatorSeed: number | undefined;
  /** node options of the gateway process (GATEWAY_NODE_OPTIONS) */
  nodeOptions: string[];
  /** glibc's malloc arenas in the gateway process (MALLOC_ARENA_MAX); undefined: glibc's own */
  mallocArenaMax: string | undefined;
  /** where a trial puts the gateway's JSON log lines (TRIAL_GATEWAY_LOGS); auto: a file when on a terminal */
  trialGatewayLogs: 'auto' | GatewayLogs;
}

/**
 * Node options the gateway runs with unless GATEWAY_NODE_OPTIONS says otherwise:
 * a young generation of 2 × 8 MB. The third round of issue 16 took 2 × 32 MB so
 * that a request's objects die young (api RSS at 2,000 msg/s 245 → 223 MB, ingest
 * p99 24 → 8 ms on a machine that held that rate); once the gateway ran compiled,
 * the young generation itself was most of what stood between the processes and
 * the RSS targets. Measured on 3 December, compiled, the bench's fixed rates and
 * their drain, same sitting, two or three runs each (a shared, overloaded 2-core
 * machine that seldom held even 500 msg/s: latency and throughput differences were
 * lost in its noise, saturated throughput included): api RSS at the 2,000
 * msg/s step 32 MB: 237/264, 16: 228/229, 8: 173/184/184, 4: 168/198 MB; worker
 * peak 277/269, 255/261, 240/241/249, 241/228 MB; idle 139, 138, 125 MB. Below 8
 * nothing more was measured to gain; more scavenges were certain.
 *
 * And the old generation grown by half its live size after each full collection
 * (`--heap-growing-percent=50`) instead of V8's own factor, which under a backlog
 * rose towards 3–4: with a young generation this small, the objects of jobs in
 * flight are promoted, and the old generation filled with them up to 110 MB before
 * a collection found 40 MB alive. Measured on 3 December (bench/README.md, fifth
 * round), drains of 22,500–37,500 messages by one worker: peak RSS 259/260 MB → 163/167,
 * its CPU a message within the machine's swing (1.76/1.50 against 1.66/1.61 ms).
 * `--optimize-for-size` and `--memory-saver-mode` went lower (133–147 MB) but cost
 * a quarter to a third of the drain's throughput; 30% took more CPU (1.87 against 1.77 ms, one run each).
 */
export const DEFAULT_GATEWAY_NODE_OPTIONS = '--max-semi-space-size=8 --heap-growing-percent=50';

const TRIAL_SECRETS = [
  'PROVINCE_INBOUND_SECRET',
  'PROVINCE_OUTBOUND_SECRET',
  'CHANGSHA_CLIENT_SECRET',
  'CHANGSHA_INBOUND_SECRET',
  'CHANGSHA_OUTBOUND_SECRET',
  'DATA_ENCRYPTION_KEY',
  'LOCAL_API_KEY',
  'OPS_SESSION_SECRET',
] as const;

export function readLaunchEnvironment(env: Readonly<Record<string, string | undefined>> = process.env): LaunchEnvironment {
  const nonEmpty = (name: string) => (env[name] === undefined || env[name] === '' ? undefined : env[name]);
  return {
    redisUrl: nonEmpty('REDIS_URL'),
    provinceBaseUrl: nonEmpty('PROVINCE_BASE_URL'),
    provinceOutboundSecret: nonEmpty('PROVINCE_OUTBOUND_SECRET'),
    provinceInboundSecret: nonEmpty('PROVINCE_INBOUND_SECRET'),
    changshaBaseUrl: nonEmpty('CHANGSHA_BASE_URL'),
    changsha: {
      clientId: nonEmpty('CHANGSHA_CLIENT_ID'),
      clientSecret: nonEmpty('CHANGSHA_CLIENT_SECRET'),
      inboundKeyId: nonEmpty('CHANGSHA_INBOUND_KEY_ID'),
      inboundSecret: nonEmpty('CHANGSHA_INBOUND_SECRET'),
      outboundKeyId: nonEmpty('CHANGSHA_OUTBOUND_KEY_ID'),
      outboundSecret: nonEmpty('CHANGSHA_OUTBOUND_SECRET'),
    },
    localApiKey: nonEmpty('LOCAL_API_KEY'),
    namespace: nonEmpty('REDIS_NAMESPACE') ?? 'zzgw',
    missingSecrets: TRIAL_SECRETS.filter((name) => nonEmpty(name) === undefined),
    port: Number(nonEmpty('PORT') ?? 8080),
    trafficIntervalMs: Number(nonEmpty('SIMULATOR_INTERVAL_MS') ?? 3000),
    simulatorSeed: /^\d{1,9}$/.test(nonEmpty('SIMULATOR_SEED') ?? '') ? Number(env['SIMULATOR_SEED']) : undefined,
    nodeOptions: (env['GATEWAY_NODE_OPTIONS'] ?? DEFAULT_GATEWAY_NODE_OPTIONS).split(' ').filter(Boolean),
    mallocArenaMax: nonEmpty('MALLOC_ARENA_MAX'),
    trialGatewayLogs: env['TRIAL_GATEWAY_LOGS'] === 'file' || env['TRIAL_GATEWAY_LOGS'] === 'stdout' ? env['TRIAL_GATEWAY_LOGS'] : 'auto',
  };
}

/** The environment handed to child processes: ours plus what the launcher adds. */
export function childEnvironment(additions: Record<string, string>): Record<string, string | undefined> {
  return { ...process.env, ...additions };
}

/**
 * What of the launcher's environment a gateway process started without it (the
 * bench's) must still get: MALLOC_ARENA_MAX when given, which glibc reads at the
 * process's start. Not set otherwise: measured with the node options above (same
 * sitting, three runs each), 2 took the worker's peak from 240/241/249 to
 * 235/229/232 MB but the api's RSS at 2,000 msg/s from 173/184/184 to
 * 198/187/218 MB, and idle RSS 2–4 MB lower: nothing to set for a process that
 * runs every role.
 */
export function gatewayProcessEnvironment(launch: LaunchEnvironment): Record<string, string> {
  return launch.mallocArenaMax === undefined ? {} : { MALLOC_ARENA_MAX: launch.mallocArenaMax };
}

/** What npm start does with what it was given. */
export interface LaunchPlan {
  /** no partner URL given: simulators, trial secrets and demo traffic */
  trial: boolean;
  /** settings a deployment lacks: npm start names them and stops instead of inventing them */
  missing: string[];
  /** said at start, without stopping */
  warnings: string[];
}

const PARTNER_IDS = ['CHANGSHA_CLIENT_ID', 'CHANGSHA_INBOUND_KEY_ID', 'CHANGSHA_OUTBOUND_KEY_ID'] as const;

/**
 * Trial values are for a trial only: once a partner URL is given this is a
 * deployment, and a secret made up here would sign with a key no partner knows
 * and refuse every genuine message. LOCAL_API_KEY may be left out on purpose.
 */
export function launchPlan(launch: LaunchEnvironment, env: Readonly<Record<string, string | undefined>> = process.env): LaunchPlan {
  const trial = launch.provinceBaseUrl === undefined && launch.changshaBaseUrl === undefined;
  if (trial) return { trial, missing: [], warnings: [] };
  const given = (name: string) => env[name] !== undefined && env[name] !== '';
  const missing = [
    ...(launch.provinceBaseUrl === undefined ? ['PROVINCE_BASE_URL'] : []),
    ...(launch.changshaBaseUrl === undefined ? ['CHANGSHA_BASE_URL'] : []),
    ...launch.missingSecrets.filter((name) => name !== 'LOCAL_API_KEY'),
    ...PARTNER_IDS.filter((name) => !given(name)),
  ];
  const warnings = launch.localApiKey === undefined ? ['LOCAL_API_KEY is not set: /api/v1 and /metrics will refuse everyone'] : [];
  return { trial, missing, warnings };
}

/**
 * Where the gateway's JSON log lines go under npm start: standard output (as a
 * deployment's log collector expects), or a file under .data/logs while the
 * terminal shows the narrative and the warnings and errors in plain words.
 */
export type GatewayLogs = 'stdout' | 'file';

/**
 * A person at a terminal trying the gateway reads the narrative, not JSON: a
 * trial on a terminal writes the JSON to a file (TRIAL_GATEWAY_LOGS=auto). A
 * deployment, or output to a pipe (CI, a log collector), keeps JSON on stdout.
 */
export function gatewayLogOutput(plan: LaunchPlan, launch: LaunchEnvironment, terminal: boolean): GatewayLogs {
  if (!plan.trial) return 'stdout';
  if (launch.trialGatewayLogs !== 'auto') return launch.trialGatewayLogs;
  return terminal ? 'file' : 'stdout';
}
