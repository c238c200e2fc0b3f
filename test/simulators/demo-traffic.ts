import { randomInt } from 'node:crypto';
import { beijingDate } from '../../gateway/core/beijing-time.ts';
import { WorkCalendar } from '../../ledger/calendar.ts';
import type { ProvinceSimulator, ReceivedMessage } from './province.ts';
import { applyData, ProvinceClient, seriesNumber } from './province-traffic.ts';

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
