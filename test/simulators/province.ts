import { EventEmitter, once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifyToken, type ProvinceInterface } from '../../adapters/province/signature.ts';
import { parseCompactBeijing } from '../../kernel/beijing-time.ts';
import type { HmacMethod } from '../../kernel/crypto/digest.ts';
import { validatorFor } from '../../schemas/registry.ts';
import { DEFAULT_DISPATCHER_SETTINGS, planGuestAnswers, ProvinceHostDispatcher, type DispatcherSettings, type PlayStep, type SimulatedAnswer } from './province-host.ts';
import { SeededRandom } from './prng.ts';
import { evalStatusData, hostOutcomeData, hostResultData, type ProvinceClient } from './province-traffic.ts';

export interface ReceivedMessage {
  operation: string;
  validation: { DATAUUID: string; SYSTEM_NO: string; TIME: string; SIGN_METHOD?: HmacMethod; TOKEN: string };
  data: Record<string, unknown>;
  signatureValid: boolean;
}

/** How the simulator answers the next calls: a queue of behaviours, then `ok`. */
export type Behaviour = 'ok' | 'http-500' | 'state-503' | 'state-429' | 'refuse' | 'hang' | 'slow';

/** A push the dispatcher made to the gateway while playing the guests, with the gateway's answer. */
export interface HostPush {
  operation: 'host-result' | 'host-outcome';
  /** the host application (or change, or cancel) the push is about */
  series: string;
  data: Record<string, unknown>;
  /** the gateway's HTTP status; undefined when it could not be reached */
  status: number | undefined;
  answer?: unknown;
  error?: string;
  /** pushed before the simulator answered the host-apply or host-change it is about */
  beforeAnswer: boolean;
  /** the guest answered slowly */
  slow: boolean;
}

/** A host call the simulator answered, with the SERIES_NUMBER it assigned (if any). */
export interface HostAnswered {
  operation: string;
  data: Record<string, unknown>;
  status: number;
  series: string | undefined;
}

/** A receiver rule of province.md a simulator with `enforceContract` breaks on purpose, to show that a conformance run catches it. */
export type ProvinceBrokenRule = 'repeat-answer';

export interface ProvinceSimulatorOptions {
  /** the secret Zhuzhou signs with (the gateway's outbound secret) */
  secret: string;
  systemNo?: string;
  /** the clock of series numbers and of the host rules (a test's injected clock) */
  now?: () => number;
  /**
   * Off by default. On, notify, exception and GET /schedule are received as
   * province.md's receiver rules say (what `npm run conformance` checks): a
   * schema violation is refused 400 with Data.errors, a TIME more than 300 s
   * away 401, acceptance answers Data.TRACKING_NO, and a repeated DATAUUID gets
   * the first answer again without being received twice.
   */
  enforceContract?: boolean;
  /** with enforceContract: breaks this rule (`repeat-answer`: a repeated DATAUUID gets a new TRACKING_NO) */
  breakRule?: ProvinceBrokenRule;
}

const CLOCK_TOLERANCE_MS = 300 * 1000;
const receiverValidators: Record<string, ReturnType<typeof validatorFor>> = {
  notify: validatorFor('partners/province/notify.json'),
  exception: validatorFor('partners/province/exception.json'),
};

/**
 * The provincial dispatch system on loopback: receives notify and exception,
 * and Zhuzhou's host calls (see ProvinceHostDispatcher), checks their
 * signatures, and answers as province.md says, or as told to fail; pushes
 * host-result, host-outcome and eval-status to the gateway it is attached to.
 */
export class ProvinceSimulator extends EventEmitter {
  readonly received: ReceivedMessage[] = [];
  #server: Server | undefined;
  #behaviours: Behaviour[] = [];
  readonly #options: ProvinceSimulatorOptions;
  readonly #hanging = new Set<ServerResponse>();
  readonly #schedule = new Map<string, object[]>();
  /** GET /schedule calls whose signature checked out, by DATE */
  readonly scheduleCalls: string[] = [];
  /** with enforceContract: the first answer to each DATAUUID received (by interface and DATAUUID) */
  readonly #answered = new Map<string, unknown>();
  #trackingCount = 0;
  /** how long a 'slow' answer takes */
  slowMs = 500;
  /** while set, every call (after those told by failNext) fails so: a partner down until `outage` is cleared */
  outage: Behaviour | undefined;
  /** the Retry-After header of 'state-503' and 'state-429' answers (seconds or an HTTP date) */
  retryAfter = '1';
  /** the dispatcher of Zhuzhou's host applications: seat-check, host-apply, host-change, host-cancel, eval-status */
  readonly host: ProvinceHostDispatcher;
  #gateway: ProvinceClient | undefined;
  /** set by dispatch(): the simulator plays the guest centers of every host application */
  #dispatcher: { settings: Omit<DispatcherSettings, 'seed'>; random: SeededRandom } | undefined;
  /** pushes made while playing the guests, in the order they were made */
  readonly hostPushes: HostPush[] = [];
  /** series whose play has started, and whether it has finished */
  readonly #plays = new Map<string, { done: boolean }>();
  /** waits of plays in progress: stopDispatching() ends them */
  readonly #waits = new Map<NodeJS.Timeout, () => void>();

  constructor(options: ProvinceSimulatorOptions) {
    super();
    // every test waiting for a notify is a listener; dozens at once are expected
    this.setMaxListeners(0);
    this.#options = options;
    this.host = new ProvinceHostDispatcher(options.now ?? Date.now);
  }

  /** The gateway the province pushes to (host-result, host-outcome, eval-status). */
  attach(gateway: ProvinceClient): this {
    this.#gateway = gateway;
    return this;
  }

  #pushTo(): ProvinceClient {
    if (!this.#gateway) throw new Error('simulator not attached to a gateway');
    return this.#gateway;
  }

  /**
   * Dispatcher mode (npm start's trial): every host-apply and host-change
   * answered with a SERIES_NUMBER is then played out as its guests would,
   * deterministically given `settings.seed` (see planGuestAnswers): results
   * and outcome pushed to the attached gateway, signed, through its province
   * routes; a host-cancel gets its outcome "5" (and so does an undecided
   * application it withdraws). Without it, a test pushes by hand.
   */
  dispatch(settings: Partial<DispatcherSettings> & { seed: number }): this {
    const { seed, ...rest } = settings;
    this.#dispatcher = { settings: { ...DEFAULT_DISPATCHER_SETTINGS, ...rest }, random: new SeededRandom(seed) };
    return this;
  }

  /** Ends dispatcher mode: plays in progress push nothing more. */
  stopDispatching(): void {
    this.#dispatcher = undefined;
    for (const [timer, resolve] of this.#waits) {
      clearTimeout(timer);
      resolve();
    }
    this.#waits.clear();
  }

  /** Resolves with the pushes about `series` once its play has finished (played already or later). */
  async waitForPlay(series: string): Promise<HostPush[]> {
    const pushes = () => this.hostPushes.filter((push) => push.series === series);
    if (this.#plays.get(series)?.done) return pushes();
    return new Promise((resolve) => {
      const listener = (played: string) => {
        if (played === series) {
          this.off('host-played', listener);
          resolve(pushes());
        }
      };
      this.on('host-played', listener);
    });
  }

  /** Resolves with the next answered host call to `operation` that matches, answered already or later. */
  async waitForHostAnswer(operation: string, predicate: (answered: HostAnswered) => boolean = () => true): Promise<HostAnswered> {
    return new Promise((resolve) => {
      const listener = (answered: HostAnswered) => {
        if (answered.operation === operation && predicate(answered)) {
          this.off('host-answered', listener);
          resolve(answered);
        }
      };
      this.on('host-answered', listener);
    });
  }

  /** A guest's decision on a host application, pushed as host-result: an approval names as many seats as the guest was asked for. */
  async pushResult(series: string, center: string, decision: { approve: true; roomNumber?: number } | { approve: false; reason: string }, sending?: (data: Record<string, unknown>) => void) {
    const guests = (this.host.applications.get(series)?.data['SUB_DETAIL'] ?? []) as { SUB_AREA_CODE: string; SEAT_COUNT: number }[];
    const seats = guests.find((guest) => guest.SUB_AREA_CODE === center)?.SEAT_COUNT ?? 1;
    const data = hostResultData({ series, center, seats, ...decision });
    sending?.({ ...data });
    return this.#pushTo().send('host-result', data);
  }

  /** The outcome of a whole host application, pushed as host-outcome; the dispatcher's state follows it. */
  async pushOutcome(series: string, outcome: '1' | '3' | '5' | '6', remark = '', sending?: (data: Record<string, unknown>) => void) {
    this.host.decide(series, outcome);
    const data = hostOutcomeData({ series, outcome, remark });
    sending?.({ ...data });
    return this.#pushTo().send('host-outcome', data);
  }

  /** A host's lifecycle forwarded to Zhuzhou as guest (eval-status). */
  async pushEvalStatus(series: string, status: '1' | '4' | '2' | '3', at: number, remark = '') {
    return this.#pushTo().send('eval-status', evalStatusData({ series, status, at, remark }));
  }

  /** Resolves with the first message to `operation` that matches, received now or later. */
  async waitFor(operation: string, predicate: (message: ReceivedMessage) => boolean = () => true): Promise<ReceivedMessage> {
    const matches = (message: ReceivedMessage) => message.operation === operation && predicate(message);
    const seen = this.received.find(matches);
    if (seen) return seen;
    return new Promise((resolve) => {
      const listener = (message: ReceivedMessage) => {
        if (matches(message)) {
          this.off('message', listener);
          resolve(message);
        }
      };
      this.on('message', listener);
    });
  }

  get url(): string {
    const address = this.#server?.address() as AddressInfo | undefined;
    if (!address) throw new Error('simulator not started');
    return `http://127.0.0.1:${address.port}`;
  }

  /** What GET /schedule answers for `date` (yyyyMMdd): requests in force, apply-shaped. */
  setSchedule(date: string, items: object[]): void {
    this.#schedule.set(date, items);
  }

  /** The next calls fail as given, in order; later calls succeed. */
  failNext(...behaviours: Behaviour[]): void {
    this.#behaviours.push(...behaviours);
  }

  async start(port = 0): Promise<this> {
    this.#server = createServer((req, res) => void this.#handle(req, res));
    this.#server.listen(port, '127.0.0.1');
    await once(this.#server, 'listening');
    return this;
  }

  async stop(): Promise<void> {
    this.stopDispatching();
    for (const res of this.#hanging) res.destroy();
    this.#server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.#server ? this.#server.close(() => resolve()) : resolve()));
  }

  /** Resolves with the first notify for `seriesNumber` that matches, received now or later. */
  async waitForNotify(seriesNumber: string, predicate: (message: ReceivedMessage) => boolean = () => true): Promise<ReceivedMessage> {
    return this.waitFor('notify', (message) => message.data['SERIES_NUMBER'] === seriesNumber && predicate(message));
  }

  notifiesFor(seriesNumber: string): ReceivedMessage[] {
    return this.received.filter((message) => message.operation === 'notify' && message.data['SERIES_NUMBER'] === seriesNumber);
  }

  /** GET /schedule: the validation fields come as query parameters; data is the other ones. */
  #answerSchedule(query: URLSearchParams, answer: (status: number, body: unknown) => void): void {
    const get = (name: string) => query.get(name) ?? '';
    const data = { AREA_CODE: get('AREA_CODE'), DATE: get('DATE') };
    const signed =
      get('SYSTEM_NO') === (this.#options.systemNo ?? 'ZZ430200') &&
      verifyToken((get('SIGN_METHOD') || 'HMAC-SM3') as HmacMethod, this.#options.secret, { systemNo: get('SYSTEM_NO'), dataUuid: get('DATAUUID'), time: get('TIME'), interfaceCode: 'schedule', data }, get('TOKEN'));
    if (!signed || (this.#options.enforceContract === true && !this.#inWindow(get('TIME')))) {
      answer(401, { State: '401', Success: false, Msg: '身份验证失败' });
      return;
    }
    this.scheduleCalls.push(data.DATE);
    answer(200, { State: '200', Success: true, Msg: '成功', Data: { items: this.#schedule.get(data.DATE) ?? [] } });
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const operation = (req.url ?? '/').split('?')[0]?.replace(/^\//, '') ?? '';
    const answer = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', ...headers });
      res.end(JSON.stringify(body));
    };
    if (req.method === 'GET' && operation === 'schedule') {
      this.#answerSchedule(new URL(req.url ?? '/', 'http://simulator').searchParams, answer);
      return;
    }
    this.emit('request', operation);
    const behaviour = this.#behaviours.shift() ?? this.outage ?? 'ok';
    let message: ReceivedMessage;
    try {
      const parsed = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Omit<ReceivedMessage, 'operation' | 'signatureValid'>;
      const { validation, data } = parsed;
      const signatureValid =
        validation.SYSTEM_NO === (this.#options.systemNo ?? 'ZZ430200') &&
        verifyToken(validation.SIGN_METHOD ?? 'HMAC-SM3', this.#options.secret, {
          systemNo: validation.SYSTEM_NO,
          dataUuid: validation.DATAUUID,
          time: validation.TIME,
          interfaceCode: operation as ProvinceInterface,
          data,
        }, validation.TOKEN);
      message = { operation, validation, data, signatureValid };
    } catch {
      answer(400, { State: '400', Success: false, Msg: '报文格式错误' });
      return;
    }
    const violations = this.#options.enforceContract === true ? receiverValidators[operation]?.({ validation: message.validation, data: message.data }) : undefined;
    if (violations && !violations.ok) {
      answer(400, { State: '400', Success: false, Msg: '报文格式错误', Data: { errors: violations.violations } });
      return;
    }
    if (this.#options.enforceContract === true && !this.#inWindow(message.validation.TIME)) message.signatureValid = false;
    if (behaviour !== 'ok' && behaviour !== 'slow') this.emit('failed', message, behaviour);
    switch (behaviour) {
      case 'hang':
        this.#hanging.add(res);
        return;
      case 'slow':
        await new Promise<void>((resolve) => setTimeout(resolve, this.slowMs));
        break;
      case 'http-500':
        answer(500, { State: '500', Success: false, Msg: '系统繁忙' });
        return;
      case 'state-503':
        answer(200, { State: '503', Success: false, Msg: '服务暂不可用' }, { 'Retry-After': this.retryAfter });
        return;
      case 'state-429':
        answer(200, { State: '429', Success: false, Msg: '请求过于频繁' }, { 'Retry-After': this.retryAfter });
        return;
      case 'refuse':
        answer(200, { State: '400', Success: false, Msg: '报文格式错误' });
        return;
      case 'ok':
        break;
    }
    if (!message.signatureValid) {
      answer(401, { State: '401', Success: false, Msg: '身份验证失败' });
      this.emit('rejected', message);
      return;
    }
    // the host interfaces answer as the dispatcher decides (a SERIES_NUMBER, free seats, or a refusal)
    const hostAnswer: SimulatedAnswer | undefined = ProvinceHostDispatcher.handles(operation) ? this.host.answer(operation, message.validation, message.data) : undefined;
    if (!hostAnswer && this.#options.enforceContract === true) {
      this.#answerOnce(operation, message, answer);
      return;
    }
    this.received.push(message);
    this.emit('message', message);
    if (!hostAnswer) {
      answer(200, { State: '200', Success: true, Msg: '成功', Data: {} });
      return;
    }
    const series = hostAnswer.status === 200 ? ((hostAnswer.body as { Data?: { SERIES_NUMBER?: unknown } }).Data?.SERIES_NUMBER as string | undefined) : undefined;
    const play = series === undefined ? undefined : this.#planPlay(operation, series, message.data);
    // a result that overtakes the answer: the gateway has it before it could record the SERIES_NUMBER
    const early = play?.[0]?.kind === 'result' && play[0].beforeAnswer ? play.shift() : undefined;
    if (early && series !== undefined) await this.#playStep(series, early);
    answer(hostAnswer.status, hostAnswer.body);
    this.emit('host-answered', { operation, data: message.data, status: hostAnswer.status, series } satisfies HostAnswered);
    if (play && series !== undefined) void this.#play(series, operation === 'host-cancel' ? undefined : series, play);
  }

  /** TIME (yyyyMMddHHmmss, Beijing) within 300 s of the simulator's clock. */
  #inWindow(time: string): boolean {
    const signedAt = /^\d{14}$/.test(time) ? parseCompactBeijing(time) : NaN;
    return Math.abs((this.#options.now ?? Date.now)() - signedAt) <= CLOCK_TOLERANCE_MS;
  }

  /** enforceContract: a new DATAUUID is received and answered with a TRACKING_NO; a repeat gets that first answer again. */
  #answerOnce(operation: string, message: ReceivedMessage, answer: (status: number, body: unknown) => void): void {
    const key = `${operation}:${message.validation.DATAUUID}`;
    const first = this.#answered.get(key);
    if (first !== undefined && this.#options.breakRule !== 'repeat-answer') {
      answer(200, first);
      return;
    }
    const body = { State: '200', Success: true, Msg: '成功', Data: { TRACKING_NO: `HN${String(++this.#trackingCount).padStart(10, '0')}` } };
    if (first === undefined) {
      this.#answered.set(key, body);
      this.received.push(message);
      this.emit('message', message);
    }
    answer(200, body);
  }

  /** The pushes that follow a new SERIES_NUMBER in dispatcher mode; undefined when there is nothing to play. */
  #planPlay(operation: string, series: string, data: Record<string, unknown>): PlayStep[] | undefined {
    const dispatcher = this.#dispatcher;
    // a repeated DATAUUID gets the first answer again: its play has started already
    if (!dispatcher || this.#plays.has(series)) return undefined;
    if (operation === 'host-apply' || operation === 'host-change') {
      this.#plays.set(series, { done: false });
      return planGuestAnswers((data['SUB_DETAIL'] ?? []) as { SUB_AREA_CODE: string; SEAT_COUNT: number }[], dispatcher.random, dispatcher.settings);
    }
    if (operation === 'host-cancel') {
      this.#plays.set(series, { done: false });
      // the cancel's own "5", and one for each undecided application it withdrew
      const original = String(data['ORIGINAL_SERIES_NUMBER']);
      const withdrawn = [...this.host.applications.values()]
        .filter((record) => (record.series === original && record.state === 'undecided') || (record.replaces === original && record.operation === 'host-change' && record.state === 'withdrawn'))
        .map((record) => record.series);
      return [...withdrawn, series].map((target, index): PlayStep => ({ kind: 'outcome', waitMs: index === 0 ? dispatcher.settings.cancelMs : 0, outcome: '5', remark: '主场取消', series: target }));
    }
    return undefined;
  }

  /** Plays the steps of `series` in order, each after its wait; stops when the application was cancelled or withdrawn meanwhile. */
  async #play(series: string, application: string | undefined, steps: PlayStep[]): Promise<void> {
    for (const step of steps) {
      if (!(await this.#wait(step.waitMs))) break;
      const state = application === undefined ? undefined : this.host.applications.get(application)?.state;
      if (state === 'withdrawn' || state === 'cancelled') break;
      await this.#playStep(step.kind === 'outcome' ? (step.series ?? series) : series, step);
    }
    this.#plays.set(series, { done: true });
    this.emit('host-played', series);
  }

  /** Waits `ms` (none for 0); false when dispatching stopped meanwhile. */
  async #wait(ms: number): Promise<boolean> {
    if (!this.#dispatcher) return false;
    if (ms <= 0) return true;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#waits.delete(timer);
        resolve(this.#dispatcher !== undefined);
      }, ms);
      this.#waits.set(timer, () => resolve(false));
    });
  }

  async #playStep(series: string, step: PlayStep): Promise<void> {
    const base = { series, beforeAnswer: step.kind === 'result' && step.beforeAnswer, slow: step.kind === 'result' && step.slow };
    const operation = step.kind === 'result' ? 'host-result' : 'host-outcome';
    let data: Record<string, unknown> = {};
    let push: HostPush;
    try {
      const response =
        step.kind === 'result'
          ? await this.pushResult(series, step.center, step.decision, (sent) => (data = sent))
          : await this.pushOutcome(series, step.outcome, step.remark, (sent) => (data = sent));
      push = { ...base, operation, data, status: response.status, answer: response.data };
    } catch (error) {
      push = { ...base, operation, data, status: undefined, error: error instanceof Error ? error.message : String(error) };
    }
    this.hostPushes.push(push);
    this.emit('host-push', push);
  }
}
