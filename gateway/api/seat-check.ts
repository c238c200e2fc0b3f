import express, { type Request, type Response, type Router } from 'express';
import { asGatewayError } from '../../kernel/errors.ts';
import { checkSeats, seatCheckQueryOf } from '../../usecases/hosting/seat-check.ts';
import type { Runtime } from '../../usecases/runtime.ts';
import { problem } from '../problem.ts';

/** GET /api/v1/seat-check?center=&start=&end=&seats=: free seats of a guest center over a window (advisory). */
export function seatCheckRoutes(runtime: Runtime): Router {
  const router = express.Router();
  router.get('/api/v1/seat-check', async (req: Request, res: Response) => {
    const checked = seatCheckQueryOf(req.query);
    if (!checked.ok) {
      problem(res, 400, 'Invalid seat-check query', { errors: checked.violations });
      return;
    }
    try {
      res.json(await checkSeats(runtime, checked.value));
    } catch (thrown) {
      const error = asGatewayError(thrown);
      if (error.code === 'INTERNAL') throw thrown;
      const title = error.status === 502 ? 'The partner did not answer the seat-check' : error.status === 400 ? 'Invalid seat-check query' : 'Seat-check breaks a rule';
      problem(res, error.status, title, { detail: error.message, ...(error.violations.length > 0 ? { errors: error.violations } : {}) });
    }
  });
  return router;
}
