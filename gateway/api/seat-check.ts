import express, { type Request, type Response, type Router } from 'express';
import { asGatewayError } from '../../kernel/errors.ts';
import { validatorFor } from '../../schemas/registry.ts';
import type { SeatCheckApiQuery } from '../../schemas/types.generated.ts';
import { checkSeats } from '../../usecases/hosting/seat-check.ts';
import type { Runtime } from '../../usecases/runtime.ts';
import { problem } from '../problem.ts';

const validateQuery = validatorFor<SeatCheckApiQuery>('api/seat-check-query.json');

/** A query parameter as given once; repeated or absent ones are left for the schema to name. */
function single(value: unknown): unknown {
  return typeof value === 'string' ? value : undefined;
}

/** GET /api/v1/seat-check?center=&start=&end=&seats=: free seats of a guest center over a window (advisory). */
export function seatCheckRoutes(runtime: Runtime): Router {
  const router = express.Router();
  router.get('/api/v1/seat-check', async (req: Request, res: Response) => {
    const seats = single(req.query['seats']);
    const candidate = Object.fromEntries(
      Object.entries({
        center: single(req.query['center']),
        start: single(req.query['start']),
        end: single(req.query['end']),
        // a number when it reads as one, else the text, so that the schema names it
        seats: typeof seats === 'string' && /^\d{1,3}$/.test(seats) ? Number(seats) : seats,
      }).filter(([, value]) => value !== undefined),
    );
    const checked = validateQuery(candidate);
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
