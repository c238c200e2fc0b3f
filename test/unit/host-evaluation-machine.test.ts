import { expect } from 'chai';
import fc from 'fast-check';
import type { PartnerId } from '../../adapters/types.ts';
import { GatewayError } from '../../kernel/errors.ts';
import { planEvaluation, stepEvaluation, type Command, type HostEvaluation, type HostEvent, type MachineSettings, type Plan } from '../../usecases/hosting/machine.ts';

const MINUTE = 60_000;
const SETTINGS: MachineSettings = { decisionDeadlineMs: 120 * MINUTE, confirmMarginMs: 2 * MINUTE };
const T0 = Date.UTC(2026, 11, 3, 1, 0, 0);
const partnerFor = (center: string): PartnerId => (center === '430100' ? 'changsha' : 'province');
const plan = (guests: { center: string; seats: number }[]): Plan => ({ start: T0 + 2 * 24 * 60 * MINUTE, end: T0 + 2 * 24 * 60 * MINUTE + 3 * 60 * MINUTE, hostSeats: 3, guests });

/** Runs events through the machine from a plan, returning every step's commands in order. */
function run(guests: { center: string; seats: number }[], events: [number, HostEvent][]): { evaluation: HostEvaluation; commands: Command[][] } {
  const planned = planEvaluation('HE1', plan(guests), partnerFor, T0, SETTINGS);
  let evaluation = planned.evaluation;
  const commands = [planned.commands];
  for (const [at, event] of events) {
    const step = stepEvaluation(evaluation, event, at, SETTINGS);
    evaluation = step.evaluation;
    commands.push(step.commands);
  }
  return { evaluation, commands };
}

const kinds = (commands: Command[]) => commands.map((command) => command.kind);

describe('host evaluation: the all-or-nothing machine (domain.md, Life of a host evaluation)', () => {
  it('when planned, only the host room is asked for; once it is held, one host-apply for the province guests and one slot.requested per Changsha guest go out', () => {
    const { commands } = run(
      [
        { center: '430300', seats: 2 },
        { center: '430100', seats: 3 },
        { center: '430400', seats: 1 },
      ],
      [[T0 + 1000, { kind: 'host-room-held', roomId: 'ZZ-PBS-05', seatIds: ['ZZ-PBS-05-01'] }]],
    );
    expect(commands[0]).to.deep.equal([{ kind: 'hold-host-room', start: plan([]).start, end: plan([]).end, seats: 3 }]);
    expect(commands[1]).to.deep.equal([
      { kind: 'host-apply', guests: [{ center: '430300', seats: 2 }, { center: '430400', seats: 1 }] },
      { kind: 'slot-requested', requestId: 'HE1-430100', center: '430100', seats: 3 },
    ]);
  });

  it('when no host room is free, fails at once naming the code, and nothing is sent', () => {
    const { evaluation, commands } = run([{ center: '430300', seats: 2 }], [[T0 + 1000, { kind: 'host-room-refused', reason: 'NO_CAPACITY' }]]);
    expect(evaluation).to.include({ state: 'failed', reason: 'NO_CAPACITY' });
    expect(commands[1]).to.deep.equal([]);
  });

  it('when every province guest approves, the outcome is "1" and the Changsha hold is offered, confirms the hold and comes into force with the host room booked', () => {
    const { evaluation, commands } = run(
      [
        { center: '430300', seats: 2 },
        { center: '430100', seats: 3 },
      ],
      [
        [T0 + 1, { kind: 'host-room-held', roomId: 'ZZ-PBS-05', seatIds: [] }],
        [T0 + 2, { kind: 'host-apply-answered', seriesNumber: 'SQ1' }],
        [T0 + 3, { kind: 'slot-offered', requestId: 'HE1-430100', offerId: 'O1', holdUntil: T0 + 30 * MINUTE, seats: 3 }],
        [T0 + 4, { kind: 'host-result', seriesNumber: 'SQ1', center: '430300', approved: true, room: { name: '3号评标室', address: '湘潭', seatNumbers: ['A1', 'A2'] } }],
        [T0 + 5, { kind: 'host-outcome', seriesNumber: 'SQ1', outcome: '1' }],
      ],
    );
    expect(kinds(commands[3] ?? [])).to.deep.equal([]);
    expect(commands[4]).to.deep.equal([{ kind: 'slot-confirmed', requestId: 'HE1-430100', offerId: 'O1' }]);
    expect(commands[5]).to.deep.equal([{ kind: 'book-host-room' }]);
    expect(evaluation.state).to.equal('in-force');
    expect(evaluation.legs.map((leg) => leg.state)).to.deep.equal(['approved', 'confirmed']);
  });

  it('when a Changsha hold has two minutes left and the province has not decided, confirms it early; if the province then rejects, releases it PROJECT_CANCELLED and cancels nothing at the province', () => {
    const { evaluation, commands } = run(
      [
        { center: '430300', seats: 2 },
        { center: '430100', seats: 3 },
      ],
      [
        [T0 + 1, { kind: 'host-room-held', roomId: 'ZZ-PBS-05', seatIds: [] }],
        [T0 + 2, { kind: 'host-apply-answered', seriesNumber: 'SQ1' }],
        [T0 + 3, { kind: 'slot-offered', requestId: 'HE1-430100', offerId: 'O1', holdUntil: T0 + 30 * MINUTE, seats: 3 }],
        [T0 + 27 * MINUTE, { kind: 'tick' }],
        [T0 + 28 * MINUTE, { kind: 'tick' }],
        [T0 + 29 * MINUTE, { kind: 'host-result', seriesNumber: 'SQ1', center: '430300', approved: false, reason: 'NO_CAPACITY' }],
      ],
    );
    expect(commands[4]).to.deep.equal([]);
    expect(commands[5]).to.deep.equal([{ kind: 'slot-confirmed', requestId: 'HE1-430100', offerId: 'O1' }]);
    expect(commands[6]).to.deep.equal([{ kind: 'slot-released', requestId: 'HE1-430100', reason: 'PROJECT_CANCELLED' }, { kind: 'free-host-room' }]);
    expect(evaluation).to.include({ state: 'failed', reason: '430300 NO_CAPACITY' });
  });

  it('when the deadline passes with legs undecided, fails naming them, releases the Changsha request and cancels the province application', () => {
    const { evaluation, commands } = run(
      [
        { center: '430300', seats: 2 },
        { center: '430100', seats: 3 },
      ],
      [
        [T0 + 1, { kind: 'host-room-held', roomId: 'ZZ-PBS-05', seatIds: [] }],
        [T0 + 2, { kind: 'host-apply-answered', seriesNumber: 'SQ1' }],
        [T0 + 120 * MINUTE, { kind: 'tick' }],
      ],
    );
    expect(evaluation).to.include({ state: 'failed', reason: 'DEADLINE 430300,430100' });
    expect(commands[3]).to.deep.equal([
      { kind: 'slot-released', requestId: 'HE1-430100', reason: 'PROJECT_CANCELLED' },
      { kind: 'host-cancel', seriesNumber: 'SQ1', reason: 'DEADLINE 430300,430100' },
      { kind: 'free-host-room' },
    ]);
  });

  it('when it fails before the host-apply answer is recorded, the application is cancelled as soon as its answer names it', () => {
    const { commands, evaluation } = run(
      [
        { center: '430300', seats: 2 },
        { center: '430100', seats: 3 },
      ],
      [
        [T0 + 1, { kind: 'host-room-held', roomId: 'ZZ-PBS-05', seatIds: [] }],
        [T0 + 2, { kind: 'slot-declined', requestId: 'HE1-430100', reason: 'NO_CAPACITY' }],
        [T0 + 3, { kind: 'host-apply-answered', seriesNumber: 'SQ1' }],
      ],
    );
    expect(commands[2]).to.deep.equal([{ kind: 'free-host-room' }]);
    expect(commands[3]).to.deep.equal([{ kind: 'host-cancel', seriesNumber: 'SQ1', reason: '430100 NO_CAPACITY' }]);
    expect(evaluation.province?.state).to.equal('cancelled');
  });

  it('when in force, start, pause with a reason, resume, end and archive go to the province and to the Changsha guest; ending frees the host room from the end; anything out of order is STATE_CONFLICT', () => {
    const inForce = run(
      [{ center: '430100', seats: 3 }],
      [
        [T0 + 1, { kind: 'host-room-held', roomId: 'ZZ-PBS-05', seatIds: [] }],
        [T0 + 2, { kind: 'slot-offered', requestId: 'HE1-430100', offerId: 'O1', holdUntil: T0 + 30 * MINUTE, seats: 3 }],
      ],
    ).evaluation;
    expect(inForce.state).to.equal('in-force');
    let evaluation = inForce;
    const sent: Command[] = [];
    for (const [status, reason] of [['started'], ['paused', '专家临时离场'], ['resumed'], ['ended'], ['archived']] as const) {
      const step = stepEvaluation(evaluation, { kind: 'lifecycle', status, at: T0 + 3, ...(reason === undefined ? {} : { reason }) }, T0 + 3, SETTINGS);
      evaluation = step.evaluation;
      sent.push(...step.commands);
    }
    expect(evaluation.lifecycle).to.equal('archived');
    expect(sent.map((command) => (command.kind === 'session-status' ? command.status : command.kind))).to.deep.equal(['started', 'paused', 'resumed', 'ended', 'free-host-room']);
    expect(() => stepEvaluation(inForce, { kind: 'lifecycle', status: 'ended', at: T0 }, T0, SETTINGS)).to.throw(GatewayError).with.nested.property('violations[0].message', 'STATE_CONFLICT');
    expect(() => stepEvaluation(run([{ center: '430300', seats: 2 }], []).evaluation, { kind: 'lifecycle', status: 'started', at: T0 }, T0, SETTINGS))
      .to.throw(GatewayError)
      .with.nested.property('violations[0].message', 'NOT_IN_FORCE');
  });

  describe('random interleavings of every answer, duplicates and overtaking, against a model of the partners', () => {
    it('is never in force with a leg missing, never ends failed or cancelled with anything still held, and is decided by the deadline', () => {
      fc.assert(fc.property(scenario(), (world) => simulate(world)), { numRuns: 400 });
    });
  });
});

// ---------------------------------------------------------------- the simulated partners

interface World {
  guests: { center: string; seats: number }[];
  hostRoomFree: boolean;
  /** per province guest: approves, rejects, or never answers */
  provinceAnswers: ('approve' | 'reject' | 'silent')[];
  changsha: 'offer' | 'decline' | 'offer-then-release' | 'silent' | 'offer-wrong-seats';
  holdMinutes: number;
  /** delays in minutes for each answer, in the order they are drawn */
  delays: number[];
  duplicates: boolean;
  cancelAtMinute: number | undefined;
}

const CENTERS = ['430300', '430400', '430500', '430600', '430700'];

function scenario(): fc.Arbitrary<World> {
  return fc
    .record({
      provinceCount: fc.integer({ min: 0, max: 4 }),
      withChangsha: fc.boolean(),
      hostRoomFree: fc.constantFrom(true, true, true, true, false),
      provinceAnswers: fc.array(fc.constantFrom<'approve' | 'reject' | 'silent'>('approve', 'approve', 'approve', 'reject', 'silent'), { minLength: 4, maxLength: 4 }),
      changsha: fc.constantFrom<World['changsha']>('offer', 'offer', 'decline', 'offer-then-release', 'silent', 'offer-wrong-seats'),
      holdMinutes: fc.integer({ min: 3, max: 60 }),
      delays: fc.array(fc.integer({ min: 0, max: 150 }), { minLength: 40, maxLength: 40 }),
      duplicates: fc.boolean(),
      cancelAtMinute: fc.option(fc.integer({ min: 0, max: 130 }), { nil: undefined }),
    })
    .filter(({ provinceCount, withChangsha }) => provinceCount + (withChangsha ? 1 : 0) > 0)
    .map(({ provinceCount, withChangsha, ...rest }) => ({
      ...rest,
      guests: [...CENTERS.slice(0, provinceCount).map((center) => ({ center, seats: 2 })), ...(withChangsha ? [{ center: '430100', seats: 3 }] : [])],
      provinceAnswers: rest.provinceAnswers.slice(0, provinceCount),
    }));
}

/** What the partners and Zhuzhou's ledger actually hold for this evaluation. */
interface Truth {
  hostRoom: 'none' | 'held' | 'booked';
  /** Changsha: the seats it holds or has booked for the leg */
  changsha: 'none' | 'held' | 'booked';
  changshaHoldUntil: number;
  province: 'none' | 'applied' | 'in-force' | 'failed' | 'cancelled';
}

function simulate(world: World): boolean {
  const delays = [...world.delays];
  const delay = () => (delays.shift() ?? 10) * MINUTE + 1;
  const queue: [number, HostEvent][] = [];
  const push = (at: number, event: HostEvent) => {
    queue.push([at, event]);
    if (world.duplicates) queue.push([at + 1, event]);
  };
  const truth: Truth = { hostRoom: 'none', changsha: 'none', changshaHoldUntil: 0, province: 'none' };

  const react = (now: number, command: Command) => {
    switch (command.kind) {
      case 'hold-host-room':
        if (world.hostRoomFree) {
          truth.hostRoom = 'held';
          push(now + 1, { kind: 'host-room-held', roomId: 'ZZ-PBS-05', seatIds: [] });
        } else push(now + 1, { kind: 'host-room-refused', reason: 'NO_CAPACITY' });
        return;
      case 'book-host-room':
        expect(truth.hostRoom, 'booked what was held').to.equal('held');
        truth.hostRoom = 'booked';
        return;
      case 'free-host-room':
        truth.hostRoom = 'none';
        return;
      case 'host-apply': {
        truth.province = 'applied';
        const answeredAt = now + delay();
        push(answeredAt, { kind: 'host-apply-answered', seriesNumber: 'SQ1' });
        // results and the outcome may overtake the answer: the flow holds them until it is recorded
        let last = answeredAt;
        command.guests.forEach((guest, index) => {
          const answer = world.provinceAnswers[index];
          if (answer === 'silent' || answer === undefined) return;
          const at = answeredAt + delay();
          last = Math.max(last, at);
          push(at, { kind: 'host-result', seriesNumber: 'SQ1', center: guest.center, approved: answer === 'approve', ...(answer === 'reject' ? { reason: 'NO_CAPACITY' } : {}) });
        });
        const anyReject = world.provinceAnswers.includes('reject');
        const allAnswered = !world.provinceAnswers.includes('silent');
        // the province expires an application after its own 24 hours
        push(allAnswered || anyReject ? last + 1 : answeredAt + 24 * 60 * MINUTE, { kind: 'host-outcome', seriesNumber: 'SQ1', outcome: anyReject ? '3' : allAnswered ? '1' : '6' });
        return;
      }
      case 'host-cancel':
        truth.province = 'cancelled';
        push(now + delay(), { kind: 'host-outcome', seriesNumber: command.seriesNumber, outcome: '5' });
        return;
      case 'slot-requested': {
        const at = now + delay();
        if (world.changsha === 'decline') push(at, { kind: 'slot-declined', requestId: command.requestId, reason: 'NO_CAPACITY' });
        if (world.changsha === 'offer' || world.changsha === 'offer-then-release' || world.changsha === 'offer-wrong-seats') {
          truth.changsha = 'held';
          truth.changshaHoldUntil = at + world.holdMinutes * MINUTE;
          push(at, { kind: 'slot-offered', requestId: command.requestId, offerId: 'O1', holdUntil: truth.changshaHoldUntil, seats: world.changsha === 'offer-wrong-seats' ? command.seats + 1 : command.seats });
          // the flow looks again when the hold has the confirm margin left (a delayed job)
          push(truth.changshaHoldUntil - SETTINGS.confirmMarginMs, { kind: 'tick' });
        }
        if (world.changsha === 'offer-then-release') push(at + delay(), { kind: 'slot-released', requestId: command.requestId, reason: 'PROJECT_POSTPONED' });
        return;
      }
      case 'slot-confirmed':
        if (truth.changsha === 'held' && now < truth.changshaHoldUntil) truth.changsha = 'booked';
        else push(now + 1, { kind: 'slot-released', requestId: command.requestId, reason: 'HOLD_EXPIRED' });
        return;
      case 'slot-released':
        truth.changsha = 'none';
        return;
      case 'eval-status':
      case 'session-status':
        return;
    }
  };

  const planned = planEvaluation('HE1', plan(world.guests), partnerFor, T0, SETTINGS);
  let evaluation = planned.evaluation;
  for (const command of planned.commands) react(T0, command);
  if (world.cancelAtMinute !== undefined) queue.push([T0 + world.cancelAtMinute * MINUTE, { kind: 'cancel', reason: 'operator' }]);
  // the flow ticks at least at the deadline
  queue.push([evaluation.deadline, { kind: 'tick' }]);

  for (let guard = 0; queue.length > 0 && guard < 500; guard += 1) {
    queue.sort((a, b) => a[0] - b[0]);
    const [at, event] = queue.shift() as [number, HostEvent];
    // a hold lapses at Changsha when its time comes, confirmed or not
    if (truth.changsha === 'held' && at >= truth.changshaHoldUntil) truth.changsha = 'none';
    // the province releases everything itself on outcome 3 or 6
    if (event.kind === 'host-outcome' && (event.outcome === '3' || event.outcome === '6')) truth.province = 'failed';
    if (event.kind === 'host-outcome' && event.outcome === '1' && truth.province === 'applied') truth.province = 'in-force';
    if (event.kind === 'slot-released' && event.reason !== 'HOLD_EXPIRED') truth.changsha = 'none';
    // the flow holds results and outcomes that overtake the host-apply answer until it is recorded
    if ((event.kind === 'host-result' || event.kind === 'host-outcome') && event.seriesNumber === 'SQ1' && evaluation.province?.seriesNumber === undefined && evaluation.province?.state !== 'cancelled') {
      queue.push([at + MINUTE, event]);
      continue;
    }
    let step;
    try {
      step = stepEvaluation(evaluation, event, at, SETTINGS);
    } catch (error) {
      // a cancel after the end is refused, and changes nothing
      if (error instanceof GatewayError && event.kind === 'cancel') continue;
      throw error;
    }
    evaluation = step.evaluation;
    for (const command of step.commands) react(at, command);
    checkNeverInForceWithALegMissing(evaluation, truth, world);
  }
  expect(['in-force', 'failed', 'cancelled'], `decided by the deadline: ${JSON.stringify(evaluation)}`).to.include(evaluation.state);
  if (evaluation.state === 'failed' || evaluation.state === 'cancelled') {
    expect(truth.hostRoom, `host room of a ${evaluation.state} evaluation`).to.equal('none');
    expect(truth.changsha, `Changsha of a ${evaluation.state} evaluation`).to.equal('none');
    expect(truth.province, `province application of a ${evaluation.state} evaluation`).to.be.oneOf(['none', 'failed', 'cancelled']);
    expect(evaluation.reason).to.be.a('string').and.not.equal('');
  }
  return true;
}

function checkNeverInForceWithALegMissing(evaluation: HostEvaluation, truth: Truth, world: World): void {
  if (evaluation.state !== 'in-force' || evaluation.needsOperator !== undefined) return;
  expect(truth.hostRoom, 'host room of an evaluation in force').to.equal('booked');
  if (world.guests.some((guest) => guest.center === '430100')) expect(truth.changsha, 'Changsha leg of an evaluation in force').to.equal('booked');
  if (world.guests.some((guest) => guest.center !== '430100')) expect(truth.province, 'province application of an evaluation in force').to.equal('in-force');
}
