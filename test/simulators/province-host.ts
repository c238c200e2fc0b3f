import { hostPlanViolations, seatCheckViolations } from '../../adapters/province/host-rules.ts';
import { formatCompactBeijing } from '../../kernel/beijing-time.ts';
import { validatorFor, type ValidationResult, type Violation } from '../../schemas/registry.ts';
import type { ProvinceHostApplyData, ProvinceSeatCheckData } from '../../schemas/types.generated.ts';
import type { SeededRandom } from './prng.ts';

/** The province's dispatcher of host applications, as far as the simulator plays it. */
export type HostApplicationState = 'undecided' | 'in-force' | 'failed' | 'cancelled' | 'expired' | 'replaced' | 'withdrawn';
/** not started, then the EVAL_STATUS last reported */
export type HostLifecycle = 'not-started' | '1' | '4' | '2' | '3';

export interface HostApplicationRecord {
  series: string;
  operation: 'host-apply' | 'host-change' | 'host-cancel';
  data: Record<string, unknown>;
  state: HostApplicationState;
  lifecycle: HostLifecycle;
  /** the application a change or cancel names */
  replaces?: string;
}

export interface SimulatedAnswer {
  status: number;
  body: unknown;
}

const HOST_INTERFACES = ['seat-check', 'host-apply', 'host-change', 'host-cancel', 'eval-status'] as const;
type HostInterface = (typeof HOST_INTERFACES)[number];

// the province checks Zhuzhou's messages against the contract; the host variant of eval-status wants a pause's reason
const schemas: Record<HostInterface, (input: unknown) => ValidationResult<unknown>> = {
  'seat-check': validatorFor('partners/province/seat-check.json'),
  'host-apply': validatorFor('partners/province/host-apply.json'),
  'host-change': validatorFor('partners/province/host-change.json'),
  'host-cancel': validatorFor('partners/province/host-cancel.json'),
  'eval-status': validatorFor('partners/province/host-eval-status.json'),
};

/** Hunan's centers by area code (domain.md), for the names a seat-check answers with. */
export const CENTER_NAMES: Readonly<Record<string, string>> = {
  '430100': '长沙市公共资源交易中心',
  '430200': '株洲市公共资源交易中心',
  '430300': '湘潭市公共资源交易中心',
  '430400': '衡阳市公共资源交易中心',
  '430500': '邵阳市公共资源交易中心',
  '430600': '岳阳市公共资源交易中心',
  '430700': '常德市公共资源交易中心',
  '430800': '张家界市公共资源交易中心',
  '430900': '益阳市公共资源交易中心',
  '431000': '郴州市公共资源交易中心',
  '431100': '永州市公共资源交易中心',
  '431200': '怀化市公共资源交易中心',
  '431300': '娄底市公共资源交易中心',
  '433100': '湘西州公共资源交易中心',
};

/** Transitions of province.md's `POST /eval-status`. */
const TRANSITIONS: Readonly<Record<HostLifecycle, readonly string[]>> = { 'not-started': ['1'], '1': ['4', '2'], '4': ['1'], '2': ['3'], '3': [] };

const ok = (data: unknown): SimulatedAnswer => ({ status: 200, body: { State: '200', Success: true, Msg: '成功', Data: data } });
const refused = (status: number, msg: string, errors: readonly Violation[]): SimulatedAnswer => ({ status, body: { State: String(status), Success: false, Msg: msg, Data: { errors } } });

/**
 * The province's side of Zhuzhou as host (province.md v2.2): answers seat-check
 * from configured free seats, assigns SERIES_NUMBERs to host-apply, host-change
 * and host-cancel (the first answer again for a repeated DATAUUID), keeps each
 * application's state and lifecycle, and refuses what the contract refuses.
 */
export class ProvinceHostDispatcher {
  readonly applications = new Map<string, HostApplicationRecord>();
  /** free seats per room of a center; a center not set has one room with `defaultFreeSeats` */
  readonly #freeSeats = new Map<string, { name: string; freeSeats: number }[]>();
  readonly #answered = new Map<string, SimulatedAnswer>();
  readonly #now: () => number;
  #sequence = 0;
  defaultFreeSeats = 10;

  constructor(now: () => number) {
    this.#now = now;
  }

  static handles(operation: string): boolean {
    return (HOST_INTERFACES as readonly string[]).includes(operation);
  }

  /** What seat-check answers for `center`: its rooms and the seats free in each. */
  setFreeSeats(center: string, rooms: { name: string; freeSeats: number }[]): void {
    this.#freeSeats.set(center, rooms);
  }

  /** The state the dispatcher reaches when it reports `outcome` for `series`. */
  decide(series: string, outcome: '1' | '3' | '5' | '6'): void {
    const record = this.applications.get(series);
    if (!record) return;
    record.state = ({ '1': 'in-force', '3': 'failed', '5': 'cancelled', '6': 'expired' } as const)[outcome];
    const original = record.replaces === undefined ? undefined : this.applications.get(record.replaces);
    // a change in force replaces its original and keeps its lifecycle
    if (outcome === '1' && record.operation === 'host-change' && original) {
      original.state = 'replaced';
      record.lifecycle = original.lifecycle;
    }
    // a cancel applied cancels what it names
    if (outcome === '5' && record.operation === 'host-cancel' && original) original.state = 'cancelled';
  }

  /** The answer to a signed host call; the caller has checked the signature. */
  answer(operation: string, validation: { DATAUUID: string }, data: Record<string, unknown>): SimulatedAnswer {
    const repeated = this.#answered.get(validation.DATAUUID);
    if (repeated) return repeated;
    const answer = this.#decide(operation as HostInterface, data);
    if (answer.status === 200) this.#answered.set(validation.DATAUUID, answer);
    return answer;
  }

  #decide(operation: HostInterface, data: Record<string, unknown>): SimulatedAnswer {
    const schema = schemas[operation]({ validation: { DATAUUID: '0'.repeat(32), SYSTEM_NO: 'ZZ430200', TIME: '20260101000000', TOKEN: '0'.repeat(64) }, data });
    if (!schema.ok) return refused(400, '报文格式错误', schema.violations);
    const now = this.#now();
    switch (operation) {
      case 'seat-check': {
        const query = data as unknown as ProvinceSeatCheckData;
        const violations = seatCheckViolations(query, '430200', now);
        if (violations.length > 0) return refused(422, '业务校验失败', violations);
        const rooms = (this.#freeSeats.get(query.AREA_CODE) ?? [{ name: `${query.AREA_CODE}-PBS-01`, freeSeats: this.defaultFreeSeats }]).map((room) => ({
          EVAL_ROOM_NAME: room.name,
          FREE_SEAT_COUNT: room.freeSeats,
          IS_MEET: room.freeSeats >= query.SEAT_COUNT ? '1' : '0',
        }));
        return ok({ AREA_CODE: query.AREA_CODE, CENTER_NAME: CENTER_NAMES[query.AREA_CODE] ?? query.AREA_CODE, IS_MEET: rooms.some((room) => room.IS_MEET === '1') ? '1' : '0', ROOMS: rooms });
      }
      case 'host-apply': {
        const violations = hostPlanViolations(data as unknown as ProvinceHostApplyData, '430200', now);
        if (violations.length > 0) return refused(422, '业务校验失败', violations);
        return ok({ SERIES_NUMBER: this.#record('SQ', 'host-apply', data) });
      }
      case 'host-change': {
        const violations = hostPlanViolations(data as unknown as ProvinceHostApplyData, '430200', now);
        const original = String(data['ORIGINAL_SERIES_NUMBER']);
        if (this.applications.get(original)?.state !== 'in-force') violations.push({ path: '/data/ORIGINAL_SERIES_NUMBER', message: 'NOT_IN_FORCE' });
        if (violations.length > 0) return refused(422, '业务校验失败', violations);
        const pending = [...this.applications.values()].some((record) => record.operation === 'host-change' && record.replaces === original && record.state === 'undecided');
        if (pending) return refused(409, '请求冲突', [{ path: '/data/ORIGINAL_SERIES_NUMBER', message: 'an undecided change already names it' }]);
        return ok({ SERIES_NUMBER: this.#record('BG', 'host-change', data, original) });
      }
      case 'host-cancel': {
        const original = String(data['ORIGINAL_SERIES_NUMBER']);
        const state = this.applications.get(original)?.state;
        if (state !== 'in-force' && state !== 'undecided') return refused(422, '业务校验失败', [{ path: '/data/ORIGINAL_SERIES_NUMBER', message: 'NOT_IN_FORCE' }]);
        // cancelling the application in force also withdraws an undecided change of it
        for (const record of this.applications.values()) if (record.replaces === original && record.operation === 'host-change' && record.state === 'undecided') record.state = 'withdrawn';
        return ok({ SERIES_NUMBER: this.#record('QX', 'host-cancel', data, original) });
      }
      case 'eval-status': {
        const record = this.applications.get(String(data['SERIES_NUMBER']));
        if (record?.state !== 'in-force') return refused(422, '业务校验失败', [{ path: '/data/SERIES_NUMBER', message: 'NOT_IN_FORCE' }]);
        const status = String(data['EVAL_STATUS']);
        if (!TRANSITIONS[record.lifecycle].includes(status)) return refused(422, '业务校验失败', [{ path: '/data/EVAL_STATUS', message: 'STATE_CONFLICT' }]);
        record.lifecycle = status as HostLifecycle;
        return ok({});
      }
    }
  }

  #record(prefix: 'SQ' | 'BG' | 'QX', operation: HostApplicationRecord['operation'], data: Record<string, unknown>, replaces?: string): string {
    this.#sequence = (this.#sequence + 1) % 1_000_000;
    const series = `${prefix}${formatCompactBeijing(this.#now())}${String(this.#sequence).padStart(6, '0')}`;
    this.applications.set(series, { series, operation, data, state: 'undecided', lifecycle: 'not-started', ...(replaces === undefined ? {} : { replaces }) });
    return series;
  }
}

/**
 * How the dispatcher plays the guest centers of a host application (npm start's
 * trial, and tests of the gateway's host flow): rates are probabilities drawn
 * from a PRNG seeded with `seed`, times are milliseconds (0: at once).
 */
export interface DispatcherSettings {
  seed: number;
  /** chance a guest approves; otherwise it rejects with one of `rejectReasons` */
  approveRate: number;
  /** chance a guest answers slowly: `slowMs` later than the others */
  slowRate: number;
  /** chance the outcome overtakes the result that decided it */
  outcomeFirstRate: number;
  /** chance the first result is pushed before the host-apply (host-change) is even answered */
  earlyResultRate: number;
  /** a guest's usual answer time: each answers within [answerMs, 2 × answerMs) */
  answerMs: number;
  /** added to the answer time of a slow guest */
  slowMs: number;
  /** how long after a host-cancel its outcome "5" comes */
  cancelMs: number;
  rejectReasons: readonly string[];
}

export const DEFAULT_DISPATCHER_SETTINGS: Readonly<Omit<DispatcherSettings, 'seed'>> = {
  approveRate: 0.8,
  slowRate: 0.2,
  outcomeFirstRate: 0.2,
  earlyResultRate: 0.15,
  answerMs: 1500,
  slowMs: 12_000,
  cancelMs: 1000,
  rejectReasons: ['NO_CAPACITY', 'NO_CAPACITY', 'CENTER_CLOSED'],
};

/** A guest's decision as the dispatcher relays it. */
export type GuestDecision = { approve: true; roomNumber: number } | { approve: false; reason: string };

/** One push of a play, after waiting `waitMs` from the push before it (or from the answer). */
export type PlayStep =
  | { kind: 'result'; waitMs: number; center: string; decision: GuestDecision; slow: boolean; beforeAnswer: boolean }
  /** `series`: the application it is about, when not the one played (a cancel also reports what it withdrew) */
  | { kind: 'outcome'; waitMs: number; outcome: '1' | '3' | '5'; remark: string; series?: string };

/**
 * What the guests of one host-apply or host-change answer, and in which order
 * the province relays it: results by answer time; the outcome once the last
 * guest approved ("1") or as soon as one rejected ("3": the others are
 * cancelled, their results never come); now and then the outcome before the
 * result that decided it, or the first result before the application's answer.
 */
export function planGuestAnswers(guests: readonly { SUB_AREA_CODE: string; SEAT_COUNT: number }[], random: SeededRandom, settings: Omit<DispatcherSettings, 'seed'>): PlayStep[] {
  const answers = guests.map((guest) => {
    const approve = random.chance(settings.approveRate);
    const decision: GuestDecision = approve ? { approve: true, roomNumber: 1 + random.int(3) } : { approve: false, reason: random.pick(settings.rejectReasons) };
    const slow = random.chance(settings.slowRate);
    const at = Math.round(settings.answerMs * (1 + random.next())) + (slow ? settings.slowMs : 0);
    return { center: guest.SUB_AREA_CODE, decision, slow, at };
  });
  // by answer time; a tie keeps SUB_DETAIL's order
  answers.sort((a, b) => a.at - b.at);
  const deciding = answers.findIndex((answer) => !answer.decision.approve);
  const relayed = deciding === -1 ? answers : answers.slice(0, deciding + 1);
  const rejected = deciding === -1 ? undefined : answers[deciding];
  const outcome: PlayStep & { kind: 'outcome' } =
    rejected && !rejected.decision.approve
      ? { kind: 'outcome', waitMs: 0, outcome: '3', remark: `${CENTER_NAMES[rejected.center] ?? rejected.center}(${rejected.center})不同意：${rejected.decision.reason}` }
      : { kind: 'outcome', waitMs: 0, outcome: '1', remark: '' };
  let previous = 0;
  const steps: PlayStep[] = relayed.map((answer) => {
    const waitMs = answer.at - previous;
    previous = answer.at;
    return { kind: 'result', waitMs, center: answer.center, decision: answer.decision, slow: answer.slow, beforeAnswer: false };
  });
  if (relayed.length > 0 && random.chance(settings.outcomeFirstRate)) {
    // the outcome overtakes the result that decided it: it goes at that result's time, the result right after
    const last = steps.pop();
    if (last) steps.push({ ...outcome, waitMs: last.waitMs }, { ...last, waitMs: 0 });
  } else {
    steps.push(outcome);
  }
  const first = steps[0];
  if (first?.kind === 'result' && random.chance(settings.earlyResultRate)) {
    steps[0] = { ...first, waitMs: 0, beforeAnswer: true };
    // the push after it keeps its own time
    const second = steps[1];
    if (second) steps[1] = { ...second, waitMs: second.waitMs + first.waitMs };
  }
  return steps;
}
