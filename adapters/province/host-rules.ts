import { beijingDate, parseCompactBeijing } from '../../kernel/beijing-time.ts';
import type { Violation } from '../../schemas/registry.ts';
import type { ProvinceHostApplyData, ProvinceHostResultData, ProvinceSeatCheckData } from '../../schemas/types.generated.ts';
import { HUNAN_AREA_CODES } from './rules.ts';

/**
 * The "Host rules (422)" of province.md, v2.2. Those that need state (the
 * application in force, its guests, the lifecycle so far) are not here: they
 * are the province's to check on what Zhuzhou sends, or the host flow's once
 * the application is recorded.
 */

/** `seat-check`, `host-apply`, `host-change`: end after start, the same calendar day, not already past. */
export function windowViolations(data: { BID_EVAL_START_TIME: string; BID_EVAL_END_TIME: string }, now: number): Violation[] {
  const violations: Violation[] = [];
  const start = parseCompactBeijing(data.BID_EVAL_START_TIME);
  const end = parseCompactBeijing(data.BID_EVAL_END_TIME);
  if (end <= start) violations.push({ path: '/data/BID_EVAL_END_TIME', message: 'must be after BID_EVAL_START_TIME' });
  if (beijingDate(start) !== beijingDate(end)) violations.push({ path: '/data/BID_EVAL_END_TIME', message: 'must be on the same calendar day as BID_EVAL_START_TIME' });
  if (end <= now) violations.push({ path: '/data/BID_EVAL_END_TIME', message: 'is already past' });
  return violations;
}

function areaCodeViolation(code: string, path: string): Violation[] {
  return HUNAN_AREA_CODES.has(code) ? [] : [{ path, message: 'is not an area code of domain.md' }];
}

/** `seat-check`: asks about a guest center, never about the host itself. */
export function seatCheckViolations(data: ProvinceSeatCheckData, centerAreaCode: string, now: number): Violation[] {
  const violations = [...windowViolations(data, now), ...areaCodeViolation(data.AREA_CODE, '/data/AREA_CODE')];
  if (data.AREA_CODE === centerAreaCode) violations.push({ path: '/data/AREA_CODE', message: `must not be ${centerAreaCode}` });
  return violations;
}

/** `host-apply` and `host-change` (whose data is a host-apply's plus ORIGINAL_SERIES_NUMBER). */
export function hostPlanViolations(data: ProvinceHostApplyData, centerAreaCode: string, now: number): Violation[] {
  const violations = [...windowViolations(data, now), ...areaCodeViolation(data.AREA_CODE, '/data/AREA_CODE')];
  if (data.AREA_CODE !== centerAreaCode) violations.push({ path: '/data/AREA_CODE', message: `must be ${centerAreaCode}` });
  if (!data.BID_SECTION_CODE.startsWith(data.TENDER_PROJECT_CODE)) violations.push({ path: '/data/BID_SECTION_CODE', message: 'must start with TENDER_PROJECT_CODE' });
  const seen = new Set<string>();
  data.SUB_DETAIL.forEach((guest, index) => {
    const path = `/data/SUB_DETAIL/${index}/SUB_AREA_CODE`;
    violations.push(...areaCodeViolation(guest.SUB_AREA_CODE, path));
    if (guest.SUB_AREA_CODE === data.AREA_CODE) violations.push({ path, message: 'must differ from AREA_CODE' });
    if (seen.has(guest.SUB_AREA_CODE)) violations.push({ path, message: 'must differ from the other SUB_AREA_CODE' });
    seen.add(guest.SUB_AREA_CODE);
  });
  return violations;
}

/** `host-result`, as far as it can be checked before its application is known. */
export function hostResultViolations(data: ProvinceHostResultData): Violation[] {
  return areaCodeViolation(data.SUB_AREA_CODE, '/data/SUB_AREA_CODE');
}
