/**
 * Both partners on loopback, as the gateway sees them: the repository's
 * province and Changsha simulators (they check every signature and token),
 * recording every answer with its arrival time and message id, and the
 * faults a partner can show for a bounded time.
 */
import { once } from 'node:events';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ChangshaSimulator, type ChangshaWireEvent, type RejectedCall } from '../test/simulators/changsha.ts';
import { ProvinceSimulator, type Behaviour, type ReceivedMessage } from '../test/simulators/province.ts';
import { CHANGSHA_SIMULATOR, OUTBOUND_SECRET } from '../test/helpers/gateway.ts';
import type { Answer, AnswerLog } from './history.ts';

/**
 * A pass-through proxy in front of the Changsha simulator whose token endpoint
 * can be made to answer 503 for as long as a fault lasts. (The simulator's own
 * failTokenEndpoint(n) fails the next n calls, however long they take to come;
 * a fault of the run is bounded in time instead.)
 */
class TokenFaultProxy {
  failing = false;
  /** token requests answered 503 by the proxy */
  refusedTokenCalls = 0;
  /** where calls are passed on to (the simulator's URL, known once it listens) */
  target = new URL('http://127.0.0.1:9');
  #server: Server | undefined;

  get url(): string {
    const address = this.#server?.address() as AddressInfo | undefined;
    if (!address) throw new Error('proxy not started');
    return `http://127.0.0.1:${address.port}`;
  }

  async start(): Promise<this> {
    this.#server = createServer((req, res) => this.#handle(req, res));
    this.#server.listen(0, '127.0.0.1');
    await once(this.#server, 'listening');
    return this;
  }

  async stop(): Promise<void> {
    this.#server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.#server ? this.#server.close(() => resolve()) : resolve()));
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    if (this.failing && req.method === 'POST' && (req.url ?? '').startsWith('/oauth/token')) {
      this.refusedTokenCalls++;
      req.resume();
      res.writeHead(503, { 'Content-Type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify({ error: 'temporarily_unavailable' }));
      return;
    }
    const upstream = request(
      { host: this.target.hostname, port: this.target.port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  }
}

function text(value: unknown): string {
  return typeof value === 'string' ? value : value === undefined || value === null ? '' : JSON.stringify(value);
}

/** A province fault that lasts until healed: each call to the province meanwhile behaves as given. */
export type ProvinceFault = { behaviours: Behaviour[]; slowMs?: number };

export class Partners {
  readonly province = new ProvinceSimulator({ secret: OUTBOUND_SECRET });
  readonly changsha = new ChangshaSimulator({
    ...CHANGSHA_SIMULATOR,
  });
  readonly #proxy = new TokenFaultProxy();
  readonly answers: AnswerLog = { province: new Map(), changsha: new Map() };
  /** other messages the partners received (availability publications, releases) */
  otherMessages = 0;
  /** deliveries the province simulator refused for their signature (must stay 0) */
  provinceBadSignatures = 0;
  /** calls Changsha refused for token, signature or form, by reason */
  readonly changshaRejected: Record<string, number> = {};
  /** calls the province simulator received, faults included */
  provinceCalls = 0;
  #provinceFault: ProvinceFault | undefined;
  #faultTurn = 0;

  constructor() {
    this.province.on('request', () => {
      this.provinceCalls++;
      const fault = this.#provinceFault;
      if (!fault) return;
      // pushed while the simulator emits 'request', so this very call takes it
      const behaviour = fault.behaviours[this.#faultTurn++ % fault.behaviours.length];
      if (behaviour) this.province.failNext(behaviour);
    });
    this.province.on('message', (message: ReceivedMessage) => {
      // the simulator keeps every message for tests; the run keeps its own log
      this.province.received.splice(0);
      if (message.operation !== 'notify') {
        this.otherMessages++;
        return;
      }
      const data = message.data;
      this.#record(this.answers.province, {
        at: Date.now(),
        id: text(data['SERIES_NUMBER']),
        messageId: message.validation.DATAUUID,
        outcome: data['STATUS'] === '1' ? 'approved' : 'rejected',
        room: text(data['EVAL_ROOM_NAME']),
        seats: Array.isArray(data['SEAT_NUMBER']) ? data['SEAT_NUMBER'].map(String) : [],
        repeatOfId: false,
      });
    });
    this.province.on('rejected', () => this.provinceBadSignatures++);
    const onChangsha = (repeatOfId: boolean) => (event: ChangshaWireEvent) => {
      if (!repeatOfId) this.changsha.received.splice(0);
      if (event.eventType !== 'slot.offered' && event.eventType !== 'slot.declined') {
        if (!repeatOfId) this.otherMessages++;
        return;
      }
      const data = event.data;
      this.#record(this.answers.changsha, {
        at: Date.now(),
        id: text(data['requestId']),
        messageId: event.eventId,
        outcome: event.eventType === 'slot.offered' ? 'offered' : 'declined',
        room: text(data['roomId']),
        seats: Array.isArray(data['seatNumbers']) ? data['seatNumbers'].map(String) : [],
        repeatOfId,
      });
    };
    this.changsha.on('event', onChangsha(false));
    // a repeated eventId: the simulator answers 409 and keeps it out of `received`
    this.changsha.on('duplicate', onChangsha(true));
    this.changsha.on('rejected', (call: RejectedCall) => {
      this.changsha.rejected.splice(0);
      const reason = `${call.status} ${call.reason}`;
      this.changshaRejected[reason] = (this.changshaRejected[reason] ?? 0) + 1;
    });
  }

  /** Where the gateway reaches Changsha: through the token fault proxy. */
  get changshaUrl(): string {
    return this.#proxy.url;
  }

  /** answers a partner refused for their signature or form (Changsha's refusals of expired tokens excepted): must stay 0 */
  get badAnswers(): number {
    const changsha = Object.entries(this.changshaRejected)
      .filter(([reason]) => !reason.includes('bearer token'))
      .reduce((sum, [, count]) => sum + count, 0);
    return this.provinceBadSignatures + changsha;
  }

  get refusedTokenCalls(): number {
    return this.#proxy.refusedTokenCalls;
  }

  async start(): Promise<this> {
    await Promise.all([this.province.start(), this.changsha.start()]);
    this.#proxy.target = new URL(this.changsha.url);
    await this.#proxy.start();
    return this;
  }

  async stop(): Promise<void> {
    await Promise.all([this.province.stop(), this.changsha.stop(), this.#proxy.stop()]);
  }

  #record(log: Map<string, Answer[]>, answer: Answer): void {
    const list = log.get(answer.id);
    if (list) list.push(answer);
    else log.set(answer.id, [answer]);
  }

  /** Every call to the province behaves as `fault` says until healProvince(). */
  injectProvince(fault: ProvinceFault): void {
    if (fault.slowMs !== undefined) this.province.slowMs = fault.slowMs;
    this.#faultTurn = 0;
    this.#provinceFault = fault;
  }

  healProvince(): void {
    this.#provinceFault = undefined;
  }

  /** Changsha's token endpoint answers 503, and every token it issued is refused from now on. */
  injectTokenOutage(): void {
    this.#proxy.failing = true;
    this.changsha.expireAllTokens();
  }

  healTokenOutage(): void {
    this.#proxy.failing = false;
  }
}
