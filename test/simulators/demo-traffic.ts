import axios from 'axios';
import { randomInt } from 'node:crypto';
import { beijingDate } from '../../kernel/beijing-time.ts';
import { WorkCalendar } from '../../ledger/calendar.ts';
import type { ProvinceSimulator, ReceivedMessage } from './province.ts';
import { applyData, ProvinceClient, seriesNumber } from './province-traffic.ts';
import type { ChangshaSimulator, ChangshaWireEvent, SentEvent } from './changsha.ts';
import { ChangshaClient, slotRequestedData } from './changsha-client.ts';

const CENTERS: readonly [string, string][] = [
  ['430100', '长沙市公共资源交易中心'],
  ['430300', '湘潭市公共资源交易中心'],
  ['430400', '衡阳市公共资源交易中心'],
  ['430600', '岳阳市公共资源交易中心'],
];
const DAY = 24 * 3600 * 1000;

/**
 * Realistic province traffic for a local trial: applies from other centers
 * (some on closed days, some too large), now and then a change or a cancel of
 * an approved one; every decision the simulator receives is printed.
 */
export function startProvinceTraffic(options: { gatewayUrl: string; secret: string; simulator: ProvinceSimulator; intervalMs: number; log: (line: string) => void }): () => void {
  const client = new ProvinceClient({ gatewayUrl: options.gatewayUrl, secret: options.secret });
  const calendar = new WorkCalendar([]);
  const approved: { SERIES_NUMBER: string; data: ReturnType<typeof applyData> }[] = [];
  const pending = new Map<string, ReturnType<typeof applyData>>();

  const onNotify = (message: ReceivedMessage) => {
    // host calls (host-apply and the like) are printed by narrateProvinceHost
    if (message.operation !== 'notify') return;
    const series = String(message.data['SERIES_NUMBER']);
    const remark = String(message.data['REMARK']);
    const verdict =
      message.data['STATUS'] !== '1' ? `rejected ${remark}` : remark === 'CANCELLED' ? 'cancelled' : `approved ${String(message.data['EVAL_ROOM_NAME'])} ${(message.data['SEAT_NUMBER'] as string[]).join(',')}`;
    options.log(`province <- notify ${series}: ${verdict}`);
    const data = pending.get(series);
    if (data && message.data['STATUS'] === '1' && series.startsWith('SQ')) approved.push({ SERIES_NUMBER: series, data });
    pending.delete(series);
  };
  options.simulator.on('message', onNotify);

  const tick = async () => {
    const roll = randomInt(10);
    try {
      if (roll === 0 && approved.length > 0) {
        const original = approved.splice(randomInt(approved.length), 1)[0];
        if (!original) return;
        const cancel = { SERIES_NUMBER: seriesNumber('QX'), ORIGINAL_SERIES_NUMBER: original.SERIES_NUMBER, REMARK: '招标人申请延期' };
        const answer = await client.send('cancel', cancel);
        options.log(`province -> cancel ${cancel.SERIES_NUMBER} of ${original.SERIES_NUMBER}: HTTP ${answer.status}`);
        return;
      }
      const offset = randomInt(1, 15);
      let day = beijingDate(Date.now() + offset * DAY);
      // mostly working days; one in five lands wherever it falls, closed or not
      while (roll > 1 && calendar.isClosed(day)) day = beijingDate(Date.parse(`${day}T12:00:00+08:00`) + DAY);
      const compact = day.replace(/-/g, '');
      const startHour = 8 + randomInt(6);
      const [code, name] = CENTERS[randomInt(CENTERS.length)] ?? CENTERS[0]!;
      const data = applyData({
        start: `${compact}${String(startHour).padStart(2, '0')}0000`,
        end: `${compact}${String(startHour + 2 + randomInt(4)).padStart(2, '0')}0000`,
        AREA_CODE: code,
        CENTER_NAME: name,
        SEAT_COUNT: 1 + randomInt(roll === 9 ? 15 : 7),
      });
      pending.set(data.SERIES_NUMBER, data);
      const answer = await client.send('apply', data);
      options.log(`province -> apply ${data.SERIES_NUMBER} (${day} ${data.SEAT_COUNT} seats from ${name}): HTTP ${answer.status}`);
    } catch (error) {
      options.log(`province -> failed to reach the gateway: ${(error as Error).message}`);
    }
  };
  const timer = setInterval(() => void tick(), options.intervalMs);
  void tick();
  return () => {
    clearInterval(timer);
    options.simulator.off('message', onNotify);
  };
}

/**
 * Changsha's side of a local trial: it asks Zhuzhou for seats and confirms
 * most offers (letting some lapse), answers Zhuzhou's own seat requests with
 * offers, and now and then the center asks Changsha for seats.
 */
export function startChangshaTraffic(options: {
  gatewayUrl: string;
  keyId: string;
  secret: string;
  apiKey?: string;
  simulator: ChangshaSimulator;
  intervalMs: number;
  log: (line: string) => void;
  /** Zhuzhou's seat requests are offered most of the time and declined now and then, as this seed draws it */
  seed: number;
}): () => void {
  const client = new ChangshaClient({ gatewayUrl: options.gatewayUrl, keyId: options.keyId, secret: options.secret });
  const calendar = new WorkCalendar([]);
  options.simulator.autoRespond('trial', options.gatewayUrl, { seed: options.seed, answerMs: Math.round(options.intervalMs / 4) });

  // what Changsha answers Zhuzhou's own requests (seat requests and host evaluation legs)
  const onSent = (sent: SentEvent) => {
    const data = sent.event.data as { requestId?: string; roomId?: string; seatNumbers?: string[]; reason?: string; holdExpiresAt?: string };
    const describe = sent.event.eventType === 'slot.offered' ? `${data.roomId ?? ''} ${(data.seatNumbers ?? []).length} seats, held until ${(data.holdExpiresAt ?? '').slice(11, 16)}` : (data.reason ?? '');
    options.log(`changsha -> ${sent.event.eventType} ${data.requestId ?? ''} ${describe}: ${sent.status === undefined ? `failed: ${sent.error ?? ''}` : `HTTP ${sent.status}`}`);
  };
  options.simulator.on('sent', onSent);

  const onEvent = (event: ChangshaWireEvent) => {
    const data = event.data as { requestId?: string; offerId?: string; roomId?: string; seatNumbers?: string[]; reason?: string };
    const describe = event.eventType === 'slot.offered' ? `${data.roomId ?? ''} ${(data.seatNumbers ?? []).join(',')}` : (data.reason ?? '');
    options.log(`changsha <- ${event.eventType} ${data.requestId ?? ''} ${describe}`.trim());
    if (event.eventType === 'slot.offered' && data.requestId?.startsWith('CSR-') && data.offerId && randomInt(4) > 0) {
      setTimeout(() => {
        void client
          .send('slot.confirmed', { requestId: data.requestId, offerId: data.offerId })
          .then((answer) => options.log(`changsha -> slot.confirmed ${data.requestId ?? ''}: HTTP ${answer.status}`))
          .catch(() => undefined);
      }, options.intervalMs / 2);
    }
  };
  options.simulator.on('event', onEvent);

  const tick = async () => {
    const offset = randomInt(1, 15);
    let day = beijingDate(Date.now() + offset * DAY);
    while (calendar.isClosed(day)) day = beijingDate(Date.parse(`${day}T12:00:00+08:00`) + DAY);
    const startHour = 8 + randomInt(6);
    const start = `${day}T${String(startHour).padStart(2, '0')}:00:00+08:00`;
    const end = `${day}T${String(startHour + 2 + randomInt(3)).padStart(2, '0')}:00:00+08:00`;
    try {
      if (options.apiKey && randomInt(3) === 0) {
        const answer = await axios.post(
          `${options.gatewayUrl}/api/v1/seat-requests`,
          { start, end, seats: 1 + randomInt(5), projectCode: 'M4302000260031190001', sectionCode: 'M4302000260031190001001', category: 'municipal', projectName: '株洲市政道路改造工程' },
          { headers: { 'X-Api-Key': options.apiKey }, validateStatus: () => true },
        );
        options.log(`center -> seat request to Changsha ${(answer.data as { requestId?: string }).requestId ?? ''}: HTTP ${answer.status}`);
        return;
      }
      const data = slotRequestedData({ start, end, seats: 1 + randomInt(8) });
      const answer = await client.send('slot.requested', data);
      options.log(`changsha -> slot.requested ${data.requestId} (${day} ${data.seats} seats): HTTP ${answer.status}`);
    } catch (error) {
      options.log(`changsha -> failed to reach the gateway: ${(error as Error).message}`);
    }
  };
  const timer = setInterval(() => void tick(), options.intervalMs);
  return () => {
    clearInterval(timer);
    options.simulator.off('event', onEvent);
    options.simulator.off('sent', onSent);
    options.simulator.autoRespond('off');
  };
}
