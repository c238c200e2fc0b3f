import type { Violation } from '../schemas/registry.ts';

/**
 * The one catalog of errors: each code has its HTTP status, the level it is
 * logged at, and whether a job that failed with it is tried again.
 */
export const ERROR_CATALOG = {
  MALFORMED_JSON: { status: 400, level: 'info', retryable: false, summary: 'body is not JSON' },
  UNSUPPORTED_CONTENT_TYPE: { status: 400, level: 'info', retryable: false, summary: 'body is not application/json' },
  SCHEMA_INVALID: { status: 400, level: 'info', retryable: false, summary: 'message does not match the partner schema' },
  UNAUTHENTICATED: { status: 401, level: 'warn', retryable: false, summary: 'signature, sender or time rejected' },
  NOT_FOUND: { status: 404, level: 'info', retryable: false, summary: 'no such request or resource' },
  CONFLICT: { status: 409, level: 'info', retryable: false, summary: 'known id with different content, or a request already replaced' },
  PAYLOAD_TOO_LARGE: { status: 413, level: 'info', retryable: false, summary: 'body over the size limit' },
  SEMANTIC_INVALID: { status: 422, level: 'info', retryable: false, summary: 'message breaks a business rule' },
  RATE_LIMITED: { status: 429, level: 'warn', retryable: true, summary: 'over the partner rate limit' },
  SOURCE_RATE_LIMITED: { status: 429, level: 'info', retryable: true, summary: 'over the limit of one source address, before authentication' },
  STORE_UNAVAILABLE: { status: 503, level: 'error', retryable: true, summary: 'Redis cannot record the message now' },
  INTERNAL: { status: 500, level: 'error', retryable: true, summary: 'unexpected failure inside the gateway' },
  DELIVERY_RETRYABLE: { status: 502, level: 'warn', retryable: true, summary: 'partner answered try-again-later, timed out or was unreachable' },
  DELIVERY_REFUSED: { status: 502, level: 'error', retryable: false, summary: 'partner refused the message for good' },
  CIRCUIT_OPEN: { status: 503, level: 'warn', retryable: true, summary: 'calls to the partner are paused after repeated failures' },
  CANONICAL_INVALID: { status: 500, level: 'error', retryable: false, summary: 'adapter produced an event outside the canonical schema' },
  RECORD_MISSING: { status: 500, level: 'error', retryable: false, summary: 'a job points at a message record that does not exist' },
} as const satisfies Record<string, { status: number; level: 'info' | 'warn' | 'error'; retryable: boolean; summary: string }>;

export type ErrorCode = keyof typeof ERROR_CATALOG;

export class GatewayError extends Error {
  override name = 'GatewayError';
  readonly code: ErrorCode;
  readonly violations: readonly Violation[];
  /** how long the caller (or the job) should wait before trying again */
  readonly retryAfterMs: number | undefined;

  constructor(code: ErrorCode, message?: string, options: { violations?: readonly Violation[]; retryAfterMs?: number; cause?: unknown } = {}) {
    super(message ?? ERROR_CATALOG[code].summary, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.violations = options.violations ?? [];
    this.retryAfterMs = options.retryAfterMs;
  }

  get status(): number {
    return ERROR_CATALOG[this.code].status;
  }

  get level(): 'info' | 'warn' | 'error' {
    return ERROR_CATALOG[this.code].level;
  }

  get retryable(): boolean {
    return ERROR_CATALOG[this.code].retryable;
  }
}

/** Anything thrown that is not from the catalog is an internal, retryable failure. */
export function asGatewayError(error: unknown): GatewayError {
  if (error instanceof GatewayError) return error;
  return new GatewayError('INTERNAL', error instanceof Error ? error.message : String(error), { cause: error });
}
