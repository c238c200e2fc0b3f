import express, { type NextFunction, type Request, type RequestHandler, type Response, type Router } from 'express';
import session from 'express-session';
import { csrfSync } from 'csrf-sync';
import type { Runtime } from '../../usecases/runtime.ts';
import { AccountStore, roleAllows, type LoginResult, type OperatorRole } from '../../stores/accounts.ts';
import type { AuditLog } from '../../stores/audit.ts';
import { LoginThrottle } from '../../stores/login-throttle.ts';
import { RedisSessionStore } from '../../stores/sessions.ts';
import { problem } from '../problem.ts';

declare module 'express-session' {
  interface SessionData {
    operator?: { username: string; role: OperatorRole };
    /** the account's epoch at login (AccountStore): a session of an older epoch is over */
    accountEpoch?: number;
  }
}

export interface OpsAuth {
  accounts: AccountStore;
  audit: AuditLog;
  /** session, origin check and CSRF for everything under /ops */
  middleware: Router;
  /** login, logout and the current session */
  routes: Router;
  requireRole(role: OperatorRole): RequestHandler;
  /** records an operator action of the current session */
  auditAction(req: Request, action: string, target: string | undefined, result: 'ok' | 'denied' | 'failed', detail?: Record<string, unknown>): Promise<void>;
}

export function clientAddress(req: Request): string {
  return req.ip ?? req.socket.remoteAddress ?? 'unknown';
}


/** What a refused login is told: the same whether the user is unknown, the password wrong, or the account locked or disabled. */
const REFUSED_LOGIN = '用户名或密码错误 / Wrong user name or password';

/** The audit detail of a refused login: admins see there what the caller was not told. */
function refusalDetail(result: Exclude<LoginResult, { ok: true }>): Record<string, unknown> {
  return { reason: result.reason, ...('lockedUntil' in result && result.lockedUntil !== undefined ? { lockedUntil: new Date(result.lockedUntil).toISOString() } : {}) };
}

/**
 * Dashboard access: local accounts, a session cookie (HttpOnly, SameSite=Strict,
 * Secure behind TLS), a synchronizer CSRF token on every action, a same-origin
 * check on every POST, logins throttled per address, lockout after repeated wrong
 * passwords, the account's current role and standing checked on every request,
 * and an audit record of every login and action.
 */
export function createOpsAuth(runtime: Runtime): OpsAuth {
  const { config, redis, keys } = runtime;
  const accounts = new AccountStore(redis, keys, { attempts: config.ops.lockoutAttempts, minutes: config.ops.lockoutMinutes });
  const throttle = new LoginThrottle(redis, keys, () => runtime.clock.now(), config.ops.loginRateLimitPerMinute);
  const { audit } = runtime;
  const { csrfSynchronisedProtection, generateToken } = csrfSync({
    getTokenFromRequest: (req) => {
      const header = req.headers['x-csrf-token'];
      return typeof header === 'string' ? header : undefined;
    },
  });

  const middleware = express.Router();
  middleware.use(
    session({
      name: 'zzgw.sid',
      secret: config.ops.sessionSecret,
      store: new RedisSessionStore(redis, keys, config.ops.idleMinutes),
      resave: false,
      saveUninitialized: false,
      rolling: true,
      cookie: { httpOnly: true, sameSite: 'strict', secure: 'auto', maxAge: config.ops.idleMinutes * 60 * 1000, path: '/ops' },
    }),
  );
  // A session is worth what its account is worth now: a role changed or an account
  // disabled (or its password replaced) by the account commands counts from the next request.
  middleware.use(async (req: Request, _res: Response, next: NextFunction) => {
    const operator = req.session.operator;
    if (!operator) {
      next();
      return;
    }
    const standing = await accounts.standing(operator.username);
    if (!standing || standing.disabled || standing.epoch !== req.session.accountEpoch) {
      // a fresh, empty session: every route then answers as to someone not logged in
      await new Promise<void>((resolve, reject) => req.session.regenerate((error: unknown) => (error ? reject(error instanceof Error ? error : new Error('session could not be ended')) : resolve())));
    } else if (standing.role !== operator.role) {
      req.session.operator = { username: operator.username, role: standing.role };
    }
    next();
  });
  // A POST from another origin is refused before anything else looks at it.
  middleware.use((req: Request, res: Response, next: NextFunction) => {
    const origin = req.headers.origin;
    if (req.method !== 'GET' && req.method !== 'HEAD' && origin !== undefined) {
      if (!URL.canParse(origin) || new URL(origin).host !== req.headers.host) {
        problem(res, 403, 'Cross-origin request refused');
        return;
      }
    }
    next();
  });

  const routes = express.Router();
  routes.post('/ops/api/login', express.json({ limit: '4kb' }), async (req: Request, res: Response) => {
    const body = (req.body ?? {}) as { username?: unknown; password?: unknown };
    const username = typeof body.username === 'string' ? body.username : '';
    const password = typeof body.password === 'string' ? body.password : '';
    const from = clientAddress(req);
    // before the account is even looked at: an address over its limit spends no password check, and no lockout attempt
    const admitted = await throttle.admit(from);
    if (!admitted.ok) {
      // one audit entry per address and minute, not one per attempt: a flood must not grow the audit log
      if (admitted.first) await audit.record({ actor: username.slice(0, 64), action: 'login', from, result: 'denied', detail: { reason: 'throttled' } });
      res.set('Retry-After', String(admitted.retryAfterSeconds));
      problem(res, 429, '登录尝试过于频繁，请稍后再试 / Too many logins from your address: try again later');
      return;
    }
    const result = await accounts.login(username, password, runtime.clock.now());
    if (!result.ok) {
      await audit.record({ actor: username.slice(0, 64), action: 'login', from, result: 'failed', detail: refusalDetail(result) });
      // the lock is told only to someone who knew the password
      if (result.reason === 'locked') problem(res, 423, '账户已锁定 / Account locked', { lockedUntil: new Date(result.lockedUntil).toISOString() });
      else problem(res, 401, REFUSED_LOGIN);
      return;
    }
    // a new session id at login: a session fixed before login is worth nothing
    await new Promise<void>((resolve, reject) => req.session.regenerate((error: unknown) => (error ? reject(error instanceof Error ? error : new Error('session could not be renewed')) : resolve())));
    req.session.operator = { username: result.account.username, role: result.account.role };
    req.session.accountEpoch = result.epoch;
    await audit.record({ actor: result.account.username, action: 'login', from, result: 'ok' });
    res.json({ user: req.session.operator, csrfToken: generateToken(req, true) });
  });

  routes.get('/ops/api/session', (req: Request, res: Response) => {
    if (!req.session.operator) {
      problem(res, 401, '请先登录 / Please log in');
      return;
    }
    res.json({ user: req.session.operator, csrfToken: generateToken(req) });
  });

  routes.post('/ops/api/logout', csrfSynchronisedProtection, async (req: Request, res: Response) => {
    const actor = req.session.operator?.username ?? 'anonymous';
    await new Promise<void>((resolve) => req.session.destroy(() => resolve()));
    await audit.record({ actor, action: 'logout', from: clientAddress(req), result: 'ok' });
    res.clearCookie('zzgw.sid', { path: '/ops' }).json({ ok: true });
  });

  function requireRole(role: OperatorRole): RequestHandler {
    return (req: Request, res: Response, next: NextFunction) => {
      const operator = req.session.operator;
      if (!operator) {
        problem(res, 401, '请先登录 / Please log in');
        return;
      }
      if (!roleAllows(operator.role, role)) {
        void audit.record({ actor: operator.username, action: `${req.method} ${req.path}`, from: clientAddress(req), result: 'denied', detail: { needed: role } });
        problem(res, 403, '权限不足 / Not allowed for your role');
        return;
      }
      // every action is checked against the session's CSRF token
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        csrfSynchronisedProtection(req, res, next);
        return;
      }
      next();
    };
  }

  async function auditAction(req: Request, action: string, target: string | undefined, result: 'ok' | 'denied' | 'failed', detail?: Record<string, unknown>) {
    await audit.record({ actor: req.session.operator?.username ?? 'anonymous', action, ...(target === undefined ? {} : { target }), from: clientAddress(req), result, ...(detail ? { detail } : {}) });
  }

  return { accounts, audit, middleware, routes, requireRole, auditAction };
}
