import { expect } from 'chai';
import { startScheduler } from '../../workers/scheduler.ts';
import { startTestGateway } from '../helpers/gateway.ts';

describe('scheduler (node-cron ticks enqueue jobs with the tick as id)', () => {
  it('when the poll cron ticks, Changsha availability is fetched by a worker and kept', async () => {
    // every second, so that the test sees a tick without sleeping on a clock
    const gateway = await startTestGateway({ env: { CHANGSHA_AVAILABILITY_POLL_CRON: '* * * * * *' } });
    const scheduler = startScheduler(gateway.runtime);
    try {
      while ((await gateway.runtime.redis.get(`${gateway.config.redis.namespace}:availability:changsha`)) === null) {
        await new Promise<void>((resolve) => gateway.runtime.periodicQueue.once('waiting', () => resolve()));
      }
      expect(gateway.changshaSimulator.availabilityCalls).to.be.at.least(1);
    } finally {
      await scheduler.stop();
      await gateway.close();
    }
  });

  it('when two schedulers tick together, each tick is one job', async () => {
    const gateway = await startTestGateway({ workers: false, env: { CHANGSHA_AVAILABILITY_POLL_CRON: '* * * * * *' } });
    const schedulers = [startScheduler(gateway.runtime), startScheduler(gateway.runtime)];
    try {
      const ids = new Set<string>();
      let added = 0;
      while (ids.size < 2) {
        await new Promise<void>((resolve) => gateway.runtime.periodicQueue.once('waiting', () => resolve()));
        const jobs = (await gateway.runtime.periodicQueue.getJobs(['waiting'])).filter((job) => job.name === 'availability-poll');
        added = jobs.length;
        for (const job of jobs) ids.add(job.id ?? '');
      }
      expect(added).to.equal(ids.size);
      expect([...ids].every((id) => /^availability-poll\.changsha\.\d{14}$/.test(id))).to.equal(true);
    } finally {
      await Promise.all(schedulers.map((scheduler) => scheduler.stop()));
      await gateway.close();
    }
  });
});
