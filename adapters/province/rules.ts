import { beijingDate } from '../../kernel/beijing-time.ts';
import { parseCompactBeijing } from '../../kernel/beijing-time.ts';
import type { Violation } from '../../schemas/registry.ts';
import type { ProvinceApplyData } from '../../schemas/types.generated.ts';

/** GB/T 2260 codes of Hunan's centers (domain.md); any other code is invalid. */
export const HUNAN_AREA_CODES: ReadonlySet<string> = new Set([
  '430000', '430100', '430200', '430300', '430400', '430500', '430600', '430700',
  '430800', '430900', '431000', '431100', '431200', '431300', '433100',
]);

/** The semantic rules of province.md (answered 422), for apply and change. */
export function bookingRuleViolations(data: ProvinceApplyData, centerAreaCode: string, now: number): Violation[] {
  const violations: Violation[] = [];
  const start = parseCompactBeijing(data.BID_EVAL_START_TIME);
  const end = parseCompactBeijing(data.BID_EVAL_END_TIME);
  if (end <= start) {
    violations.push({ path: '/data/BID_EVAL_END_TIME', message: 'must be after BID_EVAL_START_TIME' });
  }
  if (beijingDate(start) !== beijingDate(end)) {
    violations.push({ path: '/data/BID_EVAL_END_TIME', message: 'must be on the same calendar day as BID_EVAL_START_TIME' });
  }
  if (end <= now) {
    violations.push({ path: '/data/BID_EVAL_END_TIME', message: 'is already past' });
  }
  for (const field of ['AREA_CODE', 'SUB_AREA_CODE'] as const) {
    if (!HUNAN_AREA_CODES.has(data[field])) violations.push({ path: `/data/${field}`, message: 'is not an area code of domain.md' });
  }
  if (data.SUB_AREA_CODE !== centerAreaCode) {
    violations.push({ path: '/data/SUB_AREA_CODE', message: `must be ${centerAreaCode}` });
  }
  if (data.SUB_AREA_CODE === data.AREA_CODE) {
    violations.push({ path: '/data/SUB_AREA_CODE', message: 'must differ from AREA_CODE' });
  }
  if (!data.BID_SECTION_CODE.startsWith(data.TENDER_PROJECT_CODE)) {
    violations.push({ path: '/data/BID_SECTION_CODE', message: 'must start with TENDER_PROJECT_CODE' });
  }
  return violations;
}
