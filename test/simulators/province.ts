import { EventEmitter, once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifyToken, type ProvinceInterface } from '../../adapters/province/signature.ts';
import type { HmacMethod } from '../../kernel/crypto/digest.ts';
import { ProvinceHostDispatcher, type SimulatedAnswer } from './province-host.ts';
import { evalStatusData, hostOutcomeData, hostResultData, type ProvinceClient } from './province-traffic.ts';

export interface ReceivedMessage {
  operation: string;
  validation: { DATAUUID: string; SYSTEM_NO: string; TIME: string; SIGN_METHOD?: HmacMethod; TOKEN: string };
  data: Record<string, unknown>;
  signatureValid: boolean;
}

/** How the simulator answers the next calls: a queue of behaviours, then `ok`. */
export type Behaviour = 'ok' | 'http-500' | 'state-503' | 'state-429' | 'refuse' | 'hang' | 'slow';

export interface ProvinceSimulatorOptions {
  /** the secret Zhuzhou signs with (the gateway's outbound secret) */
  secret: string;
  systemNo?: string;
  /** the clock of series numbers and of the host rules (a test's injected clock) */
  now?: () => number;
}

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
  /** how long a 'slow' answer takes */
  slowMs = 500;
  /** while set, every call (after those told by failNext) fails so: a partner down until `outage` is cleared */
  outage: Behaviour | undefined;
  /** the Retry-After header of 'state-503' and 'state-429' answers (seconds or an HTTP date) */
  retryAfter = '1';
  /** the dispatcher of Zhuzhou's host applications: seat-check, host-apply, host-change, host-cancel, eval-status */
  readonly host: ProvinceHostDispatcher;
  #gateway: ProvinceClient | undefined;

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

  /** A guest's decision on a host application, pushed as host-result: an approval names as many seats as the guest was asked for. */
  async pushResult(series: string, center: string, decision: { approve: true } | { approve: false; reason: string }) {
    const guests = (this.host.applications.get(series)?.data['SUB_DETAIL'] ?? []) as { SUB_AREA_CODE: string; SEAT_COUNT: number }[];
    const seats = guests.find((guest) => guest.SUB_AREA_CODE === center)?.SEAT_COUNT ?? 1;
    return this.#pushTo().send('host-result', hostResultData({ series, center, seats, ...decision }));
  }

  /** The outcome of a whole host application, pushed as host-outcome; the dispatcher's state follows it. */
  async pushOutcome(series: string, outcome: '1' | '3' | '5' | '6', remark = '') {
    this.host.decide(series, outcome);
    return this.#pushTo().send('host-outcome', hostOutcomeData({ series, outcome, remark }));
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
    if (!signed) {
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
    this.received.push(message);
    this.emit('message', message);
    if (hostAnswer) answer(hostAnswer.status, hostAnswer.body);
    else answer(200, { State: '200', Success: true, Msg: '成功', Data: {} });
  }
}
