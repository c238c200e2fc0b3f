import type { Request } from 'express';
import type { AuditEntry } from '../../stores/audit.ts';
import type { Runtime } from '../../usecases/runtime.ts';
import { clientAddress } from '../dashboard/auth.ts';

/**
 * The actor of every action through /api/v1: the name of the key that was shown.
 * There is one key (LOCAL_API_KEY), so one name; the audit entry still says which
 * key acted, as it would if the center's systems got keys of their own.
 */
export const API_KEY_ACTOR = 'api-key:local';

/**
 * Records an action taken with the API key, as the dashboard records an
 * operator's. Only requests that showed the key get here: a refusal of a caller
 * without it proves nothing about anyone, and must not let strangers grow the log.
 */
export async function auditApiAction(runtime: Runtime, req: Request, action: string, target: string | undefined, result: AuditEntry['result'], detail?: Record<string, unknown>): Promise<void> {
  await runtime.audit.record({ actor: API_KEY_ACTOR, action, ...(target === undefined ? {} : { target }), from: clientAddress(req), result, ...(detail ? { detail } : {}) });
}
