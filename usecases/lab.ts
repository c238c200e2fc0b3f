/**
 * The message lab (接入调试): one raw partner request checked step by step as
 * the edge would check it — parse, schema, signature, clock, rules, repeat or
 * conflict — with nothing recorded, queued or counted. The answer never holds
 * a secret nor the signature a message should have carried (the lab must not
 * become a signing oracle): only whether the given one matches. Every use is
 * audited (who, which partner and interface, the outcome; never the body).
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { InboundHttp, InboundMessage, PartnerAdapter } from '../adapters/types.ts';
import type { Clock } from '../kernel/clock.ts';
import type { RoomLedger } from '../ledger/index.ts';
import { sm3Hex } from '../kernel/crypto/digest.ts';
import type { Violation } from '../schemas/registry.ts';
import type { AuditEntry } from '../stores/audit.ts';
import type { MessageStore } from '../stores/messages.ts';
import { notInForce } from './intake.ts';

export type LabStepName = 'parse' | 'schema' | 'signature' | 'clock' | 'rules' | 'idempotency';
export type LabStepStatus = 'pass' | 'fail' | 'skipped';

export interface LabStep {
  name: LabStepName;
  status: LabStepStatus;
  /** one line, in English, for the command; the dashboard shows its own labels */
  summary: string;
  details: { label: string; value: string }[];
  violations?: readonly Violation[];
}

export interface LabResult {
  partner: string;
  operation: string;
  /** every step passed: the gateway would accept the message (or answer it as a repeat) */
  passed: boolean;
  steps: LabStep[];
}

export interface LabRequest {
  partner: string;
  operation: string;
  headers: IncomingHttpHeaders;
  rawBody: Buffer;
}

export interface LabDeps {
  adapters: Readonly<Record<string, PartnerAdapter>>;
  messages: Pick<MessageStore, 'preview' | 'requestKnown' | 'messageKnown'>;
  /** read only: whether a request a report names is in force, as intake asks (usecases/intake.ts) */
  ledger: Pick<RoomLedger, 'describe'>;
  audit: { record(entry: Omit<AuditEntry, 'at'>): Promise<unknown> };
  clock: Clock;
  bodyLimitBytes: number;
}

/** Who used the lab, for the audit log. */
export interface LabActor {
  actor: string;
  from: string;
}

/** Byte offset of the first byte that is not well-formed UTF-8 (RFC 3629), or undefined. */
export function invalidUtf8Offset(bytes: Buffer): number | undefined {
  let i = 0;
  while (i < bytes.length) {
    const first = bytes[i] as number;
    let length: number;
    let min: number;
    if (first < 0x80) {
      i += 1;
      continue;
    } else if (first >= 0xc2 && first <= 0xdf) {
      length = 2;
      min = 0x80;
    } else if (first >= 0xe0 && first <= 0xef) {
      length = 3;
      min = 0x800;
    } else if (first >= 0xf0 && first <= 0xf4) {
      length = 4;
      min = 0x10000;
    } else return i;
    if (i + length > bytes.length) return i;
    let code = first & (0xff >> (length + 1));
    for (let k = 1; k < length; k += 1) {
      const next = bytes[i + k] as number;
      if ((next & 0xc0) !== 0x80) return i;
      code = (code << 6) | (next & 0x3f);
    }
    if (code < min || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return i;
    i += length;
  }
  return undefined;
}

/**
 * A request as pasted: optional request line, headers, blank line, body; or a
 * bare JSON body (starting with `{` or `[`), whose headers come separately.
 */
export function parseRawRequest(input: Buffer): { headers: IncomingHttpHeaders; rawBody: Buffer; requestLine?: string } {
  const start = input.subarray(0, 1).toString('latin1');
  if (start === '{' || start === '[' || input.length === 0) return { headers: {}, rawBody: input };
  const crlf = input.indexOf('\r\n\r\n');
  const lf = input.indexOf('\n\n');
  const [end, gap] = crlf !== -1 && (lf === -1 || crlf < lf) ? [crlf, 4] : lf !== -1 ? [lf, 2] : [input.length, 0];
  const head = input.subarray(0, end).toString('utf8').split(/\r?\n/);
  const headers: IncomingHttpHeaders = {};
  let requestLine: string | undefined;
  for (const [index, line] of head.entries()) {
    const colon = line.indexOf(':');
    if (index === 0 && /^[A-Z]+ \S+/.test(line)) {
      requestLine = line;
      continue;
    }
    if (colon <= 0) continue;
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { headers, rawBody: input.subarray(Math.min(input.length, end + gap)), ...(requestLine ? { requestLine } : {}) };
}

// ignoreBOM keeps a byte order mark, so that JSON.parse refuses it, as the edge does
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function parseStep(request: LabRequest, limit: number): { step: LabStep; body?: unknown } {
  const details = [{ label: 'bytes', value: String(request.rawBody.length) }];
  const fail = (summary: string, more: LabStep['details'] = []): { step: LabStep } => ({ step: { name: 'parse', status: 'fail', summary, details: [...details, ...more] } });
  if (request.rawBody.length > limit) return fail(`body over ${limit} bytes (the gateway answers 413)`);
  const type = String(request.headers['content-type'] ?? '');
  const charset = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(type)?.[1];
  if (charset !== undefined && !/^utf-?8$/i.test(charset)) return fail(`charset ${charset.slice(0, 20)} is not utf-8`);
  if (!/^application\/json\s*(;|$)/i.test(type)) return fail('Content-Type must be application/json; charset=utf-8', [{ label: 'Content-Type', value: type.slice(0, 100) || '(none)' }]);
  const badByte = invalidUtf8Offset(request.rawBody);
  if (badByte !== undefined) return fail(`not UTF-8 at byte ${badByte}`, [{ label: 'byte offset', value: String(badByte) }]);
  const text = utf8.decode(request.rawBody);
  try {
    const body = JSON.parse(text) as unknown;
    return { step: { name: 'parse', status: 'pass', summary: 'UTF-8 JSON', details }, body };
  } catch (error) {
    // the parser's message quotes the body: only the position is kept, as a byte offset
    const position = /position (\d+)/.exec((error as Error).message)?.[1];
    const offset = position === undefined ? Buffer.byteLength(text) : Buffer.byteLength(text.slice(0, Number(position)));
    const reason = text.charCodeAt(0) === 0xfeff ? 'a byte order mark starts the body' : position === undefined ? 'JSON ends early' : 'not JSON';
    return fail(`${reason} at byte ${offset}`, [{ label: 'byte offset', value: String(offset) }]);
  }
}

function skipped(name: LabStepName, why: string): LabStep {
  return { name, status: 'skipped', summary: why, details: [] };
}

function signatureSteps(adapter: PartnerAdapter, http: InboundHttp, body: unknown, schemaOk: boolean): LabStep[] {
  if (!adapter.lab) {
    // a partner without a lab facet: the gateway's own verdict, nothing more
    if (!schemaOk && !adapter.signsRawBody) return [skipped('signature', 'the schema must hold first'), skipped('clock', 'the schema must hold first')];
    const auth = adapter.authenticate(http, body);
    return [
      { name: 'signature', status: auth.ok ? 'pass' : 'fail', summary: auth.ok ? 'signature, sender and time accepted' : auth.error.message, details: [] },
      skipped('clock', 'this partner shows no clock detail'),
    ];
  }
  const check = adapter.lab.signature(http, body);
  const matched = check.secrets.some((secret) => secret.configured && secret.matches);
  const ok = matched && check.sender.known && check.problem === undefined;
  const signature: LabStep = {
    name: 'signature',
    status: ok ? 'pass' : 'fail',
    summary: ok ? 'signature matches' : (check.problem ?? (check.sender.known ? 'signature does not match' : `unknown sender ${check.sender.value.slice(0, 64)}`)),
    details: [
      ...check.signed,
      { label: 'sender', value: `${check.sender.value.slice(0, 64)} (${check.sender.known ? 'known' : 'unknown'})` },
      ...check.secrets.map((secret) => ({ label: `${secret.name} secret`, value: !secret.configured ? 'not configured' : secret.matches ? 'matches' : 'does not match' })),
    ],
  };
  if (!check.clock) return [signature, { name: 'clock', status: 'fail', summary: 'the message gives no signing time', details: [] }];
  const { distanceSeconds, toleranceSeconds, signedAt } = check.clock;
  const within = Math.abs(distanceSeconds) <= toleranceSeconds;
  const clock: LabStep = {
    name: 'clock',
    status: within ? 'pass' : 'fail',
    summary: `${distanceSeconds >= 0 ? 'signed' : 'signed in the future,'} ${Math.abs(distanceSeconds)} s ${distanceSeconds >= 0 ? 'ago' : 'ahead'}; window ±${toleranceSeconds} s`,
    details: [
      { label: 'signed at', value: Number.isFinite(signedAt) ? new Date(signedAt).toISOString() : '?' },
      { label: 'distance (s, positive: in the past)', value: String(distanceSeconds) },
      { label: 'window (s)', value: `±${toleranceSeconds}` },
    ],
  };
  return [signature, clock];
}

async function idempotencyStep(deps: LabDeps, partner: string, message: InboundMessage): Promise<LabStep> {
  const found = await deps.messages.preview(partner, message);
  const details = [
    { label: 'message key', value: message.messageKey },
    ...(message.request ? [{ label: 'request', value: message.request.id }, { label: 'content digest', value: message.request.contentDigest }] : []),
    ...(message.replaces ? [{ label: 'replaces', value: message.replaces }] : []),
  ];
  if (message.refersTo !== undefined && !(await deps.messages.requestKnown(partner, message.refersTo))) {
    return { name: 'idempotency', status: 'fail', summary: `refers to ${message.refersTo}, which is not known (404)`, details };
  }
  switch (found.verdict) {
    case 'new':
      return { name: 'idempotency', status: 'pass', summary: 'new: it would be recorded', details };
    case 'repeat':
      return { name: 'idempotency', status: 'pass', summary: `repeat of ${found.trackingNo ?? '?'}: answered with the first answer`, details };
    case 'conflict':
      return { name: 'idempotency', status: 'fail', summary: `conflict: request known as ${found.trackingNo ?? '?'} with other content (409)`, details };
    case 'replaced-elsewhere':
      return { name: 'idempotency', status: 'fail', summary: `conflict: ${message.replaces ?? ''} is already replaced by ${found.claimant ?? '?'} (409)`, details };
  }
}

/** Runs every step it can on one request; records nothing but the audit entry. */
export async function runLab(deps: LabDeps, request: LabRequest, who: LabActor): Promise<LabResult> {
  const result = await checkRequest(deps, request);
  await deps.audit.record({
    actor: who.actor,
    action: 'lab.run',
    target: `${request.partner}/${request.operation}`.slice(0, 80),
    from: who.from,
    result: 'ok',
    // what was looked at, by digest: never the body, which may hold personal data
    detail: { passed: result.passed, failed: result.steps.filter((step) => step.status === 'fail').map((step) => step.name), bytes: request.rawBody.length, bodySm3: sm3Hex(request.rawBody) },
  });
  return result;
}

async function checkRequest(deps: LabDeps, request: LabRequest): Promise<LabResult> {
  const { partner, operation } = request;
  const steps: LabStep[] = [];
  const done = (): LabResult => ({ partner, operation, passed: steps.length > 0 && steps.every((step) => step.status === 'pass'), steps });
  const adapter = Object.hasOwn(deps.adapters, partner) ? deps.adapters[partner] : undefined;
  if (!adapter || !adapter.operations.includes(operation)) {
    steps.push({ name: 'parse', status: 'fail', summary: adapter ? `unknown interface ${operation} (404)` : `unknown partner ${partner}`, details: [] });
    return done();
  }
  const parsed = parseStep(request, deps.bodyLimitBytes);
  steps.push(parsed.step);
  if (parsed.step.status !== 'pass') {
    for (const name of ['schema', 'signature', 'clock', 'rules', 'idempotency'] as const) steps.push(skipped(name, 'the body must parse first'));
    return done();
  }
  const body = parsed.body;
  const http: InboundHttp = { operation, rawBody: request.rawBody, headers: request.headers, receivedAt: deps.clock.now() };
  const validation = adapter.validate(operation, body);
  steps.push(
    validation.ok
      ? { name: 'schema', status: 'pass', summary: 'the schema holds', details: [] }
      : { name: 'schema', status: 'fail', summary: `${validation.violations.length} schema violation(s) (400)`, details: [], violations: validation.violations },
  );
  steps.push(...signatureSteps(adapter, http, body, validation.ok));
  if (!validation.ok) {
    steps.push(skipped('rules', 'the schema must hold first'), skipped('idempotency', 'the schema must hold first'));
    return done();
  }
  const inspected = adapter.inspect(http, body);
  if (!inspected.ok) {
    const { error } = inspected;
    steps.push({ name: 'rules', status: 'fail', summary: `${error.code} (${error.status})${error.violations.length === 0 ? `: ${error.message}` : ''}`, details: [], violations: error.violations });
    steps.push(skipped('idempotency', 'the rules must hold first'));
    return done();
  }
  const message = inspected.value;
  const state = await notInForce(deps, partner, message);
  if (state !== undefined) {
    steps.push({
      name: 'rules',
      status: 'fail',
      summary: `SEMANTIC_INVALID (422): request ${message.inForce ?? ''} is not in force in the ledger`,
      details: [{ label: 'ledger state', value: state }],
      violations: [{ path: message.inForcePath ?? '/data/requestId', message: 'NOT_IN_FORCE' }],
    });
    steps.push(skipped('idempotency', 'the rules must hold first'));
    return done();
  }
  steps.push({ name: 'rules', status: 'pass', summary: 'the business rules hold', details: [] });
  steps.push(await idempotencyStep(deps, partner, message));
  return done();
}

/**
 * A request as an integrator pastes it (see parseRawRequest): a bare body,
 * with no header at all, is taken as JSON, which is what anyone pasting one means.
 */
export function pastedRequest(input: Buffer): { headers: IncomingHttpHeaders; rawBody: Buffer } {
  const { headers, rawBody, requestLine } = parseRawRequest(input);
  if (requestLine === undefined && Object.keys(headers).length === 0) headers['content-type'] = 'application/json; charset=utf-8';
  return { headers, rawBody };
}

/**
 * A kept request written out as an integrator would paste it (request line,
 * headers, blank line, body), for the lab's text area; pastedRequest reads it
 * back to the same headers and, for a UTF-8 body, the same bytes.
 */
export function rawRequestText(partner: string, operation: string, headers: Readonly<Record<string, string>>, rawBody: Buffer): string {
  const lines = [`POST /partners/${partner}/${operation} HTTP/1.1`, ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`)];
  return `${lines.join('\n')}\n\n${rawBody.toString('utf8')}`;
}
