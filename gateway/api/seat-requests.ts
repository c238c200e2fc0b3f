import express, { type Request, type Response, type Router } from 'express';
import type { SeatRequest } from '../../stores/seat-requests.ts';
import { sendHostMessage } from '../../usecases/host.ts';
import { validatorFor, type Violation } from '../../schemas/registry.ts';
import type { SeatRequestInput, SeatRequestListQuery } from '../../schemas/types.generated.ts';
import { pageOf } from '../../stores/keyset.ts';
import { beijingDate, formatIsoBeijing } from '../../kernel/beijing-time.ts';
import type { Runtime } from '../../usecases/runtime.ts';
import { idFactory } from '../../kernel/ids.ts';
import { problem } from '../problem.ts';
import { auditApiAction } from './audit.ts';
import { listRequest, refuseListQuery, within } from './lists.ts';

const validateInput = validatorFor<SeatRequestInput>('api/seat-request.json');
const validateListQuery = validatorFor<SeatRequestListQuery>('api/seat-request-list-query.json');
const nextRequestId = idFactory();


function windowViolations(input: SeatRequestInput, now: number): Violation[] {
  const start = Date.parse(input.start);
  const end = Date.parse(input.end);
  const violations: Violation[] = [];
  if (end <= start) violations.push({ path: '/end', message: 'must be after start' });
  if (beijingDate(start) !== beijingDate(end)) violations.push({ path: '/end', message: 'must be on the same calendar day as start in Beijing time' });
  if (end <= now) violations.push({ path: '/end', message: 'is already past' });
  if (!input.sectionCode.startsWith(input.projectCode)) violations.push({ path: '/sectionCode', message: 'must start with projectCode' });
  return violations;
}

/** Zhuzhou as host: the center's own systems ask a partner for guest seats (behind X-Api-Key, see gateway/api/index.ts). */
export function seatRequestRoutes(runtime: Runtime): Router {
  const router = express.Router();

  router.post('/api/v1/seat-requests', async (req: Request, res: Response) => {
    const checked = validateInput(req.body);
    if (!checked.ok) {
      await auditApiAction(runtime, req, 'seat-request.create', undefined, 'failed', { violations: checked.violations.length });
      problem(res, 400, 'Invalid seat request', { errors: checked.violations });
      return;
    }
    const input = checked.value;
    const violations = windowViolations(input, runtime.clock.now());
    if (violations.length > 0) {
      await auditApiAction(runtime, req, 'seat-request.create', input.sectionCode, 'failed', { violations: violations.length });
      problem(res, 422, 'Seat request breaks a rule', { errors: violations });
      return;
    }
    const now = formatIsoBeijing(runtime.clock.now());
    const seatRequest: SeatRequest = {
      requestId: `ZZR-${nextRequestId()}`,
      partner: input.partner ?? 'changsha',
      state: 'requested',
      request: {
        tenderProjectCode: input.projectCode,
        bidSectionCode: input.sectionCode,
        projectName: input.projectName,
        category: input.category,
        start: formatIsoBeijing(Date.parse(input.start)),
        end: formatIsoBeijing(Date.parse(input.end)),
        seats: input.seats,
        hostCenter: runtime.config.center.areaCode,
      },
      createdAt: now,
      updatedAt: now,
    };
    await runtime.seatRequests.create(seatRequest);
    await auditApiAction(runtime, req, 'seat-request.create', seatRequest.requestId, 'ok', { partner: seatRequest.partner, seats: input.seats });
    await runtime.traces.index(seatRequest.requestId, { requestId: seatRequest.requestId, section: input.sectionCode });
    await runtime.traces.append(seatRequest.requestId, 'seat-request-created', { partner: seatRequest.partner, request: seatRequest.request });
    await sendHostMessage(runtime, seatRequest, { kind: 'request', requestId: seatRequest.requestId, request: seatRequest.request }, 'request');
    res.status(201).location(`/api/v1/seat-requests/${seatRequest.requestId}`).json(seatRequest);
  });

  /** GET /api/v1/seat-requests: earliest window first, a page at a time, by partner, state and when the window starts. */
  router.get('/api/v1/seat-requests', async (req: Request, res: Response) => {
    const list = listRequest(runtime, req, 'seat-requests', validateListQuery);
    if (!list.ok) {
      refuseListQuery(res, 'Invalid seat-request list query', list.violations);
      return;
    }
    const { query, window, after, limit } = list.value;
    // a window that starts at or after `from` ends after it: the store's index by the end of a request's life narrows the read
    const placed = (await runtime.seatRequests.listEndingFrom(window.from)).map((seatRequest) => ({ seatRequest, position: { at: Date.parse(seatRequest.request.start), id: seatRequest.requestId } }));
    const matching = placed.filter(
      ({ seatRequest, position }) =>
        (query.partner === undefined || seatRequest.partner === query.partner) && (query.state === undefined || seatRequest.state === query.state) && within(window, position.at),
    );
    const page = pageOf(matching, ({ position }) => position, 'earliest-first', after, limit);
    res.json(list.value.answer({ ...page, items: page.items.map(({ seatRequest }) => seatRequest) }));
  });

  router.get('/api/v1/seat-requests/:id', async (req: Request, res: Response) => {
    const id = String(req.params['id']);
    const seatRequest = await runtime.seatRequests.get(id);
    if (!seatRequest) {
      problem(res, 404, 'No such seat request');
      return;
    }
    res.json({ ...seatRequest, trace: await runtime.traces.read(id) });
  });

  router.delete('/api/v1/seat-requests/:id', async (req: Request, res: Response) => {
    const id = String(req.params['id']);
    const now = formatIsoBeijing(runtime.clock.now());
    let released = false;
    const updated = await runtime.seatRequests.update(id, (current) => {
      if (current.state === 'released' || current.state === 'declined') return undefined;
      released = true;
      return { ...current, state: 'released', reason: 'PROJECT_CANCELLED', updatedAt: now };
    });
    await auditApiAction(runtime, req, 'seat-request.release', id, updated ? 'ok' : 'failed', updated && !released ? { state: updated.state } : undefined);
    if (!updated) {
      problem(res, 404, 'No such seat request');
      return;
    }
    if (released) {
      await runtime.traces.append(id, 'released-locally', { partner: updated.partner });
      await sendHostMessage(runtime, updated, { kind: 'release', requestId: id, reason: 'PROJECT_CANCELLED' }, 'release:local');
    }
    res.json(updated);
  });

  return router;
}
