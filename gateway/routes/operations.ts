import express, { type Request, type Response, type Router } from 'express';
import { ulid } from 'ulid';
import { PERIODIC_JOB_OPTIONS } from '../../queues/catalog.ts';
import { jobId } from '../../queues/names.ts';
import { sendToPartner } from '../../queues/outbound.ts';
import { recentRuns } from '../../queues/workers/reconciliation.ts';
import { validatorFor, type Violation } from '../../schemas/registry.ts';
import type { ExceptionInput, ExceptionReport } from '../../schemas/types.generated.ts';
import type { Runtime } from '../core/runtime.ts';

const validateException = validatorFor<ExceptionInput>('api/exception.json');

function problem(res: Response, status: number, title: string, errors?: Violation[]): void {
  res.status(status).type('application/problem+json').json({ title, status, ...(errors ? { errors } : {}) });
}

/** Operator actions behind X-Api-Key: reconciliations on demand, exceptions to the province. */
export function operationRoutes(runtime: Runtime): Router {
  const router = express.Router();

  router.post('/api/v1/reconciliations', async (_req: Request, res: Response) => {
    const id = jobId('reconciliation', 'on-demand', ulid(runtime.clock.now()));
    await runtime.periodicQueue.add('reconciliation', { reason: 'on demand' }, { ...PERIODIC_JOB_OPTIONS, jobId: id });
    res.status(202).json({ runId: id });
  });

  router.get('/api/v1/reconciliations', async (_req: Request, res: Response) => {
    res.json({ items: await recentRuns(runtime) });
  });

  router.post('/api/v1/exceptions', async (req: Request, res: Response) => {
    const checked = validateException(req.body);
    if (!checked.ok) {
      problem(res, 400, 'Invalid exception', checked.violations);
      return;
    }
    const input = checked.value;
    const adapter = runtime.adapters.province;
    const booked = await runtime.ledger.describe(adapter.id, input.seriesNumber);
    if (!booked) {
      problem(res, 404, 'No such request');
      return;
    }
    if (booked.state !== 'in-force') {
      problem(res, 409, `Request is not booked (it is ${booked.state})`);
      return;
    }
    if (!adapter.exceptions) {
      problem(res, 501, 'This partner takes no exceptions');
      return;
    }
    const report: ExceptionReport = { reportId: ulid(runtime.clock.now()), requestId: input.seriesNumber, type: input.type, description: input.description, occurredAt: input.occurredAt };
    const message = adapter.exceptions.encode(report, adapter.messageIdFor(`exception:${report.reportId}`));
    // traced with the booked request, so an operator finds it by SERIES_NUMBER
    const trackingNo = (await runtime.ledger.lookup(adapter.id, input.seriesNumber))?.trackingNo ?? report.reportId;
    await runtime.traces.append(trackingNo, 'exception-raised', { reportId: report.reportId, type: report.type, description: report.description });
    await sendToPartner(runtime, message, trackingNo);
    res.status(202).json({ reportId: report.reportId, messageId: message.messageId, trackingNo });
  });

  return router;
}
