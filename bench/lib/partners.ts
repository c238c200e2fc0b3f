/**
 * The partners' side of deliveries: the repository's own simulators (they
 * check every signature and token) on loopback, with the arrival time of the
 * first answer for each request kept for end-to-end latency and loss counts.
 */
import { ProvinceSimulator, type ReceivedMessage } from '../../test/simulators/province.ts';
import { ChangshaSimulator, type ChangshaWireEvent } from '../../test/simulators/changsha.ts';
import { now } from './stats.ts';

export interface PartnerSecrets {
  provinceOutboundSecret: string;
  changshaClientId: string;
  changshaClientSecret: string;
  changshaInboundKeyId: string;
  changshaInboundSecret: string;
  changshaOutboundKeyId: string;
  changshaOutboundSecret: string;
}

export interface Arrival {
  at: number;
  /** approved | rejected (province), offered | declined (Changsha) */
  outcome: string;
  count: number;
}

export class Partners {
  readonly province: ProvinceSimulator;
  readonly changsha: ChangshaSimulator;
  /** first answer per SERIES_NUMBER / requestId */
  readonly arrivals = new Map<string, Arrival>();
  /** answers beyond the first for the same request */
  repeats = 0;
  /** other events (availability publications) */
  other = 0;
  /** calls the simulators refused (signature, token, form): must stay 0 */
  get refused(): number {
    return this.changsha.rejected.length + this.#provinceRejected;
  }
  #provinceRejected = 0;
  /** called at each first answer */
  onArrival: (id: string) => void = () => undefined;

  constructor(secrets: PartnerSecrets) {
    this.province = new ProvinceSimulator({ secret: secrets.provinceOutboundSecret });
    this.changsha = new ChangshaSimulator({
      clientId: secrets.changshaClientId,
      clientSecret: secrets.changshaClientSecret,
      zhuzhouKeyId: secrets.changshaOutboundKeyId,
      zhuzhouSecret: secrets.changshaOutboundSecret,
      changshaKeyId: secrets.changshaInboundKeyId,
      changshaSecret: secrets.changshaInboundSecret,
    });
    this.province.on('message', (message: ReceivedMessage) => {
      // the simulators keep every message for tests; the bench keeps only arrival times
      this.province.received.splice(0);
      if (message.operation !== 'notify') {
        this.other++;
        return;
      }
      this.#arrive(String(message.data['SERIES_NUMBER']), message.data['STATUS'] === '1' ? 'approved' : 'rejected');
    });
    this.province.on('rejected', () => this.#provinceRejected++);
    this.changsha.on('event', (event: ChangshaWireEvent) => {
      this.changsha.received.splice(0);
      if (event.eventType !== 'slot.offered' && event.eventType !== 'slot.declined') {
        this.other++;
        return;
      }
      this.#arrive(String(event.data['requestId']), event.eventType === 'slot.offered' ? 'offered' : 'declined');
    });
  }

  async start(): Promise<this> {
    await Promise.all([this.province.start(), this.changsha.start()]);
    return this;
  }

  async stop(): Promise<void> {
    await Promise.all([this.province.stop(), this.changsha.stop()]);
  }

  #arrive(id: string, outcome: string): void {
    const known = this.arrivals.get(id);
    if (known) {
      known.count++;
      this.repeats++;
      return;
    }
    this.arrivals.set(id, { at: now(), outcome, count: 1 });
    this.onArrival(id);
  }
}
