import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { isPartnerId } from '../adapters/registry.ts';
import type { HttpAnswer, InboundHttp, PartnerAdapter, PartnerId } from '../adapters/types.ts';
import type { Runtime } from '../usecases/runtime.ts';
import { asGatewayError, GatewayError } from '../kernel/errors.ts';
import { acceptMessage } from '../usecases/intake.ts';
import { createPartnerLimiter, createSourceLimiter } from './middleware/rate-limit.ts';
import { idFactory } from '../kernel/ids.ts';
import type { Logger } from '../kernel/logger.ts';

const nextRequestId = idFactory();
// ignoreBOM keeps a byte order mark in the text, so that JSON.parse refuses it: what
// is recorded (the raw bytes) must be exactly what was checked
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function send(res: Response, answer: HttpAnswer, requestId: string): void {
  res.status(answer.status);
  for (const [name, value] of Object.entries(answer.headers ?? {})) res.setHeader(name, value);
  res.setHeader('X-Request-Id', requestId);
  res.type(answer.contentType ?? 'application/json');
  res.send(JSON.stringify(answer.body));
}

function parseJsonBody(req: Request): unknown {
  const type = req.headers['content-type'] ?? '';
  const charset = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(type)?.[1];
  if (charset !== undefined && !/^utf-?8$/i.test(charset)) {
    throw new GatewayError('UNSUPPORTED_CONTENT_TYPE', 'charset must be utf-8', { violations: [{ path: '', message: `charset ${charset.slice(0, 20)} is not utf-8` }] });
  }
  if (!/^application\/json\s*(;|$)/i.test(type)) throw new GatewayError('UNSUPPORTED_CONTENT_TYPE', 'Content-Type must be application/json', { violations: [{ path: '', message: 'Content-Type must be application/json; charset=utf-8' }] });
  const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
  let text: string;
  try {
    text = utf8.decode(raw);
  } catch {
    throw new GatewayError('MALFORMED_JSON', 'body is not UTF-8', { violations: [{ path: '', message: 'body is not valid UTF-8' }] });
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    // the parser's message quotes the body, which may hold personal data: only the position goes back
    const position = /position (\d+)/.exec((error as Error).message)?.[1];
    throw new GatewayError('MALFORMED_JSON', undefined, { violations: [{ path: '', message: position === undefined ? 'not JSON' : `not JSON (at position ${position})` }] });
  }
}

/**
 * Counts an answer already sent (metrics, and the shared statistics in one
 * pipeline that nobody awaits): the partner never waits for, nor hears of, it.
 */
function account(runtime: Runtime, req: Request, res: Response, partner: PartnerId, code: string, requestId: string, authenticated: boolean, repeated = false, refused?: string): void {
  void runtime.telemetry.answered({ partner, status: res.statusCode, code, repeated, requestId, remoteAddress: req.ip, authenticated, ...(refused ? { refused } : {}) });
}

/**
 * Keeps a refused request, sealed, so that its security event opens in the
 * lab on exactly what was refused; returns its id. Not a refusal for volume
 * (429): the lab cannot reproduce one, and a flood of them would push the
 * refusals worth opening out of the ring. Never throws, never waits.
 */
function keepRefused(runtime: Runtime, adapter: PartnerAdapter, req: Request, operation: string, status: number, log: Logger): string | undefined {
  if (status < 400 || status >= 500 || status === 429) return undefined;
  const headers: Record<string, string> = {};
  for (const name of ['content-type', ...(adapter.lab?.headers ?? [])]) {
    const value = req.headers[name];
    if (typeof value === 'string') headers[name] = value;
  }
  const notKept = (error: unknown) => log.debug('refused request not kept for the lab', { error: error instanceof Error ? error.message : String(error) });
  try {
    const kept = runtime.refusedRequests.keep(adapter.id, { operation: operation.slice(0, 40), headers, rawBody: Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0) });
    kept?.written.catch(notKept);
    return kept?.id;
  } catch (error) {
    notKept(error);
    return undefined;
  }
}

/**
 * POST /partners/:partner/:operation — the only way partner messages enter.
 * Order: the source's limit, parse, schema and signature (in the order the
 * partner signs), the partner's limit, rules, durable record; then the answer.
 */
export function partnerRoutes(runtime: Runtime): Router {
  const router = express.Router();
  const limiters = new Map<string, () => Promise<void>>();
  for (const adapter of Object.values(runtime.adapters)) limiters.set(adapter.id, createPartnerLimiter(runtime, adapter));
  const limitSource = createSourceLimiter(runtime);

  router.post(
    '/partners/:partner/:operation',
    express.raw({ type: () => true, limit: runtime.config.intake.bodyLimitBytes }),
    async (req: Request, res: Response) => {
      const { partner, operation } = req.params as { partner: string; operation: string };
      const requestId = nextRequestId();
      if (!isPartnerId(runtime.adapters, partner)) {
        res.status(404).json({ title: 'Unknown partner', status: 404 });
        return;
      }
      const adapter = runtime.adapters[partner];
      const log = runtime.logger.child({ partner, operation, requestId });
      // a refusal before the signature held proves nothing about the partner: it is only counted in the audit log
      let authenticated = false;
      try {
        await limitSource(req.ip ?? req.socket.remoteAddress ?? 'unknown');
        if (!adapter.operations.includes(operation)) throw new GatewayError('NOT_FOUND', `unknown interface ${operation}`);
        const body = parseJsonBody(req);
        const http: InboundHttp = { operation, rawBody: req.body as Buffer, headers: req.headers, receivedAt: runtime.clock.now() };
        const check = {
          schema: () => {
            const validation = adapter.validate(operation, body);
            if (!validation.ok) throw new GatewayError('SCHEMA_INVALID', undefined, { violations: validation.violations });
          },
          signature: () => {
            const auth = adapter.authenticate(http, body);
            if (!auth.ok) throw auth.error;
            authenticated = true;
          },
        };
        // a signature over the raw body is checked first: strangers learn nothing about the schema
        if (adapter.signsRawBody) {
          check.signature();
          check.schema();
        } else {
          check.schema();
          check.signature();
        }
        // only now, with the sender proven, is the partner's own budget spent
        await limiters.get(partner)?.();
        const inspected = adapter.inspect(http, body);
        if (!inspected.ok) throw inspected.error;
        const { trackingNo, repeated } = await acceptMessage(runtime, adapter, http, inspected.value);
        log.info(repeated ? 'repeat answered' : 'message accepted', { correlationId: trackingNo, messageKey: inspected.value.messageKey });
        send(res, adapter.accepted(trackingNo), requestId);
        account(runtime, req, res, partner, repeated ? 'REPEATED' : 'ACCEPTED', requestId, true, repeated);
      } catch (thrown) {
        const error = asGatewayError(thrown);
        const cause = error.cause instanceof Error ? error.cause.message : undefined;
        log.log(error.level, 'message rejected', { code: error.code, status: error.status, reason: error.message, violations: error.violations.length, ...(cause ? { cause } : {}) });
        send(res, adapter.rejected(error), requestId);
        account(runtime, req, res, partner, error.code, requestId, authenticated, false, keepRefused(runtime, adapter, req, operation, res.statusCode, log));
      }
    },
  );

  // Body parser failures (size, aborted uploads) still answer in the partner's format.
  router.use('/partners/:partner', (thrown: unknown, req: Request, res: Response, next: NextFunction) => {
    const partner = (req.params as { partner?: string }).partner ?? '';
    if (!isPartnerId(runtime.adapters, partner)) {
      next(thrown);
      return;
    }
    const adapter: PartnerAdapter = runtime.adapters[partner];
    const type = (thrown as { type?: string }).type;
    const error =
      type === 'entity.too.large'
        ? new GatewayError('PAYLOAD_TOO_LARGE', undefined, { violations: [{ path: '', message: `body over ${runtime.config.intake.bodyLimitBytes} bytes` }] })
        : (thrown as { status?: number }).status !== undefined && ((thrown as { status: number }).status) < 500
          ? new GatewayError('MALFORMED_JSON', undefined, { violations: [{ path: '', message: 'body could not be read' }] })
          : asGatewayError(thrown);
    runtime.logger.log(error.level, 'message rejected before parsing', { partner, code: error.code });
    const requestId = nextRequestId();
    send(res, adapter.rejected(error), requestId);
    account(runtime, req, res, partner, error.code, requestId, false);
  });
  return router;
}
