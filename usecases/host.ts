import type { PartnerId } from '../adapters/types.ts';
import type { Runtime } from './runtime.ts';
import { GatewayError } from '../kernel/errors.ts';
import type { SeatRequest } from '../stores/seat-requests.ts';
import type { BookingRequest, HostEvent, HostMessage } from '../schemas/types.generated.ts';
import { enqueueDelivery } from './delivery/queue.ts';

/** Whether `requestId` is one of Zhuzhou's own seat requests (Zhuzhou as host). */
export async function isHostedRequest(runtime: Runtime, requestId: string): Promise<boolean> {
  return (await runtime.seatRequests.get(requestId)) !== undefined;
}

/** Sends a host message about a seat request; `cause` makes its id deterministic. */
export async function sendHostMessage(runtime: Runtime, seatRequest: SeatRequest, message: HostMessage, cause: string): Promise<void> {
  const partner = seatRequest.partner as PartnerId;
  const adapter = runtime.adapters[partner];
  if (!adapter.host) throw new GatewayError('CANONICAL_INVALID', `${partner} does not take seat requests`);
  const outbound = adapter.host.encode(message, adapter.messageIdFor(`host:${seatRequest.requestId}:${cause}`));
  await enqueueDelivery(runtime, outbound, seatRequest.requestId);
}

/**
 * An offer or a decline for one of Zhuzhou's seat requests. An offer that
 * matches what was asked is confirmed; any other offer is released at once.
 */
export async function handleHostEvent(runtime: Runtime, partner: PartnerId, event: HostEvent): Promise<void> {
  const now = new Date(runtime.clock.now()).toISOString();
  const current = await runtime.seatRequests.get(event.requestId);
  if (event.kind === 'declined') {
    if (!current) return;
    const updated = await runtime.seatRequests.update(event.requestId, (request) =>
      request.state === 'requested' ? { ...request, state: 'declined', reason: event.reason ?? '', updatedAt: now } : undefined,
    );
    await runtime.traces.append(event.requestId, 'declined', { by: partner, reason: event.reason, state: updated?.state, eventTrackingNo: event.trackingNo });
    return;
  }
  const offerId = event.offerId ?? '';
  const matches = (request: SeatRequest) =>
    request.partner === partner && request.state === 'requested' && (event.seatIds?.length ?? 0) === request.request.seats;
  const confirmed = current
    ? await runtime.seatRequests.update(event.requestId, (request) =>
        matches(request)
          ? { ...request, state: 'confirmed', updatedAt: now, offer: { offerId, roomId: event.roomId ?? '', seatIds: event.seatIds ?? [], holdExpiresAt: event.holdExpiresAt ?? '' } }
          : undefined,
      )
    : undefined;
  if (current && confirmed?.state === 'confirmed' && confirmed.offer?.offerId === offerId) {
    // traced before it is sent: the trace never lags behind what the partner already has
    await runtime.traces.append(event.requestId, 'offer-confirmed', { offerId, roomId: event.roomId, seatIds: event.seatIds, eventTrackingNo: event.trackingNo });
    await sendHostMessage(runtime, confirmed, { kind: 'confirm', requestId: event.requestId, offerId }, `confirm:${offerId}`);
    return;
  }
  // not ours, no longer wanted, or not what was asked: let it go so the partner frees the seats
  const request: SeatRequest = current ?? {
    requestId: event.requestId,
    partner,
    state: 'released',
    request: { tenderProjectCode: '', bidSectionCode: '', projectName: '', category: 'other', start: now, end: now, seats: 1, hostCenter: '' },
    createdAt: now,
    updatedAt: now,
  };
  await runtime.traces.append(current ? event.requestId : event.trackingNo, 'offer-released', { offerId, seatIds: event.seatIds, state: current?.state ?? 'unknown request' });
  await sendHostMessage(runtime, { ...request, partner }, { kind: 'release', requestId: event.requestId, reason: 'OTHER' }, `release:${offerId}`);
}

/** The partner released its offer (or our request): the seat request ends. */
export async function handleHostRelease(runtime: Runtime, event: BookingRequest): Promise<void> {
  const now = new Date(runtime.clock.now()).toISOString();
  const updated = await runtime.seatRequests.update(event.requestId, (request) =>
    request.state === 'released' ? undefined : { ...request, state: 'released', reason: event.reason ?? 'OTHER', updatedAt: now },
  );
  await runtime.traces.append(event.requestId, 'released-by-partner', { reason: event.reason, state: updated?.state, eventTrackingNo: event.trackingNo });
}
