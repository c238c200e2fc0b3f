import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildEnvelope, type ProvinceInterface } from '../../adapters/province/signature.ts';
import { schemaObject } from '../../schemas/registry.ts';
import { SchemaComponents } from './schemas.ts';

/**
 * The OpenAPI 3.1 documents of every HTTP surface of the gateway (`npm run docs:openapi`
 * writes them to docs/openapi/, the gateway serves them at /openapi/ and /docs/). Request
 * schemas are the components of gateway/openapi/schemas.ts: the schemas the validators
 * compile. Examples are the partners' own (test/fixtures/partners/, a copy of
 * shared/partners/examples/), province envelopes signed again with the contract's test
 * secrets so that each one is a vector a partner can check its code against.
 */

export const DOCUMENT_NAMES = ['province-to-gateway', 'gateway-to-province', 'changsha-to-gateway', 'gateway-to-changsha', 'center-api'] as const;
export type DocumentName = (typeof DOCUMENT_NAMES)[number];

export type OpenApiDocument = Record<string, unknown> & { openapi: string; paths: Record<string, Record<string, Operation>> };
type Operation = Record<string, unknown>;

const ROOT = join(import.meta.dirname, '..', '..');
/** Where the partners' examples are kept in the repository (the same files as shared/partners/examples/). */
export const EXAMPLES_DIR = join(ROOT, 'test', 'fixtures', 'partners');

/** The contract's test secrets (province.md, changsha.md): examples signed with them can be checked by anyone. */
const PROVINCE_TEST_SECRETS: Record<string, string> = { HNSDD: 'province-test-secret-0001', ZZ430200: 'zhuzhou-test-secret-0001' };

const VERSION = '1.0.0';

// ---------------------------------------------------------------------------------------------
// signature rules, one per security scheme

const PROVINCE_SIGNATURE = [
  'Every message travels in a signed envelope `{"validation": {...}, "data": {...}}` (province.md, *Envelope and signature*).',
  'The signature is not a header: it is `validation.TOKEN` in the body (for `GET /schedule`, the `TOKEN` query parameter beside the other `validation` fields).',
  '',
  '- `DATAUUID`: 32 lowercase hex, unique per message, the same on a resend (a repeated one gets the first answer again).',
  '- `SYSTEM_NO`: the sender, `HNSDD` (the province) or `ZZ430200` (Zhuzhou).',
  '- `TIME`: `yyyyMMddHHmmss`, Beijing time, when signed; refused when more than 300 s from the receiver\'s clock (`PROVINCE_CLOCK_TOLERANCE_SECONDS`).',
  '- `SIGN_METHOD`: `HMAC-SM3` (when absent) or `HMAC-SHA256`.',
  '- `TOKEN`: lowercase hex HMAC, with the secret shared for `SYSTEM_NO`, of the signing string, five parts joined by `\\n`:',
  '  `SYSTEM_NO`, `DATAUUID`, `TIME`, the interface code (the last segment of the path: `apply`, `notify`, `host-apply`, …),',
  '  and the lowercase hex SM3 of the RFC 8785 (JCS) canonical UTF-8 serialization of `data`.',
  '',
  'Checked after the schema (the TOKEN signs the parsed `data`), in constant time; an unknown `SYSTEM_NO`, a `TIME` out of the window or a wrong `TOKEN` is 401 `身份验证失败`.',
  'The examples of these documents are signed with the contract\'s test secrets: `province-test-secret-0001` for `HNSDD`, `zhuzhou-test-secret-0001` for `ZZ430200`',
  '(so `cancel` is province.md\'s test vector: SM3 `9411abd8…5b41`, HMAC-SM3 `03f7f8c8…1e24`).',
].join('\n');

const CHANGSHA_SIGNATURE = [
  'Both headers on every event, both directions (changsha.md, *Signature*):',
  '',
  '```',
  'X-YCH-Key-Id: <key id>',
  'X-YCH-Signature: t=<Unix seconds>,v1=<hex>[,v1=<hex>]',
  '```',
  '',
  '`v1` is the lowercase hex HMAC-SHA256, with the secret of that key id, of `t + "." + rawBody` (the body bytes as sent).',
  'Several `v1` may be given while a secret is rotated; one match is enough. `t` must be within 300 s of the receiver\'s clock',
  '(`CHANGSHA_CLOCK_TOLERANCE_SECONDS`); comparison in constant time. The gateway accepts the current and the previous secret of each',
  'configured key id (`CHANGSHA_INBOUND_*`). The signature is checked before the schema, so a stranger learns nothing of it: 401 `Invalid signature`.',
  '',
  'Test vector: secret `changsha-test-secret-0001`, `t=1764034200`, body',
  '`{"eventId":"evt_20261125_000042","eventType":"slot.released","occurredAt":"2026-11-25T09:30:00+08:00","data":{"requestId":"CSR-2026-1125-007","reason":"PROJECT_POSTPONED"}}`',
  'gives `v1=87eed196f460910051206c9f400b5b62de1a709d3b48c86a1ff327847da9eb18`.',
].join('\n');

const PROVINCE_SCHEME = { ProvinceToken: { type: 'apiKey', in: 'query', name: 'TOKEN', description: PROVINCE_SIGNATURE } };
const CHANGSHA_SCHEMES = {
  ChangshaKeyId: { type: 'apiKey', in: 'header', name: 'X-YCH-Key-Id', description: `The key id whose secret signs \`X-YCH-Signature\`.\n\n${CHANGSHA_SIGNATURE}` },
  ChangshaSignature: { type: 'apiKey', in: 'header', name: 'X-YCH-Signature', description: CHANGSHA_SIGNATURE },
};

// ---------------------------------------------------------------------------------------------
// examples

function fixture(file: string): unknown {
  return JSON.parse(readFileSync(join(EXAMPLES_DIR, file), 'utf8')) as unknown;
}

/** A province envelope of the examples, its TOKEN computed again with the test secret of its sender for this interface. */
function signedProvinceExample(file: string, interfaceCode: ProvinceInterface): unknown {
  const envelope = fixture(file) as { validation: { DATAUUID: string; SYSTEM_NO: string; TIME: string; SIGN_METHOD?: 'HMAC-SM3' | 'HMAC-SHA256' }; data: unknown };
  const { DATAUUID, SYSTEM_NO, TIME, SIGN_METHOD } = envelope.validation;
  const secret = PROVINCE_TEST_SECRETS[SYSTEM_NO];
  if (secret === undefined) throw new Error(`${file}: no test secret for SYSTEM_NO ${SYSTEM_NO}`);
  return buildEnvelope({ secret, method: SIGN_METHOD ?? 'HMAC-SM3', systemNo: SYSTEM_NO, dataUuid: DATAUUID, time: TIME, interfaceCode }, envelope.data);
}

type Examples = Record<string, { summary: string; value: unknown }>;

// ---------------------------------------------------------------------------------------------
// answers

function json(schema: unknown, examples?: Examples): Record<string, unknown> {
  return { 'application/json': { schema, ...(examples ? { examples } : {}) } };
}

const RETRY_AFTER = { 'Retry-After': { description: 'Seconds to wait before sending again.', schema: { type: 'integer', minimum: 1 } } };

/** province.md, *Responses*: the same shape for every answer, both directions. */
const PROVINCE_ANSWERS: [status: string, msg: string, when: string][] = [
  ['400', '报文格式错误', 'not JSON, not UTF-8, wrong types, missing or unknown fields anywhere; `Data.errors` lists every violation as `{path, message}` (JSON Pointer)'],
  ['401', '身份验证失败', 'signature, `SYSTEM_NO` or `TIME` (see the security scheme)'],
  ['404', '未找到申请', 'an unknown interface, or a `query` for a request never received'],
  ['409', '请求冲突', 'a known `SERIES_NUMBER` with different content, or a change/cancel naming a request another accepted change/cancel already names'],
  ['413', '报文过大', 'body over 256 KiB'],
  ['422', '业务校验失败', 'the semantic rules (province.md), each in `Data.errors`; a rule with a code puts it in `message` (`NOT_IN_FORCE`)'],
  ['429', '请求过于频繁', 'over the partner\'s rate limit (`PROVINCE_RATE_LIMIT`); `Retry-After` says when to send again'],
  ['503', '服务暂不可用', 'the gateway cannot record the message now: nothing was acknowledged; `Retry-After` says when to send again'],
];

function provinceInboundResponses(components: SchemaComponents): Record<string, unknown> {
  const response = components.ref('partners/province/response.json');
  const responses: Record<string, unknown> = {
    '200': {
      description: '`成功`: recorded durably and queued (`Data.TRACKING_NO` is the gateway\'s id for it); a repeated `DATAUUID`, or a repeated request with the same content, gets the first answer again and is not processed twice.',
      content: json(response, { accepted: { summary: 'accepted', value: fixture('province-response-200.json') } }),
    },
  };
  for (const [status, msg, when] of PROVINCE_ANSWERS) {
    responses[status] = {
      description: `\`${msg}\`: ${when}.`,
      ...(status === '429' || status === '503' ? { headers: RETRY_AFTER } : {}),
      content: json(response, status === '400' ? { invalid: { summary: 'every violation listed', value: fixture('province-response-400.json') } } : undefined),
    };
  }
  return responses;
}

function provinceOutboundResponses(components: SchemaComponents, success: { relativeId: string; description: string }): Record<string, unknown> {
  return {
    '200': { description: success.description, content: json(components.ref(success.relativeId)) },
    '429': { description: 'Try again later, after `Retry-After` (at most `PROVINCE_BACKOFF_MAX_MS`).', headers: RETRY_AFTER, content: json(components.ref('partners/province/response.json')) },
    '503': { description: 'Try again later (also any 5xx, a timeout, or `State` `500`/`503`/`429`).', headers: RETRY_AFTER, content: json(components.ref('partners/province/response.json')) },
    '4XX': { description: 'Any other answer is a permanent refusal: the message goes to the dead letters for an operator, and is not retried.', content: json(components.ref('partners/province/response.json')) },
  };
}

/** RFC 9457 problem details, as gateway/problem.ts writes them for /api/v1 (and Changsha's adapter for its events). */
const PROBLEM_SCHEMA = {
  type: 'object',
  required: ['title', 'status'],
  properties: {
    type: { type: 'string' },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    code: { type: 'string', description: 'a rule\'s code, when one was broken (`STATE_CONFLICT`, `NOT_IN_FORCE`)' },
    errors: {
      type: 'array',
      description: 'every violation found',
      items: { type: 'object', required: ['path', 'message'], properties: { path: { type: 'string', description: 'JSON Pointer into the body' }, message: { type: 'string' } } },
    },
  },
};

/** A page of a list of /api/v1, as gateway/api/lists.ts answers it. */
const LIST_PAGE_SCHEMA = {
  type: 'object',
  required: ['items', 'total', 'next'],
  properties: {
    items: { type: 'array', items: { type: 'object' } },
    total: { type: 'integer', minimum: 0, description: 'how many items match the filters' },
    next: { type: ['string', 'null'], description: 'the cursor of the following page, null on the last' },
  },
};

function problem(description: string, examples?: Examples, headers?: Record<string, unknown>): Record<string, unknown> {
  return { description, ...(headers ? { headers } : {}), content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' }, ...(examples ? { examples } : {}) } } };
}

// ---------------------------------------------------------------------------------------------
// the province's pushes to the gateway

/** The interfaces of `POST /partners/province/{interface}`: the province adapter's operations, each with the schema it validates. */
export const PROVINCE_INBOUND: readonly { operation: ProvinceInterface; schema: string; summary: string; description: string; examples: string[] }[] = [
  { operation: 'apply', schema: 'partners/province/apply.json', summary: '场地申请: a host center asks for a room at Zhuzhou', description: 'Zhuzhou as guest venue (副场). The room ledger decides; the answer follows as `POST /notify` (gateway-to-province).', examples: ['province-apply.json'] },
  { operation: 'change', schema: 'partners/province/change.json', summary: '场地变更: a change of a request', description: 'All fields of `apply`, `SERIES_NUMBER` `BG…`, plus `ORIGINAL_SERIES_NUMBER` (the request it replaces) and a non-empty `REMARK`. A change whose original has not arrived is accepted and held.', examples: ['province-change.json'] },
  { operation: 'cancel', schema: 'partners/province/cancel.json', summary: '取消场地: a cancellation', description: '`SERIES_NUMBER` (`QX…`), `ORIGINAL_SERIES_NUMBER`, `REMARK` (the reason). The example is province.md\'s test vector.', examples: ['province-cancel.json'] },
  { operation: 'query', schema: 'partners/province/query.json', summary: '重新询问: send the answer to a request again', description: 'The gateway sends its `notify` for that `SERIES_NUMBER` again; 404 `未找到申请` if it never received the request.', examples: [] },
  { operation: 'host-result', schema: 'partners/province/host-result.json', summary: '副场审批结果: a guest\'s decision on Zhuzhou\'s host application', description: 'Zhuzhou as host (主场): one push per guest decision on a `host-apply` or `host-change`. One for an application not recorded yet is accepted and held.', examples: ['province-host-result-approved.json'] },
  { operation: 'host-outcome', schema: 'partners/province/host-outcome.json', summary: '申请结果: the outcome of Zhuzhou\'s host application', description: '`OUTCOME` `"1"` in force, `"3"` failed, `"5"` cancelled, `"6"` expired; final for its `SERIES_NUMBER`.', examples: ['province-host-outcome-failed.json'] },
  { operation: 'eval-status', schema: 'partners/province/eval-status.json', summary: '评标状态: the host\'s evaluation status, forwarded to Zhuzhou as guest', description: 'Recorded in `STATUS_TIME` order; `"2"` (ended) frees the room from `STATUS_TIME` plus the turnover buffer. 422 `NOT_IN_FORCE` for a request Zhuzhou does not hold in force.', examples: [] },
];

function provinceToGateway(): OpenApiDocument {
  const components = new SchemaComponents();
  const paths: OpenApiDocument['paths'] = {};
  for (const entry of PROVINCE_INBOUND) {
    const examples: Examples = {};
    for (const file of entry.examples) examples[file.replace(/^province-|\.json$/g, '')] = { summary: `${file} (signed with the test secret)`, value: signedProvinceExample(file, entry.operation) };
    paths[`/partners/province/${entry.operation}`] = {
      post: {
        operationId: `province-${entry.operation}`,
        tags: [entry.operation.startsWith('host-') ? 'Zhuzhou as host' : 'Zhuzhou as guest'],
        summary: entry.summary,
        description: `${entry.description}\n\nChecked in this order: the source address's limit, UTF-8 JSON, the schema (every violation listed), the signature, the province's rate limit, the rules (422), then recorded and queued before the answer.`,
        security: [{ ProvinceToken: [] }],
        requestBody: { required: true, content: json(components.ref(entry.schema), entry.examples.length > 0 ? examples : undefined) },
        responses: provinceInboundResponses(components),
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Province to gateway: pushes of the provincial dispatch system (湖南省远程异地评标综合调度系统)',
      version: VERSION,
      description: 'What the province sends Zhuzhou\'s gateway, city-center interface v2.2 (province.md). `Content-Type: application/json; charset=utf-8`, at most 256 KiB. Times `yyyyMMddHHmmss` in Beijing time. The gateway\'s own messages to the province are in `gateway-to-province.json`.',
    },
    servers: [{ url: '/', description: 'the gateway' }],
    tags: [
      { name: 'Zhuzhou as guest', description: 'requests for rooms at Zhuzhou (副场)' },
      { name: 'Zhuzhou as host', description: 'decisions on Zhuzhou\'s own host applications (主场)' },
    ],
    paths,
    components: { schemas: components.toJSON(), securitySchemes: PROVINCE_SCHEME },
  };
}

// ---------------------------------------------------------------------------------------------
// the gateway's calls to the province

const PROVINCE_OUTBOUND: readonly { operation: ProvinceInterface; schema: string; summary: string; description: string; examples: string[]; answer: { relativeId: string; description: string } }[] = [
  { operation: 'notify', schema: 'partners/province/notify.json', summary: '副场审批结果: Zhuzhou\'s decision on an apply, change or cancel', description: 'Sent once the room ledger has decided; `STATUS` `"1"` approved (room and exactly `SEAT_COUNT` seats), `"2"` rejected (`REMARK` the reason).', examples: ['province-notify-approved.json', 'province-notify-rejected.json'], answer: { relativeId: 'partners/province/response.json', description: '`State` `200` (also for a repeated `DATAUUID`): delivered.' } },
  { operation: 'exception', schema: 'partners/province/exception.json', summary: '异常上报: a room, network or expert problem with a booked request', description: 'Raised by operators (dashboard, `POST /api/v1/exceptions`).', examples: [], answer: { relativeId: 'partners/province/response.json', description: '`State` `200`: delivered.' } },
  { operation: 'seat-check', schema: 'partners/province/seat-check.json', summary: '席位查询: a guest center\'s free seats over a window', description: 'Advisory: nothing is held.', examples: [], answer: { relativeId: 'partners/province/seat-check-answer.json', description: '`State` `200`, the free seats per room.' } },
  { operation: 'host-apply', schema: 'partners/province/host-apply.json', summary: '主场申请: Zhuzhou as host applies for rooms at the guest centers', description: 'The `DATAUUID` is derived from the evaluation, so a resend gets the same `SERIES_NUMBER`. The example is province.md\'s host-apply vector.', examples: ['province-host-apply.json'], answer: { relativeId: 'partners/province/host-answer.json', description: '`State` `200`, `Data.SERIES_NUMBER` assigned by the province (`SQ…`).' } },
  { operation: 'host-change', schema: 'partners/province/host-change.json', summary: '主场变更: the complete new plan of an application in force', description: 'Make before break: the original stays in force until the change\'s outcome.', examples: [], answer: { relativeId: 'partners/province/host-answer.json', description: '`State` `200`, `Data.SERIES_NUMBER` `BG…`.' } },
  { operation: 'host-cancel', schema: 'partners/province/host-cancel.json', summary: '主场取消: cancels an application', description: 'The province cancels it at every guest and reports `host-outcome` `"5"`.', examples: [], answer: { relativeId: 'partners/province/host-answer.json', description: '`State` `200`, `Data.SERIES_NUMBER` `QX…`.' } },
  { operation: 'eval-status', schema: 'partners/province/host-eval-status.json', summary: '评标状态: the lifecycle of Zhuzhou\'s host evaluation', description: '`"1"` started or resumed, `"4"` paused (with its reason), `"2"` ended, `"3"` archived.', examples: ['province-eval-status.json'], answer: { relativeId: 'partners/province/response.json', description: '`State` `200`: delivered.' } },
];

function gatewayToProvince(): OpenApiDocument {
  const components = new SchemaComponents();
  const paths: OpenApiDocument['paths'] = {};
  for (const entry of PROVINCE_OUTBOUND) {
    const examples: Examples = {};
    for (const file of entry.examples) examples[file.replace(/^province-|\.json$/g, '')] = { summary: `${file} (signed with the test secret)`, value: signedProvinceExample(file, entry.operation) };
    paths[`/${entry.operation}`] = {
      post: {
        operationId: `to-province-${entry.operation}`,
        summary: entry.summary,
        description: `${entry.description}\n\nSigned as \`ZZ430200\`. Retried with exponential backoff and jitter for \`PROVINCE_RETRY_HOURS\` from the first attempt; a permanent refusal goes to the dead letters at once.`,
        security: [{ ProvinceToken: [] }],
        requestBody: { required: true, content: json(components.ref(entry.schema), entry.examples.length > 0 ? examples : undefined) },
        responses: provinceOutboundResponses(components, entry.answer),
      },
    };
  }
  const validation = (field: string) => components.ref('partners/province/common.json', `/$defs/validation/properties/${field}`);
  paths['/schedule'] = {
    get: {
      operationId: 'to-province-schedule',
      summary: 'reconciliation: every request in force at `AREA_CODE` starting on `DATE`',
      description: 'No body: the `validation` fields travel as query parameters, and `data` is the object of the other query parameters (all strings), here `{"AREA_CODE": …, "DATE": …}`. Used daily (`RECONCILIATION_CRON`) and on demand.',
      security: [{ ProvinceToken: [] }],
      parameters: [
        { name: 'AREA_CODE', in: 'query', required: true, schema: components.ref('partners/province/common.json', '/$defs/areaCode'), example: '430200' },
        { name: 'DATE', in: 'query', required: true, description: '`yyyyMMdd`, Beijing time', schema: { type: 'string', pattern: '^[0-9]{8}$' }, example: '20261203' },
        ...['DATAUUID', 'SYSTEM_NO', 'TIME', 'SIGN_METHOD'].map((field) => ({ name: field, in: 'query', required: field !== 'SIGN_METHOD', schema: validation(field) })),
      ],
      responses: provinceOutboundResponses(components, { relativeId: 'partners/province/schedule-response.json', description: '`Data.items`: each shaped like the `data` of an `apply`, plus `ORIGINAL_SERIES_NUMBER` for a change.' }),
    },
  };
  return {
    openapi: '3.1.0',
    info: {
      title: 'Gateway to province: what Zhuzhou\'s gateway sends the provincial dispatch system',
      version: VERSION,
      description: 'The province\'s interfaces as the gateway calls them (province.md, *Gateway -> province* and *Zhuzhou as host venue*), for the province\'s developers and for simulators. The same envelope and answers as the pushes (`province-to-gateway.json`).',
    },
    servers: [{ url: '{provinceBaseUrl}', description: '`PROVINCE_BASE_URL` of the deployment', variables: { provinceBaseUrl: { default: 'https://dispatch.hunan.invalid', description: 'the province\'s base URL' } } }],
    paths,
    components: { schemas: components.toJSON(), securitySchemes: PROVINCE_SCHEME },
  };
}

// ---------------------------------------------------------------------------------------------
// Changsha

const ACCEPTED_SCHEMA = { type: 'object', required: ['accepted', 'trackingId'], properties: { accepted: { const: true }, trackingId: { type: 'string', description: 'the gateway\'s id for the event' } } };

function changshaEventExamples(files: string[]): Examples {
  return Object.fromEntries(files.map((file) => {
    const event = fixture(file) as { eventType: string };
    return [file.replace(/^changsha-|\.json$/g, ''), { summary: event.eventType, value: event }];
  }));
}

function changshaToGateway(): OpenApiDocument {
  const components = new SchemaComponents();
  return {
    openapi: '3.1.0',
    info: {
      title: 'Changsha to gateway: events of the Changsha dispatch platform (易采虹远程调度平台)',
      version: VERSION,
      description: 'What Changsha (430100) sends Zhuzhou\'s gateway, open API v2 (changsha.md). JSON, UTF-8, at most 256 KiB; times ISO 8601 with an offset. The gateway\'s own events to Changsha are in `gateway-to-changsha.json`.',
    },
    servers: [{ url: '/', description: 'the gateway' }],
    paths: {
      '/partners/changsha/events': {
        post: {
          operationId: 'changsha-events',
          summary: 'an event: slot.requested, slot.confirmed, slot.released, session.status, availability.published, …',
          description: 'Checked in this order: the source address\'s limit, UTF-8 JSON, the signature (over the raw body), the schema (every violation listed), Changsha\'s rate limit, the rules (422), then recorded and queued before the answer. `eventId` is the idempotency key.',
          security: [{ ChangshaKeyId: [], ChangshaSignature: [] }],
          requestBody: {
            required: true,
            content: json(components.ref('partners/changsha/event.json'), changshaEventExamples(['changsha-slot-requested.json', 'changsha-slot-confirmed.json', 'changsha-slot-released.json', 'changsha-availability.json'])),
          },
          responses: {
            '202': { description: 'Recorded durably; a repeated `eventId` gets the same body as the first time.', content: json({ $ref: '#/components/schemas/Accepted' }) },
            '400': problem('Malformed: not JSON, not UTF-8, or against the schema; `errors` lists every violation.', { invalid: { summary: 'every violation listed', value: fixture('changsha-error-400.json') } }),
            '401': problem('`Invalid signature`: signature, key id or timestamp (see the security schemes).'),
            '404': problem('An unknown interface.'),
            '409': problem('A known `requestId` with different content.'),
            '413': problem('Body over 256 KiB.'),
            '422': problem('The rules: `start`/`end` (after, same Beijing day, not past), `hostCenter` not 430100 for a request from Changsha, `sectionCode` not starting with `projectCode`; a `session.status` for a request not confirmed for Changsha is `NOT_IN_FORCE`.'),
            '429': problem('Over Changsha\'s rate limit (`CHANGSHA_RATE_LIMIT`).', undefined, RETRY_AFTER),
            '503': problem('Nothing was recorded: send again after `Retry-After`.', undefined, RETRY_AFTER),
          },
        },
      },
    },
    components: { schemas: { ...components.toJSON(), Accepted: ACCEPTED_SCHEMA, Problem: PROBLEM_SCHEMA }, securitySchemes: CHANGSHA_SCHEMES },
  };
}

function gatewayToChangsha(): OpenApiDocument {
  const components = new SchemaComponents();
  const event = components.ref('partners/changsha/event.json');
  const retried = {
    '409': { description: 'A duplicate `eventId`: taken as success.' },
    '429': { description: 'Wait `Retry-After` (at most `CHANGSHA_BACKOFF_MAX_MS`), then try again.', headers: RETRY_AFTER },
    '4XX': { description: 'Any other 4xx is permanent: the event goes to the dead letters for an operator. On a 401 the token is fetched again once first.' },
    '5XX': { description: 'Try again later, with exponential backoff and jitter, for `CHANGSHA_RETRY_HOURS` from the first attempt (also after a timeout).' },
  };
  return {
    openapi: '3.1.0',
    info: {
      title: 'Gateway to Changsha: what Zhuzhou\'s gateway sends the Changsha dispatch platform',
      version: VERSION,
      description: 'Changsha\'s open API v2 as the gateway calls it (changsha.md, *Gateway -> Changsha*): a client-credentials token, then signed events and the availability poll.',
    },
    servers: [{ url: '{changshaBaseUrl}', description: '`CHANGSHA_BASE_URL` of the deployment', variables: { changshaBaseUrl: { default: 'https://dispatch.changsha.invalid', description: 'Changsha\'s base URL' } } }],
    paths: {
      '/oauth/token': {
        post: {
          operationId: 'to-changsha-token',
          summary: 'a bearer token (client credentials)',
          description: 'Reused until `CHANGSHA_TOKEN_REFRESH_MARGIN_SECONDS` before `expires_in` runs out, shared by the process.',
          security: [],
          requestBody: {
            required: true,
            content: {
              'application/x-www-form-urlencoded': {
                schema: {
                  type: 'object',
                  required: ['grant_type', 'client_id', 'client_secret'],
                  properties: { grant_type: { const: 'client_credentials' }, client_id: { type: 'string', description: '`CHANGSHA_CLIENT_ID`' }, client_secret: { type: 'string', description: '`CHANGSHA_CLIENT_SECRET`' } },
                },
              },
            },
          },
          responses: { '200': { description: 'The token.', content: json(components.ref('partners/changsha/token.json')) }, '4XX': { description: 'Refused: events wait and are tried again.' } },
        },
      },
      '/open-api/v2/events': {
        post: {
          operationId: 'to-changsha-events',
          summary: 'an event: slot.offered, slot.declined, slot.released, slot.requested, slot.confirmed, session.status, availability.published',
          description: 'Zhuzhou as guest answers Changsha\'s requests (`slot.offered`, `slot.declined`, `slot.released`); as host it asks for seats (`slot.requested`, `slot.confirmed`, `slot.released`) and reports the lifecycle (`session.status`); it publishes its availability daily and after ledger changes. Every `eventId` is derived from what caused the event, so a resend is a duplicate.',
          security: [{ ChangshaOAuth: [], ChangshaKeyId: [], ChangshaSignature: [] }],
          requestBody: { required: true, content: json(event, changshaEventExamples(['changsha-slot-offered.json', 'changsha-session-status.json'])) },
          responses: { '202': { description: 'Accepted.' }, ...retried },
        },
      },
      '/open-api/v2/availability': {
        get: {
          operationId: 'to-changsha-availability',
          summary: 'Changsha\'s availability over a window',
          description: 'Polled on `CHANGSHA_AVAILABILITY_POLL_CRON` over `CHANGSHA_AVAILABILITY_HORIZON_DAYS`; kept for the dashboard and for planning host evaluations.',
          security: [{ ChangshaOAuth: [] }],
          parameters: [
            { name: 'from', in: 'query', required: true, schema: { type: 'string', format: 'date-time' } },
            { name: 'to', in: 'query', required: true, schema: { type: 'string', format: 'date-time' } },
          ],
          responses: { '200': { description: 'An `availability.published` event body for Changsha\'s rooms.', content: json(event, changshaEventExamples(['changsha-availability.json'])) }, '4XX': { description: 'Not kept; the next poll tries again.' } },
        },
      },
    },
    components: {
      schemas: components.toJSON(),
      securitySchemes: {
        ChangshaOAuth: { type: 'oauth2', description: 'Client credentials at `POST /oauth/token`; `Authorization: Bearer <token>`. On a 401 the gateway fetches a new token once and tries again.', flows: { clientCredentials: { tokenUrl: '/oauth/token', scopes: {} } } },
        ...CHANGSHA_SCHEMES,
      },
    },
  };
}

// ---------------------------------------------------------------------------------------------
// the center's API

function centerApi(): OpenApiDocument {
  const components = new SchemaComponents();
  const id = (name: string, description: string) => ({ name, in: 'path', required: true, description, schema: { type: 'string' } });
  const ok = (description: string) => ({ description, content: json({ type: 'object' }) });
  const common = { '401': problem('Missing or wrong `X-Api-Key`.') };
  const audited = 'Audited, done or refused, with the key\'s name (`api-key:local`) as actor.';
  /** Query parameters from a query schema of schemas/api/: one parameter a property, its schema the property's own. */
  const queryParameters = (relativeId: string) => {
    const schema = schemaObject(relativeId) as { properties?: Record<string, { description?: string }>; required?: string[] };
    return Object.entries(schema.properties ?? {}).map(([name, property]) => ({
      name,
      in: 'query',
      required: (schema.required ?? []).includes(name),
      ...(property.description === undefined ? {} : { description: property.description }),
      schema: components.ref(relativeId, `/properties/${name}`),
    }));
  };
  /** A list of /api/v1 (gateway/api/lists.ts): its query schema's filters, a page of items after a cursor, how many match. */
  const list = (relativeId: string, items: string) => ({
    description: `${String(schemaObject(relativeId)['description'] ?? '')}\n\nEvery parameter is checked by \`schemas/${relativeId}\`; an unknown one is refused. \`next\` is the cursor of the following page (null on the last), signed: one changed, or shown with other filters, is refused (400).`,
    parameters: queryParameters(relativeId),
    responses: { '200': { description: `\`{items, total, next}\`: ${items}; \`total\` matches the filters on every page.`, content: json({ $ref: '#/components/schemas/ListPage' }) }, '400': problem('Against the query schema, or a cursor this list did not give: every violation in `errors`.'), ...common },
  });
  const body = (relativeId: string) => ({ required: true, content: json(components.ref(relativeId)) });
  const hostEvaluation = id('id', 'the evaluation\'s id (`HE…`)');
  const paths: OpenApiDocument['paths'] = {
    '/api/v1/messages': {
      get: { operationId: 'messages-list', tags: ['Messages'], summary: 'the messages with one id, or received in a time range', ...list('api/message-list-query.json', 'each message with its metadata, the raw body with personal data masked, its full trace') },
    },
    '/api/v1/messages/{trackingNo}': {
      get: { operationId: 'message-get', tags: ['Messages'], summary: 'one message', parameters: [id('trackingNo', 'the gateway\'s tracking number')], responses: { '200': ok('The message and its trace.'), '404': problem('No such message.'), ...common } },
    },
    '/api/v1/availability/{partner}': {
      get: { operationId: 'availability-get', tags: ['Availability'], summary: 'a partner\'s latest availability, as polled or pushed', parameters: [id('partner', '`changsha`')], responses: { '200': ok('The snapshot.'), '404': problem('None received from that partner yet.'), ...common } },
    },
    '/api/v1/dead-letters': {
      get: { operationId: 'dead-letters-list', tags: ['Dead letters'], summary: 'messages refused for good, or undelivered at their retry horizon', ...list('api/dead-letter-list-query.json', 'the dead letters, newest first') },
    },
    '/api/v1/dead-letters/{id}/replay': {
      post: { operationId: 'dead-letter-replay', tags: ['Dead letters'], summary: 'puts the original job back on its queue', description: audited, parameters: [id('id', 'the dead letter\'s id')], responses: { '202': ok('Replayed.'), '404': problem('No such dead letter.'), ...common } },
    },
    '/api/v1/seat-requests': {
      post: {
        operationId: 'seat-request-create',
        tags: ['Seat requests'],
        summary: 'Zhuzhou as host asks Changsha for seats (`slot.requested`)',
        description: `A matching offer is confirmed, any other released. ${audited}`,
        requestBody: body('api/seat-request.json'),
        responses: { '201': ok('The request (`Location` names it).'), '400': problem('Against the schema: every violation in `errors`.'), '422': problem('Against a rule (window, section code).'), ...common },
      },
      get: { operationId: 'seat-requests-list', tags: ['Seat requests'], summary: 'the seat requests Zhuzhou made as host', ...list('api/seat-request-list-query.json', 'the requests, earliest window first') },
    },
    '/api/v1/seat-requests/{id}': {
      get: { operationId: 'seat-request-get', tags: ['Seat requests'], summary: 'the request\'s state, its offer and trace', parameters: [id('id', '`ZZR-…`')], responses: { '200': ok('`state`: `requested`, `confirmed`, `declined`, `released`.'), '404': problem('No such seat request.'), ...common } },
      delete: { operationId: 'seat-request-release', tags: ['Seat requests'], summary: 'releases it (`slot.released PROJECT_CANCELLED`)', description: audited, parameters: [id('id', '`ZZR-…`')], responses: { '200': ok('The request.'), '404': problem('No such seat request.'), ...common } },
    },
    '/api/v1/seat-check': {
      get: {
        operationId: 'seat-check',
        tags: ['Host evaluations'],
        summary: 'a guest center\'s free seats over a window (advisory)',
        description: 'A province center is asked now (the province\'s `seat-check`); Changsha (430100) is answered from its last published availability; `HOST_ROUTES` says which partner serves a center.',
        parameters: queryParameters('api/seat-check-query.json'),
        responses: { '200': ok('The free seats per room.'), '400': problem('Against the schema: every violation in `errors`.'), '422': problem('Against a rule.'), '502': problem('The province did not answer.'), ...common },
      },
    },
    '/api/v1/host-evaluations': {
      post: {
        operationId: 'host-evaluation-plan',
        tags: ['Host evaluations'],
        summary: 'plans a host evaluation (主场评标)',
        description: `Zhuzhou's host room is held first, then every guest is asked at once; all or nothing. ${audited}`,
        requestBody: body('api/host-evaluation.json'),
        responses: { '201': ok('`{id, state}` (`Location` names it).'), '400': problem('Against the schema: every violation in `errors`.'), '409': problem('Another evaluation of the same bid section is requested or in force.'), '422': problem('Against a rule: every violation in `errors`.'), ...common },
      },
      get: { operationId: 'host-evaluations-list', tags: ['Host evaluations'], summary: 'the evaluations whose window starts on a Beijing day, or in a time range', ...list('api/host-evaluation-list-query.json', 'the evaluations, earliest window first, the agent\'s contact and phone masked') },
    },
    '/api/v1/host-evaluations/{id}': {
      get: { operationId: 'host-evaluation-get', tags: ['Host evaluations'], summary: 'one evaluation: state, lifecycle, host room, legs, trace', parameters: [hostEvaluation], responses: { '200': ok('The agent\'s contact and phone masked.'), '404': problem('No such host evaluation.'), ...common } },
      delete: {
        operationId: 'host-evaluation-cancel',
        tags: ['Host evaluations'],
        summary: 'cancels it: every leg released, the province application cancelled, the host room freed',
        description: `\`{reason}\`. ${audited}`,
        parameters: [hostEvaluation],
        requestBody: body('api/host-evaluation-action.json'),
        responses: { '202': ok('`{id, state}`'), '400': problem('Against the schema.'), '404': problem('No such host evaluation.'), '422': problem('`STATE_CONFLICT` once ended.'), ...common },
      },
    },
    '/api/v1/host-evaluations/{id}/change': {
      post: {
        operationId: 'host-evaluation-change',
        tags: ['Host evaluations'],
        summary: 'changes an evaluation in force: the complete new plan, and its `reason`',
        description: `Make before break. ${audited}`,
        parameters: [hostEvaluation],
        requestBody: body('api/host-evaluation.json'),
        responses: { '202': ok('`{id, state: "changing"}`'), '400': problem('Against the schema.'), '404': problem('No such host evaluation.'), '409': problem('Another change is undecided.'), '422': problem('`NOT_IN_FORCE` unless in force, or against a rule.'), ...common },
      },
    },
    '/api/v1/host-evaluations/{id}/status': {
      post: {
        operationId: 'host-evaluation-status',
        tags: ['Host evaluations'],
        summary: 'reports the lifecycle: started, paused (with its reason), resumed, ended, archived',
        description: `\`{status, reason}\`. ${audited}`,
        parameters: [hostEvaluation],
        requestBody: body('api/host-evaluation-action.json'),
        responses: { '200': ok('`{id, lifecycle}`'), '400': problem('Against the schema.'), '404': problem('No such host evaluation.'), '422': problem('`code` `STATE_CONFLICT` (not a next step) or `NOT_IN_FORCE`.'), ...common },
      },
    },
    '/api/v1/reconciliations': {
      post: { operationId: 'reconciliation-run', tags: ['Operations'], summary: 'runs a reconciliation with the province now', description: audited, responses: { '202': ok('`{runId}`'), ...common } },
      get: { operationId: 'reconciliations-list', tags: ['Operations'], summary: 'the runs: missed, different, extra, pending, errors', ...list('api/reconciliation-list-query.json', 'the runs, newest first') },
    },
    '/api/v1/exceptions': {
      post: {
        operationId: 'exception-raise',
        tags: ['Operations'],
        summary: 'tells the province of a problem with a booked request (`exception`)',
        description: audited,
        requestBody: body('api/exception.json'),
        responses: { '202': ok('`{reportId, messageId, trackingNo}`'), '400': problem('Against the schema: every violation in `errors`.'), '404': problem('No such request.'), '409': problem('The request is not booked (not in force).'), ...common },
      },
    },
  };
  return {
    openapi: '3.1.0',
    info: { title: 'Center API (/api/v1): for Zhuzhou\'s own systems and operators', version: VERSION, description: 'JSON; errors as RFC 9457 problem details (`application/problem+json`), every violation listed. Every request that changes something is in the audit log.' },
    servers: [{ url: '/', description: 'the gateway' }],
    security: [{ ApiKey: [] }],
    tags: [
      { name: 'Messages', description: 'what partners sent and were sent, with its trace' },
      { name: 'Dead letters', description: 'messages refused for good or undelivered, and their replay' },
      { name: 'Seat requests', description: 'one-to-one seat requests to Changsha' },
      { name: 'Host evaluations', description: 'Zhuzhou as host (主场评标), with guest venues in other centers' },
      { name: 'Availability', description: 'partners\' published room availability' },
      { name: 'Operations', description: 'reconciliations with the province, exceptions to it' },
    ],
    paths,
    components: {
      schemas: { ...components.toJSON(), ListPage: LIST_PAGE_SCHEMA, Problem: PROBLEM_SCHEMA },
      securitySchemes: { ApiKey: { type: 'apiKey', in: 'header', name: 'X-Api-Key', description: '`LOCAL_API_KEY` of the deployment, compared in constant time; without it configured, /api/v1 refuses everyone (401).' } },
    },
  };
}

/** Every document, by name (the file is `<name>.json`). */
export function buildDocuments(): Record<DocumentName, OpenApiDocument> {
  return {
    'province-to-gateway': provinceToGateway(),
    'gateway-to-province': gatewayToProvince(),
    'changsha-to-gateway': changshaToGateway(),
    'gateway-to-changsha': gatewayToChangsha(),
    'center-api': centerApi(),
  };
}

/** A document as written to docs/openapi/ and served at /openapi/. */
export function documentText(document: OpenApiDocument): string {
  return `${JSON.stringify(document, null, 2)}\n`;
}
