import { expect } from 'chai';
import chineseDays from 'chinese-days';
import { WorkCalendar } from '../../ledger/calendar.ts';

/** The make-up workdays (调休上班) of a year that fall on a weekend, as the chinese-days package publishes them. */
function makeUpWorkdays(year: number): string[] {
  const days: string[] = [];
  for (let t = Date.UTC(year, 0, 1); t < Date.UTC(year + 1, 0, 1); t += 24 * 3600 * 1000) {
    const date = new Date(t);
    const weekday = date.getUTCDay();
    const iso = date.toISOString().slice(0, 10);
    if ((weekday === 0 || weekday === 6) && chineseDays.isWorkday(iso)) days.push(iso);
  }
  return days;
}

function weekdayOf(date: string): number {
  return new Date(`${date}T00:00:00Z`).getUTCDay();
}

describe('ledger calendar: WorkCalendar', () => {
  const calendar = new WorkCalendar([]);

  describe('a year with a published State Council notice (2026)', () => {
    it('2026 is published', () => {
      expect(calendar.isPublished(2026)).to.equal(true);
    });

    it('when the date is National Day (Thursday 2026-10-01), the center is closed', () => {
      expect(weekdayOf('2026-10-01')).to.equal(4);
      expect(calendar.isClosed('2026-10-01')).to.equal(true);
    });

    it('when the date is a weekday inside the National Day holiday (Wednesday 2026-10-07), the center is closed', () => {
      expect(weekdayOf('2026-10-07')).to.equal(3);
      expect(calendar.isClosed('2026-10-07')).to.equal(true);
    });

    it('when the date is the first of January 2026 (Thursday), the center is closed', () => {
      expect(calendar.isClosed('2026-01-01')).to.equal(true);
    });

    it('the package data lists 2026-10-10 among the make-up workdays on a weekend', () => {
      const days = makeUpWorkdays(2026);
      expect(days).to.include('2026-10-10');
      expect(days.length).to.be.greaterThan(3);
    });

    it('when the date is the make-up Saturday 2026-10-10, the center is open', () => {
      expect(weekdayOf('2026-10-10')).to.equal(6);
      expect(calendar.isClosed('2026-10-10')).to.equal(false);
    });

    it('when the date is any make-up weekend workday of 2026, the center is open', () => {
      for (const day of makeUpWorkdays(2026)) expect(calendar.isClosed(day), day).to.equal(false);
    });

    it('when the date is a plain weekday (Thursday 2026-12-03), the center is open', () => {
      expect(weekdayOf('2026-12-03')).to.equal(4);
      expect(calendar.isClosed('2026-12-03')).to.equal(false);
    });

    it('when the date is a plain weekend (Saturday 2026-12-05, Sunday 2026-12-06), the center is closed', () => {
      expect(calendar.isClosed('2026-12-05')).to.equal(true);
      expect(calendar.isClosed('2026-12-06')).to.equal(true);
    });

    it('when the date is the Sunday after the make-up Saturday (2026-10-11), the center is closed', () => {
      expect(calendar.isClosed('2026-10-11')).to.equal(true);
    });
  });

  describe('configured closed dates', () => {
    it('when a weekday is configured closed, the center is closed that day only', () => {
      const configured = new WorkCalendar(['2026-12-03']);
      expect(configured.isClosed('2026-12-03')).to.equal(true);
      expect(configured.isClosed('2026-12-04')).to.equal(false);
    });

    it('when a make-up workday is configured closed, the configuration wins and the center is closed', () => {
      expect(new WorkCalendar(['2026-10-10']).isClosed('2026-10-10')).to.equal(true);
    });

    it('when a weekday of an unpublished year is configured closed, the center is closed', () => {
      expect(new WorkCalendar(['2031-03-04']).isClosed('2031-03-04')).to.equal(true);
    });

    it('when a calendar has configured dates, another calendar without them is not affected', () => {
      const configured = new WorkCalendar(['2026-12-03']);
      expect(configured.isClosed('2026-12-03')).to.equal(true);
      expect(calendar.isClosed('2026-12-03')).to.equal(false);
    });
  });

  describe('a year without a published notice (2031)', () => {
    it('2031 is not published', () => {
      expect(calendar.isPublished(2031)).to.equal(false);
    });

    it('when the date is 1 January 2031 (a Wednesday), the center is closed', () => {
      expect(weekdayOf('2031-01-01')).to.equal(3);
      expect(calendar.isClosed('2031-01-01')).to.equal(true);
    });

    it('when the date is a weekday of 2031 that would be a holiday once published (Wednesday 2031-10-01), the fallback keeps the center open', () => {
      expect(weekdayOf('2031-10-01')).to.equal(3);
      expect(calendar.isClosed('2031-10-01')).to.equal(false);
    });

    it('when the dates are Monday to Friday of a plain 2031 week, the center is open every day', () => {
      for (const day of ['2031-03-03', '2031-03-04', '2031-03-05', '2031-03-06', '2031-03-07']) expect(calendar.isClosed(day), day).to.equal(false);
    });

    it('when the dates are a 2031 weekend, the center is closed', () => {
      expect(weekdayOf('2031-03-08')).to.equal(6);
      expect(calendar.isClosed('2031-03-08')).to.equal(true);
      expect(calendar.isClosed('2031-03-09')).to.equal(true);
    });

    it('when the date is 2 January of the fallback year (Thursday 2031-01-02), the center is open', () => {
      expect(calendar.isClosed('2031-01-02')).to.equal(false);
    });
  });
});
