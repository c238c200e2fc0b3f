import { expect } from 'chai';
import { at, futureDay } from '../helpers/dates.ts';
import { ForwardProxy } from '../helpers/forward-proxy.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { slotRequestedData } from '../simulators/changsha-client.ts';
import type { ChangshaWireEvent } from '../simulators/changsha.ts';
import { applyData } from '../simulators/province-traffic.ts';

const isoOf = (day: string, time: string) => `${day.slice(0, 4)}-${day.slice(4, 6)}-${day.slice(6, 8)}T${time}:00+08:00`;
const offerTo = (requestId: string) => (event: ChangshaWireEvent) => event.eventType === 'slot.offered' && (event.data as { requestId?: string }).requestId === requestId;

/** An apply from the province and a slot request from Changsha, each for an hour from the given times; resolves once both partners have their answers. */
async function answeredByBoth(gateway: TestGateway, provinceStart: string, changshaStart: string): Promise<void> {
  const day = futureDay({ open: true });
  const plusHour = (time: string) => `${String(Number(time.slice(0, 2)) + 1).padStart(2, '0')}${time.slice(2)}`;
  const apply = applyData({ start: at(day, provinceStart), end: at(day, plusHour(provinceStart)) });
  expect((await gateway.province.send('apply', apply)).status).to.equal(200);
  await gateway.simulator.waitForNotify(apply.SERIES_NUMBER);
  const request = slotRequestedData({ start: isoOf(day, changshaStart), end: isoOf(day, plusHour(changshaStart)) });
  expect((await gateway.changsha.send('slot.requested', request)).status).to.equal(202);
  await gateway.changshaSimulator.waitForEvent(offerTo(request.requestId));
}

describe('calls to partners and proxies (real forward proxy, simulators over HTTP)', () => {
  let proxy: ForwardProxy;
  beforeEach(async () => {
    proxy = await new ForwardProxy().start();
  });
  afterEach(async () => {
    await proxy.close();
  });

  it('when PROVINCE_PROXY_URL and CHANGSHA_PROXY_URL name a proxy, every call to both partners goes through it, with its Basic credentials', async () => {
    const gateway = await startTestGateway({
      env: {
        PROVINCE_PROXY_URL: `http://ops:p%40ss@127.0.0.1:${proxy.port}`,
        CHANGSHA_PROXY_URL: `http://127.0.0.1:${proxy.port}`,
      },
    });
    try {
      await answeredByBoth(gateway, '09:00', '14:00');

      const toProvince = proxy.seen.filter(({ url }) => url.startsWith(gateway.simulator.url));
      const toChangsha = proxy.seen.filter(({ url }) => url.startsWith(gateway.changshaSimulator.url));
      expect(toProvince.map(({ method }) => method)).to.include('POST');
      expect(toProvince.every(({ proxyAuthorization }) => proxyAuthorization === `Basic ${Buffer.from('ops:p@ss').toString('base64')}`)).to.equal(true);
      // the token and the event both went through it
      expect(toChangsha.length).to.be.at.least(2);
      expect(toChangsha.every(({ proxyAuthorization }) => proxyAuthorization === undefined)).to.equal(true);
    } finally {
      await gateway.close();
    }
  });

  it('when no proxy is configured, calls go direct even though HTTP_PROXY names one', async () => {
    const saved = { HTTP_PROXY: process.env['HTTP_PROXY'], http_proxy: process.env['http_proxy'] };
    process.env['HTTP_PROXY'] = process.env['http_proxy'] = `http://127.0.0.1:${proxy.port}`;
    const gateway = await startTestGateway();
    try {
      await answeredByBoth(gateway, '11:00', '16:00');

      const toPartners = proxy.seen.filter(({ url }) => url.startsWith(gateway.simulator.url) || url.startsWith(gateway.changshaSimulator.url));
      expect(toPartners).to.deep.equal([]);
    } finally {
      await gateway.close();
      for (const [name, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
  });
});
