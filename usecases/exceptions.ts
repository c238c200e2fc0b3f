import { ulid } from 'ulid';
import type { Runtime } from './runtime.ts';
import type { ExceptionInput, ExceptionReport } from '../schemas/types.generated.ts';
import { enqueueDelivery } from './delivery/queue.ts';

export type RaiseResult =
  | { ok: true; reportId: string; messageId: string; trackingNo: string }
  | { ok: false; status: 404 | 409 | 501; title: string };

/**
 * Tells the province of a problem with a booked request (`exception`), traced
 * with the request so that an operator finds it by its SERIES_NUMBER.
 */
export async function raiseException(runtime: Runtime, input: ExceptionInput, raisedBy: string): Promise<RaiseResult> {
  const adapter = runtime.adapters.province;
  const booked = await runtime.ledger.describe(adapter.id, input.seriesNumber);
  if (!booked) return { ok: false, status: 404, title: '未找到该申请 / No such request' };
  if (booked.state !== 'in-force') return { ok: false, status: 409, title: `该申请不在有效状态（${booked.state}） / Request is not booked (it is ${booked.state})` };
  if (!adapter.exceptions) return { ok: false, status: 501, title: '该合作方不接受异常上报 / This partner takes no exceptions' };
  const report: ExceptionReport = { reportId: ulid(runtime.clock.now()), requestId: input.seriesNumber, type: input.type, description: input.description, occurredAt: input.occurredAt };
  const message = adapter.exceptions.encode(report, adapter.messageIdFor(`exception:${report.reportId}`));
  const trackingNo = (await runtime.ledger.lookup(adapter.id, input.seriesNumber))?.trackingNo ?? report.reportId;
  await runtime.traces.append(trackingNo, 'exception-raised', { reportId: report.reportId, type: report.type, description: report.description, raisedBy });
  await enqueueDelivery(runtime, message, trackingNo);
  return { ok: true, reportId: report.reportId, messageId: message.messageId, trackingNo };
}
