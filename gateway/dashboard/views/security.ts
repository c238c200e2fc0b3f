import express, { type RequestHandler, type Router } from 'express';
import type { Runtime } from '../../../usecases/runtime.ts';
import { SECURITY_KINDS } from '../../../telemetry/statistics.ts';
import { LIMITS, integer, json, text } from './shared.ts';

/** Security events (#/security): refusals by partner and kind, and the daily counts. */
export function securityRoutes(runtime: Runtime, viewer: RequestHandler): Router {
  const router = express.Router();

  router.get(
    '/ops/api/security',
    viewer,
    json(async (req, res) => {
      const partner = text(req, 'partner', 40);
      const kindParam = text(req, 'kind', 20);
      const kind = SECURITY_KINDS.find((candidate) => candidate === kindParam);
      const limit = integer(req, 'limit', 200, 1, LIMITS.securityEvents);
      const days = integer(req, 'days', 7, 1, 31);
      const [events, daily, stats] = await Promise.all([
        runtime.telemetry.statistics.securityEvents({ ...(partner ? { partner } : {}), ...(kind ? { kind } : {}), limit }),
        runtime.telemetry.statistics.securityDailyCounts({ days }),
        runtime.telemetry.statistics.partnerStats(),
      ]);
      res.json({
        events,
        daily,
        byPartner: stats.map((entry) => ({
          partner: entry.partner,
          last15m: { total: entry.last15m.answers.total, '4xx': entry.last15m.answers['4xx'], '5xx': entry.last15m.answers['5xx'], errorRate: entry.last15m.errorRate },
          last1h: { total: entry.last1h.answers.total, '4xx': entry.last1h.answers['4xx'], '5xx': entry.last1h.answers['5xx'], errorRate: entry.last1h.errorRate },
        })),
        kinds: SECURITY_KINDS,
      });
    }),
  );

  return router;
}
