import type { PartnerId } from '../adapters/types.ts';

/** Queue names live here only and are never renamed: jobs in Redis outlive deployments. */
export const INBOUND_QUEUE = 'inbound';

/** ticks of the scheduler: availability polling and publishing */
export const PERIODIC_QUEUE = 'periodic';

export function outboundQueue(partner: PartnerId): string {
  return `outbound-${partner}`;
}

/** A deterministic job id from its parts; BullMQ refuses `:` in custom ids. */
export function jobId(...parts: string[]): string {
  return parts.join('.');
}
