/**
 * Every setting that can come from the environment, in one table: the loader
 * applies it and the README's configuration table is checked against it.
 */
export type EnvParser = 'string' | 'integer' | 'number' | 'list' | 'json';

export interface EnvSetting {
  name: string;
  path: readonly string[];
  parse: EnvParser;
  description: string;
  secret?: boolean;
}

export const ENV_SETTINGS: readonly EnvSetting[] = [
  { name: 'HOST', path: ['host'], parse: 'string', description: 'address the HTTP server binds' },
  { name: 'PORT', path: ['port'], parse: 'integer', description: 'HTTP port of the gateway (0 picks a free one)' },
  { name: 'GATEWAY_ROLE', path: ['role'], parse: 'list', description: 'comma-separated roles of this process: api, worker, scheduler' },
  { name: 'LOG_LEVEL', path: ['logLevel'], parse: 'string', description: 'winston level: error, warn, info, http, verbose, debug' },
  { name: 'REDIS_URL', path: ['redis', 'url'], parse: 'string', description: 'Redis to use; when absent, npm start and npm test run a private one with AOF', secret: true },
  { name: 'REDIS_NAMESPACE', path: ['redis', 'namespace'], parse: 'string', description: 'prefix of every Redis key and queue of this gateway' },
  { name: 'REDIS_COMMAND_TIMEOUT_MS', path: ['redis', 'commandTimeoutMs'], parse: 'integer', description: 'a Redis command slower than this fails (the partner gets 503)' },
  { name: 'CENTER_AREA_CODE', path: ['center', 'areaCode'], parse: 'string', description: 'area code of this center' },
  { name: 'CENTER_SYSTEM_NO', path: ['center', 'systemNo'], parse: 'string', description: 'SYSTEM_NO this center signs with towards the province' },
  { name: 'CENTER_NAME', path: ['center', 'name'], parse: 'string', description: 'center name sent in notify messages' },
  { name: 'DATA_ENCRYPTION_KEY', path: ['dataEncryptionKey'], parse: 'string', description: 'base64 of 32 bytes: AES-256-GCM key for personal data at rest', secret: true },
  { name: 'LOCAL_API_KEY', path: ['localApiKey'], parse: 'string', description: 'key (header X-Api-Key) of the center\'s own systems and operators for /api/v1', secret: true },
  { name: 'INTAKE_BODY_LIMIT_BYTES', path: ['intake', 'bodyLimitBytes'], parse: 'integer', description: 'largest accepted body (at most 256 KiB, the partners\' limit)' },
  { name: 'INTAKE_RETRY_AFTER_SECONDS', path: ['intake', 'retryAfterSeconds'], parse: 'integer', description: 'Retry-After sent with 503 when Redis cannot record' },
  { name: 'HELD_ORIGINAL_TIMEOUT_HOURS', path: ['intake', 'heldOriginalTimeoutHours'], parse: 'number', description: 'a change or cancel waiting longer for its original goes to operators' },
  { name: 'WORKER_CONCURRENCY', path: ['workers', 'concurrency'], parse: 'integer', description: 'jobs one worker process runs at once per queue' },
  { name: 'LEDGER_BUFFER_MINUTES', path: ['ledger', 'bufferMinutes'], parse: 'integer', description: 'turnover buffer between two bookings of a room or seat' },
  { name: 'LEDGER_CLOSED_DATES', path: ['ledger', 'closedDates'], parse: 'list', description: 'extra closed dates, comma-separated yyyy-MM-dd' },
  { name: 'LEDGER_ROOMS', path: ['ledger', 'rooms'], parse: 'json', description: 'rooms as a JSON array of {id, kind: room|hall, seats, address}' },
  { name: 'PROVINCE_BASE_URL', path: ['partners', 'province', 'baseUrl'], parse: 'string', description: 'the province\'s base URL; when absent, npm start runs a province simulator' },
  { name: 'PROVINCE_SYSTEM_NO', path: ['partners', 'province', 'systemNo'], parse: 'string', description: 'SYSTEM_NO the province signs with' },
  { name: 'PROVINCE_INBOUND_SECRET', path: ['partners', 'province', 'inboundSecret'], parse: 'string', description: 'verifies what the province (HNSDD) signs', secret: true },
  { name: 'PROVINCE_OUTBOUND_SECRET', path: ['partners', 'province', 'outboundSecret'], parse: 'string', description: 'signs what Zhuzhou (ZZ430200) sends to the province', secret: true },
  { name: 'PROVINCE_SIGN_METHOD', path: ['partners', 'province', 'signMethod'], parse: 'string', description: 'SIGN_METHOD of outgoing messages: HMAC-SM3 or HMAC-SHA256' },
  { name: 'PROVINCE_RATE_LIMIT', path: ['partners', 'province', 'rateLimitPerSecond'], parse: 'integer', description: 'requests per second accepted from the province (all api processes together)' },
  { name: 'PROVINCE_CLOCK_TOLERANCE_SECONDS', path: ['partners', 'province', 'clockToleranceSeconds'], parse: 'integer', description: 'largest accepted distance of TIME from our clock' },
  { name: 'PROVINCE_TIMEOUT_MS', path: ['partners', 'province', 'delivery', 'timeoutMs'], parse: 'integer', description: 'timeout of every call to the province' },
  { name: 'PROVINCE_DELIVERY_ATTEMPTS', path: ['partners', 'province', 'delivery', 'attempts'], parse: 'integer', description: 'attempts before a message to the province goes to the dead letters' },
  { name: 'PROVINCE_BACKOFF_BASE_MS', path: ['partners', 'province', 'delivery', 'backoffBaseMs'], parse: 'integer', description: 'first retry delay; doubles each attempt, with jitter' },
  { name: 'PROVINCE_BACKOFF_MAX_MS', path: ['partners', 'province', 'delivery', 'backoffMaxMs'], parse: 'integer', description: 'longest retry delay' },
  { name: 'PROVINCE_BREAKER_FAILURES', path: ['partners', 'province', 'delivery', 'breakerFailures'], parse: 'integer', description: 'consecutive failures that open the circuit to the province' },
  { name: 'PROVINCE_BREAKER_HALF_OPEN_MS', path: ['partners', 'province', 'delivery', 'breakerHalfOpenAfterMs'], parse: 'integer', description: 'how long the open circuit waits before one trial call' },
  { name: 'LEDGER_HOLD_MINUTES', path: ['ledger', 'holdMinutes'], parse: 'number', description: 'how long an offered hold keeps its seats before it lapses' },
  { name: 'LEDGER_OPENING_HOURS', path: ['ledger', 'openingHours'], parse: 'json', description: 'daily window published as availability, JSON {"start":"08:00","end":"18:00"}' },
  { name: 'CHANGSHA_BASE_URL', path: ['partners', 'changsha', 'baseUrl'], parse: 'string', description: 'Changsha\'s base URL; when absent, npm start runs a Changsha simulator' },
  { name: 'CHANGSHA_CENTER_CODE', path: ['partners', 'changsha', 'centerCode'], parse: 'string', description: 'hostCenter Changsha\'s own requests must carry' },
  { name: 'CHANGSHA_CLIENT_ID', path: ['partners', 'changsha', 'clientId'], parse: 'string', description: 'OAuth2 client id at Changsha\'s token endpoint' },
  { name: 'CHANGSHA_CLIENT_SECRET', path: ['partners', 'changsha', 'clientSecret'], parse: 'string', description: 'OAuth2 client secret at Changsha\'s token endpoint', secret: true },
  { name: 'CHANGSHA_INBOUND_KEY_ID', path: ['partners', 'changsha', 'inboundKeyId'], parse: 'string', description: 'X-YCH-Key-Id Changsha signs with' },
  { name: 'CHANGSHA_INBOUND_SECRET', path: ['partners', 'changsha', 'inboundSecret'], parse: 'string', description: 'current secret of that key id', secret: true },
  { name: 'CHANGSHA_INBOUND_PREVIOUS_SECRET', path: ['partners', 'changsha', 'inboundPreviousSecret'], parse: 'string', description: 'previous secret, still accepted during a rotation', secret: true },
  { name: 'CHANGSHA_OUTBOUND_KEY_ID', path: ['partners', 'changsha', 'outboundKeyId'], parse: 'string', description: 'X-YCH-Key-Id Zhuzhou signs with' },
  { name: 'CHANGSHA_OUTBOUND_SECRET', path: ['partners', 'changsha', 'outboundSecret'], parse: 'string', description: 'secret Zhuzhou signs its events with', secret: true },
  { name: 'CHANGSHA_RATE_LIMIT', path: ['partners', 'changsha', 'rateLimitPerSecond'], parse: 'integer', description: 'requests per second accepted from Changsha (all api processes together)' },
  { name: 'CHANGSHA_CLOCK_TOLERANCE_SECONDS', path: ['partners', 'changsha', 'clockToleranceSeconds'], parse: 'integer', description: 'largest accepted distance of the signature time t from our clock' },
  { name: 'CHANGSHA_TOKEN_REFRESH_MARGIN_SECONDS', path: ['partners', 'changsha', 'tokenRefreshMarginSeconds'], parse: 'integer', description: 'a token is renewed this long before expires_in runs out' },
  { name: 'CHANGSHA_AVAILABILITY_POLL_CRON', path: ['partners', 'changsha', 'availability', 'pollCron'], parse: 'string', description: 'when Changsha\'s availability is fetched (cron, Asia/Shanghai)' },
  { name: 'CHANGSHA_AVAILABILITY_PUBLISH_CRON', path: ['partners', 'changsha', 'availability', 'publishCron'], parse: 'string', description: 'when Zhuzhou\'s availability is published to Changsha (cron, Asia/Shanghai)' },
  { name: 'CHANGSHA_AVAILABILITY_DEBOUNCE_MS', path: ['partners', 'changsha', 'availability', 'publishDebounceMs'], parse: 'integer', description: 'after a ledger change, availability is published within this delay, changes merged' },
  { name: 'CHANGSHA_AVAILABILITY_HORIZON_DAYS', path: ['partners', 'changsha', 'availability', 'horizonDays'], parse: 'integer', description: 'days ahead covered by published and fetched availability' },
  { name: 'CHANGSHA_TIMEOUT_MS', path: ['partners', 'changsha', 'delivery', 'timeoutMs'], parse: 'integer', description: 'timeout of every call to Changsha' },
  { name: 'CHANGSHA_DELIVERY_ATTEMPTS', path: ['partners', 'changsha', 'delivery', 'attempts'], parse: 'integer', description: 'attempts before an event to Changsha goes to the dead letters' },
  { name: 'CHANGSHA_BACKOFF_BASE_MS', path: ['partners', 'changsha', 'delivery', 'backoffBaseMs'], parse: 'integer', description: 'first retry delay towards Changsha; doubles each attempt, with jitter' },
  { name: 'CHANGSHA_BACKOFF_MAX_MS', path: ['partners', 'changsha', 'delivery', 'backoffMaxMs'], parse: 'integer', description: 'longest retry delay towards Changsha' },
  { name: 'CHANGSHA_BREAKER_FAILURES', path: ['partners', 'changsha', 'delivery', 'breakerFailures'], parse: 'integer', description: 'consecutive failures that open the circuit to Changsha' },
  { name: 'CHANGSHA_BREAKER_HALF_OPEN_MS', path: ['partners', 'changsha', 'delivery', 'breakerHalfOpenAfterMs'], parse: 'integer', description: 'how long the open circuit to Changsha waits before one trial call' },
];
