import express, { type Request, type RequestHandler, type Router } from 'express';
import { matches, type DeadLetterFilter } from '../../../stores/dead-letters.ts';
import { redact } from '../../../kernel/pii.ts';
import type { Runtime } from '../../../usecases/runtime.ts';
import { problem } from '../../problem.ts';
import { deadLetterStatus, letterSummary, messageSummary } from './summaries.ts';
import { LIMITS, dashboardQueues, integer, json, text } from './shared.ts';

/** Dead letters (#/dead-letters): counted by status, filtered, and one with its (masked) job data. */

function deadLetterFilter(req: Request): DeadLetterFilter {
  const status = text(req, 'status');
  const partner = text(req, 'partner', 40);
  const queue = text(req, 'queue', 80);
  const reason = text(req, 'reason');
  return {
    ...(partner ? { partner } : {}),
    ...(queue ? { queue } : {}),
    ...(reason ? { reason } : {}),
    ...(status === 'pending' || status === 'replayed' || status === 'discarded' ? { status } : {}),
  };
}

/** GET /ops/api/dead-letters, /ops/api/dead-letters/:id */
export function deadLetterRoutes(runtime: Runtime, viewer: RequestHandler): Router {
  const router = express.Router();

  router.get(
    '/ops/api/dead-letters',
    viewer,
    json(async (req, res) => {
      const filter = deadLetterFilter(req);
      const limit = integer(req, 'limit', 100, 1, LIMITS.deadLetters);
      const { letters, total } = await runtime.deadLetters.newest(LIMITS.deadLetterScan);
      const counts = { pending: 0, replayed: 0, discarded: 0 };
      for (const letter of letters) counts[deadLetterStatus(letter)] += 1;
      const matching = letters.filter((letter) => matches(letter, filter));
      res.json({
        filter,
        items: matching.slice(0, limit).map(letterSummary),
        matching: matching.length,
        counts,
        total,
        scanned: letters.length,
        capped: total > letters.length || matching.length > limit,
        queues: [...new Set([...dashboardQueues(runtime).map(({ queue }) => queue.name), ...letters.map((letter) => letter.queue)])],
      });
    }),
  );

  router.get(
    '/ops/api/dead-letters/:id',
    viewer,
    json(async (req, res) => {
      const letter = await runtime.deadLetters.get(String(req.params['id']).slice(0, 64));
      if (!letter) {
        problem(res, 404, '未找到死信 / No such dead letter');
        return;
      }
      res.json({ ...letterSummary(letter), data: redact(letter.data), message: await messageSummary(runtime, letter.trackingNo) ?? null });
    }),
  );

  return router;
}
