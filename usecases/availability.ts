import type { PartnerId } from '../adapters/types.ts';
import { DAY_MS } from '../kernel/beijing-time.ts';
import type { Runtime } from './runtime.ts';
import { computeAvailability } from '../ledger/availability.ts';
import type { Availability } from '../schemas/types.generated.ts';
import { PERIODIC_JOB_OPTIONS } from '../queues/catalog.ts';
import { jobId } from '../queues/names.ts';
import { enqueueDelivery } from './delivery/queue.ts';

export async function pollAvailability(runtime: Runtime, partner: PartnerId): Promise<void> {
  const source = runtime.adapters[partner].availability;
  if (!source) return;
  const from = runtime.clock.now();
  const horizon = runtime.config.partners.changsha.availability.horizonDays * 24 * 3600 * 1000;
  await runtime.availability.store(await source.fetch(from, from + horizon));
}

/**
 * Within the debounce delay after the ledger changes, Zhuzhou's availability is
 * published; every change in between joins the same publication.
 */
export async function scheduleAvailabilityPublish(runtime: Runtime, reason: string): Promise<void> {
  const delay = runtime.config.partners.changsha.availability.publishDebounceMs;
  await runtime.periodicQueue.add('availability-publish', { reason }, { ...PERIODIC_JOB_OPTIONS, delay, deduplication: { id: 'availability-publish' } });
}

export async function publishAvailability(runtime: Runtime, publishJobId: string): Promise<void> {
  const now = runtime.clock.now();
  const days = runtime.config.partners.changsha.availability.horizonDays;
  const computed = computeAvailability({
    // the horizon, with a day's margin either side for Beijing days and the turnover buffer
    bookings: await runtime.ledger.bookings({ from: now - DAY_MS, to: now + (days + 1) * DAY_MS }),
    rooms: runtime.config.ledger.rooms,
    bufferMinutes: runtime.config.ledger.bufferMinutes,
    openingHours: runtime.config.ledger.openingHours,
    calendar: runtime.calendar,
    from: now,
    days,
  });
  const traceId = jobId('availability', publishJobId);
  for (const adapter of Object.values(runtime.adapters)) {
    if (!adapter.availability) continue;
    const availability: Availability = { kind: 'availability', partner: adapter.id, trackingNo: traceId, receivedAt: computed.from, center: runtime.config.center.areaCode, ...computed };
    await enqueueDelivery(runtime, adapter.availability.encode(availability, adapter.messageIdFor(`availability:${publishJobId}`)), traceId);
  }
}
