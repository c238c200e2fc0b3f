import axios from 'axios';
import { beijingDate } from '../../kernel/beijing-time.ts';
import { WorkCalendar } from '../../ledger/calendar.ts';
import { CENTER_NAMES } from './province-host.ts';
import type { HostAnswered, HostPush, ProvinceSimulator } from './province.ts';
import type { SeededRandom } from './prng.ts';

/** The body of `POST /api/v1/host-evaluations`: the center plans a host evaluation. */
export interface HostEvaluationInput {
  projectCode: string;
  sectionCode: string;
  projectName: string;
  tradeType: 'GCJS' | 'ZFCG';
  /** GCJS only */
  projectType?: string;
  /** ISO 8601, +08:00 */
  start: string;
  end: string;
  hostSeats: number;
  guests: { center: string; seats: number }[];
  agentContact: string;
  agentPhone: string;
  remark: string;
}

const DAY = 24 * 3600 * 1000;
const HOST = '430200';
const CHANGSHA = '430100';
const GUEST_CENTERS = Object.keys(CENTER_NAMES).filter((code) => code !== HOST);
const PROJECTS: readonly { name: string; tradeType: 'GCJS' | 'ZFCG'; projectType?: string }[] = [
  { name: '株洲市芦淞区建设南路市政道路提质改造工程', tradeType: 'GCJS', projectType: 'A02' },
  { name: '株洲市天元区湘江风光带景观提升工程', tradeType: 'GCJS', projectType: 'A01' },
  { name: '株洲市荷塘区老旧小区供水管网改造工程', tradeType: 'GCJS', projectType: 'A04' },
  { name: '株洲市中心医院医疗设备采购项目', tradeType: 'ZFCG' },
];
const CONTACTS: readonly [string, string][] = [
  ['王芳', '0731-22681234'],
  ['刘洋', '0731-28830567'],
  ['陈静', '13807330112'],
];

const pad = (value: number, width = 2) => String(value).padStart(width, '0');

/** 1-3 distinct guest centers; Changsha (430100, the other partner) among them more often than its share. */
function guestCenters(random: SeededRandom): string[] {
  const centers = random.sample(GUEST_CENTERS, 1 + random.int(3));
  if (!centers.includes(CHANGSHA) && random.chance(0.35)) centers[centers.length - 1] = CHANGSHA;
  return centers;
}

/**
 * A realistic host evaluation for the trial: a working day 1-14 days ahead,
 * within opening hours, 1-3 guests (distinct, never Zhuzhou; 430100 goes to
 * Changsha, the others to the province), deterministic given `random`.
 */
export function hostEvaluationInput(random: SeededRandom, now: number, calendar = new WorkCalendar([])): HostEvaluationInput {
  let day = beijingDate(now + random.int(1, 15) * DAY);
  while (calendar.isClosed(day)) day = beijingDate(Date.parse(`${day}T12:00:00+08:00`) + DAY);
  const startHour = 8 + random.int(5);
  const endHour = startHour + 2 + random.int(4);
  const project = random.pick(PROJECTS);
  const [contact, phone] = random.pick(CONTACTS);
  const projectCode = `Z${HOST}${pad(random.int(1_000_000), 6)}${pad(random.int(10_000_000), 7)}`;
  return {
    projectCode,
    sectionCode: `${projectCode}${pad(1 + random.int(3), 3)}`,
    projectName: project.name,
    tradeType: project.tradeType,
    ...(project.projectType === undefined ? {} : { projectType: project.projectType }),
    start: `${day}T${pad(startHour)}:00:00+08:00`,
    end: `${day}T${pad(endHour)}:00:00+08:00`,
    hostSeats: 1 + random.int(6),
    guests: guestCenters(random).map((center) => ({ center, seats: 1 + random.int(5) })),
    agentContact: contact,
    agentPhone: phone,
    remark: '株洲主场远程异地评标',
  };
}

/** One line for an evaluation as GET /api/v1/host-evaluations/{id} shows it: its state, each leg's, the reason. */
export function describeEvaluation(body: unknown): string {
  const evaluation = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  const legsOf = (track: Record<string, unknown>) =>
    (Array.isArray(track['legs']) ? (track['legs'] as Record<string, unknown>[]) : [])
      .map((leg) => [leg['center'], leg['partner'], leg['state'], leg['roomName'], leg['reason']].filter((part) => typeof part === 'string' && part !== '').join(' '))
      .join(', ');
  const parts = [typeof evaluation['state'] === 'string' ? evaluation['state'] : 'unknown'];
  const lifecycle = evaluation['lifecycle'];
  if (typeof lifecycle === 'string' && lifecycle !== 'not-started') parts.push(lifecycle);
  const hostRoom = evaluation['hostRoom'] as { state?: unknown; roomId?: unknown } | null | undefined;
  if (typeof hostRoom?.state === 'string') parts.push(`host room ${typeof hostRoom.roomId === 'string' ? `${hostRoom.roomId} ` : ''}${hostRoom.state}`);
  const legs = legsOf(evaluation);
  if (legs !== '') parts.push(`legs: ${legs}`);
  const change = evaluation['change'];
  if (typeof change === 'object' && change !== null) parts.push(`change: ${legsOf(change as Record<string, unknown>) || 'asked'}`);
  if (typeof evaluation['reason'] === 'string' && evaluation['reason'] !== '') parts.push(`(${evaluation['reason']})`);
  return parts.join('; ');
}

/** States in which the trial stops watching an evaluation: it plans no change, so these are final for it. */
const SETTLED = new Set(['in-force', 'failed', 'cancelled']);

export interface HostPlannerOptions {
  gatewayUrl: string;
  apiKey: string;
  random: SeededRandom;
  log: (line: string) => void;
  /** how often a planned evaluation is read again */
  pollMs: number;
  /** how long one evaluation is watched at most */
  watchMs: number;
  now?: () => number;
}

export type PlanResult = 'planned' | 'unavailable' | 'refused' | 'unreachable';

/**
 * The center's side of host evaluations in a trial: plans one now and then
 * through `POST /api/v1/host-evaluations`, then reads it back until it
 * settles, printing each change. A gateway without that route (404) turns
 * planning off without a word, so npm start works with or without it.
 */
export class HostPlanner {
  readonly #options: HostPlannerOptions;
  #available = true;
  #stopped = false;
  readonly #timers = new Map<NodeJS.Timeout, () => void>();

  constructor(options: HostPlannerOptions) {
    this.#options = options;
  }

  /** False once the gateway answered 404 (no host evaluations there) or refused the key. */
  get available(): boolean {
    return this.#available && !this.#stopped;
  }

  stop(): void {
    this.#stopped = true;
    for (const [timer, resolve] of this.#timers) {
      clearTimeout(timer);
      resolve();
    }
    this.#timers.clear();
  }

  /** Plans one evaluation; when planned, `watching` settles once the trial stops watching it. */
  async planOnce(): Promise<{ result: PlanResult; id?: string; watching?: Promise<void> }> {
    if (!this.available) return { result: 'unavailable' };
    const { gatewayUrl, apiKey, log } = this.#options;
    const input = hostEvaluationInput(this.#options.random, (this.#options.now ?? Date.now)());
    const summary = `${input.start.slice(0, 10)} ${input.start.slice(11, 16)}-${input.end.slice(11, 16)}, host ${input.hostSeats} seats, guests ${input.guests.map((guest) => `${guest.center}×${guest.seats}`).join(' ')}`;
    let answer;
    try {
      answer = await axios.post(`${gatewayUrl}/api/v1/host-evaluations`, input, { headers: { 'X-Api-Key': apiKey }, validateStatus: () => true, timeout: 10_000 });
    } catch (error) {
      log(`center -> host evaluation: failed to reach the gateway: ${(error as Error).message}`);
      return { result: 'unreachable' };
    }
    if (answer.status === 404 || answer.status === 405) {
      // no such route on this gateway (yet): host planning is left out of the trial
      this.#available = false;
      return { result: 'unavailable' };
    }
    if (answer.status === 401 || answer.status === 403) {
      this.#available = false;
      log(`center -> host evaluation: HTTP ${answer.status}, the API key is refused; no more host evaluations planned`);
      return { result: 'unavailable' };
    }
    const body = (answer.data ?? {}) as Record<string, unknown>;
    const location = typeof answer.headers['location'] === 'string' ? answer.headers['location'].split('/').pop() : undefined;
    const id = [body['id'], body['evaluationId'], location].find((candidate): candidate is string => typeof candidate === 'string' && candidate !== '');
    if (answer.status >= 300 || id === undefined) {
      const errors = Array.isArray(body['errors']) ? (body['errors'] as { path?: string; message?: string }[]).map((error) => `${error.path ?? ''} ${error.message ?? ''}`.trim()).join('; ') : [body['detail'], body['title']].find((text): text is string => typeof text === 'string') ?? '';
      log(`center -> host evaluation (${summary}): HTTP ${answer.status}${errors === '' ? '' : ` ${errors}`}`);
      return { result: 'refused' };
    }
    log(`center -> host evaluation ${id} (${summary}): HTTP ${answer.status}`);
    const watching = this.#watch(id, describeEvaluation(body));
    return { result: 'planned', id, watching };
  }

  /** Reads the evaluation every pollMs and prints it when it changes, until it settles, watchMs pass, or the planner stops. */
  async #watch(id: string, first: string): Promise<void> {
    const { gatewayUrl, apiKey, log, pollMs, watchMs } = this.#options;
    let last = first;
    const until = Date.now() + watchMs;
    while (!this.#stopped && Date.now() < until) {
      if (!(await this.#wait(pollMs))) return;
      let answer;
      try {
        answer = await axios.get(`${gatewayUrl}/api/v1/host-evaluations/${encodeURIComponent(id)}`, { headers: { 'X-Api-Key': apiKey }, validateStatus: () => true, timeout: 10_000 });
      } catch {
        // the gateway restarting, say: read it again next time
        continue;
      }
      if (answer.status === 404) return;
      if (answer.status !== 200) continue;
      const now = describeEvaluation(answer.data);
      if (now !== last) log(`host evaluation ${id}: ${now}`);
      last = now;
      const state = (answer.data as { state?: unknown }).state;
      const changing = typeof (answer.data as { change?: unknown }).change === 'object' && (answer.data as { change?: unknown }).change !== null;
      if (typeof state === 'string' && SETTLED.has(state) && !changing) return;
    }
  }

  async #wait(ms: number): Promise<boolean> {
    if (this.#stopped) return false;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#timers.delete(timer);
        resolve(!this.#stopped);
      }, ms);
      this.#timers.set(timer, () => resolve(false));
    });
  }
}

/**
 * npm start: the center plans a host evaluation every `intervalMs` (watching
 * each until it settles); stops by itself if the gateway has no such route.
 */
export function startHostPlanning(options: Omit<HostPlannerOptions, 'pollMs' | 'watchMs'> & { intervalMs: number }): () => void {
  const planner = new HostPlanner({ ...options, pollMs: Math.max(500, Math.round(options.intervalMs / 10)), watchMs: 15 * 60 * 1000 });
  const tick = async () => {
    const { result } = await planner.planOnce();
    if (result === 'unavailable') clearInterval(timer);
  };
  const timer = setInterval(() => void tick(), options.intervalMs);
  return () => {
    clearInterval(timer);
    planner.stop();
  };
}

/** Prints what the province simulator does as dispatcher of Zhuzhou's host applications. */
export function narrateProvinceHost(simulator: ProvinceSimulator, log: (line: string) => void): () => void {
  const onAnswered = (answered: HostAnswered) => {
    if (answered.operation === 'seat-check' || answered.operation === 'eval-status') return;
    const original = answered.data['ORIGINAL_SERIES_NUMBER'];
    const guests = Array.isArray(answered.data['SUB_DETAIL'])
      ? ` (${(answered.data['SUB_DETAIL'] as { SUB_AREA_CODE: string; SEAT_COUNT: number }[]).map((guest) => `${guest.SUB_AREA_CODE}×${guest.SEAT_COUNT}`).join(' ')})`
      : '';
    const replaces = typeof original === 'string' ? ` of ${original}` : '';
    log(`province <- ${answered.operation}${replaces}${guests}: ${answered.series === undefined ? `HTTP ${answered.status}` : `SERIES_NUMBER ${answered.series}`}`);
  };
  const decided = new Set<string>();
  const onPush = (push: HostPush) => {
    const data = push.data;
    const afterOutcome = push.operation === 'host-result' && decided.has(push.series);
    if (push.operation === 'host-outcome') decided.add(push.series);
    const what =
      push.operation === 'host-result'
        ? data['STATUS'] === '1'
          ? `${String(data['SUB_AREA_CODE'])} approved ${String(data['EVAL_ROOM_NAME'])} ${(data['SEAT_NUMBER'] as string[] | undefined)?.length ?? 0} seats`
          : `${String(data['SUB_AREA_CODE'])} rejected ${String(data['REMARK'])}`
        : `outcome ${String(data['OUTCOME'])} ${({ '1': 'in force', '3': 'failed', '5': 'cancelled', '6': 'expired' } as Record<string, string>)[String(data['OUTCOME'])] ?? ''}`;
    const notes = [push.slow ? 'slowly' : '', push.beforeAnswer ? 'before the answer' : '', afterOutcome ? 'after the outcome' : ''].filter(Boolean).join(', ');
    log(`province -> ${push.operation} ${push.series}: ${what.trim()}${notes === '' ? '' : ` (${notes})`}: ${push.status === undefined ? `failed: ${push.error ?? ''}` : `HTTP ${push.status}`}`);
  };
  simulator.on('host-answered', onAnswered);
  simulator.on('host-push', onPush);
  return () => {
    simulator.off('host-answered', onAnswered);
    simulator.off('host-push', onPush);
  };
}
