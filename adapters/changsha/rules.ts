import { beijingDate } from '../../kernel/beijing-time.ts';
import type { Violation } from '../../schemas/registry.ts';
import type { SlotRequested } from '../../schemas/types.generated.ts';

/** The 422 rules of changsha.md for a request Changsha makes as host. */
export function slotRequestViolations(data: SlotRequested, changshaCenter: string, now: number): Violation[] {
  const violations: Violation[] = [];
  const start = Date.parse(data.start);
  const end = Date.parse(data.end);
  if (end <= start) violations.push({ path: '/data/end', message: 'must be after start' });
  if (beijingDate(start) !== beijingDate(end)) violations.push({ path: '/data/end', message: 'must be on the same calendar day as start in Beijing time' });
  if (end <= now) violations.push({ path: '/data/end', message: 'is already past' });
  if (data.hostCenter !== changshaCenter) violations.push({ path: '/data/hostCenter', message: `must be ${changshaCenter} for a request from Changsha` });
  if (!data.sectionCode.startsWith(data.projectCode)) violations.push({ path: '/data/sectionCode', message: 'must start with projectCode' });
  return violations;
}

/** Changsha's categories in the national sector and project type codes (domain.md). */
export const CATEGORY_CODES: Record<SlotRequested['category'], { sector: 'GCJS' | 'ZFCG'; projectType?: string }> = {
  building: { sector: 'GCJS', projectType: 'A01' },
  municipal: { sector: 'GCJS', projectType: 'A02' },
  road: { sector: 'GCJS', projectType: 'A03' },
  water: { sector: 'GCJS', projectType: 'A07' },
  'agent-build': { sector: 'GCJS', projectType: 'A99' },
  procurement: { sector: 'ZFCG' },
  other: { sector: 'GCJS', projectType: 'A99' },
};
