import express, { type Router } from 'express';
import { beijingDate } from '../../../kernel/beijing-time.ts';
import type { Runtime } from '../../../usecases/runtime.ts';
import { SEARCH_KINDS } from '../../../stores/traces.ts';
import { SECURITY_KINDS } from '../../../telemetry/statistics.ts';
import type { OpsAuth } from '../auth.ts';
import { LIMITS, THRESHOLDS, dashboardQueues, json } from './shared.ts';
import { overviewRoutes } from './overview.ts';
import { boardRows, roomRoutes } from './rooms.ts';
import { messageRoutes } from './messages.ts';
import { deadLetterRoutes } from './dead-letters.ts';
import { securityRoutes } from './security.ts';
import { reconciliationRoutes } from './reconciliations.ts';
import { hostingRoutes } from './hosting.ts';

/**
 * The dashboard's data: read-only JSON for every page, for any logged-in
 * operator (viewer and up). Personal data leaves masked (pii.ts `redact`), and
 * every answer is bounded: lists have limits, scans have caps, and a capped
 * figure says so. One module per page beside this one, each with its route;
 * what they share in shared.ts and summaries.ts.
 *
 * GET /ops/api/{meta,overview,rooms,messages,dead-letters,security,reconciliations,host-evaluations,seat-check}: the pages' data.
 */
export function opsViewRoutes(runtime: Runtime, auth: OpsAuth): Router {
  const router = express.Router();
  const viewer = auth.requireRole('viewer');

  router.get(
    '/ops/api/meta',
    viewer,
    json((req, res) => {
      res.json({
        user: req.session.operator,
        center: runtime.config.center,
        idleMinutes: runtime.config.ops.idleMinutes,
        partners: Object.keys(runtime.adapters),
        queues: dashboardQueues(runtime).map(({ queue, kind, partner }) => ({ name: queue.name, kind, partner: partner ?? null })),
        rooms: boardRows(runtime).map(({ id, kind, seats, address }) => ({ id, kind, seats, address })),
        openingHours: runtime.config.ledger.openingHours,
        securityKinds: SECURITY_KINDS,
        exceptionTypes: ['ROOM_FAULT', 'NETWORK_FAULT', 'EXPERT_ABSENT', 'OTHER'],
        searchKinds: SEARCH_KINDS,
        thresholds: THRESHOLDS,
        limits: LIMITS,
        today: beijingDate(runtime.clock.now()),
      });
      return Promise.resolve();
    }),
  );

  router.use(overviewRoutes(runtime, viewer));
  router.use(roomRoutes(runtime, viewer));
  router.use(messageRoutes(runtime, viewer));
  router.use(deadLetterRoutes(runtime, viewer));
  router.use(securityRoutes(runtime, viewer));
  router.use(reconciliationRoutes(runtime, viewer));
  router.use(hostingRoutes(runtime, viewer));
  return router;
}
