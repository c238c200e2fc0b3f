import { expect } from 'chai';
import fc from 'fast-check';
import type { PartnerId } from '../../adapters/types.ts';
import { GatewayError } from '../../kernel/errors.ts';
import { changeEvaluation, planEvaluation, stepEvaluation, type Command, type HostEvaluation, type HostEvent, type MachineSettings, type Plan } from '../../usecases/hosting/machine.ts';

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

  describe('change, make before break', () => {
    const inForce = () =>
      run(
        [
          { center: '430300', seats: 2 },
          { center: '430100', seats: 3 },
        ],
        [
          [T0 + 1, { kind: 'host-room-held', roomId: 'ZZ-PBS-05', seatIds: [] }],
          [T0 + 2, { kind: 'host-apply-answered', seriesNumber: 'SQ1' }],
          [T0 + 3, { kind: 'slot-offered', requestId: 'HE1-430100', offerId: 'O1', holdUntil: T0 + 30 * MINUTE, seats: 3 }],
          [T0 + 4, { kind: 'host-outcome', seriesNumber: 'SQ1', outcome: '1' }],
        ],
      ).evaluation;
    const moved = (guests: { center: string; seats: number }[]) => ({ ...plan(guests), start: plan([]).start + 60 * MINUTE, end: plan([]).end + 60 * MINUTE });

    it('when the window moves, holds a new host room, sends host-change naming the application in force and a new slot.requested; once in force, releases the old Changsha leg (OTHER) and frees the old room', () => {
      const asked = changeEvaluation(inForce(), moved([{ center: '430300', seats: 2 }, { center: '430100', seats: 3 }]), '开标时间推迟', partnerFor, T0 + 10, SETTINGS);
      expect(asked.evaluation.state).to.equal('changing');
      expect(asked.commands).to.deep.equal([{ kind: 'hold-host-room', start: moved([]).start, end: moved([]).end, seats: 3, change: 1 }]);
      let evaluation = asked.evaluation;
      const sent: Command[][] = [];
      for (const event of [
        { kind: 'host-room-held', roomId: 'ZZ-PBS-03', seatIds: [], change: 1 },
        { kind: 'host-apply-answered', seriesNumber: 'BG1', change: 1 },
        { kind: 'slot-offered', requestId: 'HE1-430100-C1', offerId: 'O2', holdUntil: T0 + 60 * MINUTE, seats: 3 },
        { kind: 'host-outcome', seriesNumber: 'BG1', outcome: '1' },
      ] as HostEvent[]) {
        const step = stepEvaluation(evaluation, event, T0 + 20, SETTINGS);
        evaluation = step.evaluation;
        sent.push(step.commands);
      }
      expect(sent[0]).to.deep.equal([
        { kind: 'host-change', original: 'SQ1', guests: [{ center: '430300', seats: 2 }], change: 1, reason: '开标时间推迟' },
        { kind: 'slot-requested', requestId: 'HE1-430100-C1', center: '430100', seats: 3 },
      ]);
      expect(sent[3]).to.deep.equal([
        { kind: 'slot-confirmed', requestId: 'HE1-430100-C1', offerId: 'O2' },
        { kind: 'book-host-room', change: 1 },
        { kind: 'slot-released', requestId: 'HE1-430100', reason: 'OTHER' },
        { kind: 'free-host-room' },
      ]);
      expect(evaluation).to.deep.include({ state: 'in-force', plan: moved([{ center: '430300', seats: 2 }, { center: '430100', seats: 3 }]) });
      expect(evaluation.province).to.deep.include({ seriesNumber: 'BG1', state: 'in-force' });
    });

    it('when a guest rejects the change, lets go only of what the change obtained, and the evaluation stays in force as it was', () => {
      const before = inForce();
      let evaluation = changeEvaluation(before, moved([{ center: '430300', seats: 2 }, { center: '430100', seats: 3 }]), '开标时间推迟', partnerFor, T0 + 10, SETTINGS).evaluation;
      const sent: Command[] = [];
      for (const event of [
        { kind: 'host-room-held', roomId: 'ZZ-PBS-03', seatIds: [], change: 1 },
        { kind: 'host-apply-answered', seriesNumber: 'BG1', change: 1 },
        { kind: 'slot-offered', requestId: 'HE1-430100-C1', offerId: 'O2', holdUntil: T0 + 60 * MINUTE, seats: 3 },
        { kind: 'host-result', seriesNumber: 'BG1', center: '430300', approved: false, reason: 'NO_CAPACITY' },
      ] as HostEvent[]) {
        const step = stepEvaluation(evaluation, event, T0 + 20, SETTINGS);
        evaluation = step.evaluation;
        sent.push(...step.commands);
      }
      expect(sent.slice(2)).to.deep.equal([
        { kind: 'slot-released', requestId: 'HE1-430100-C1', reason: 'PROJECT_CANCELLED' },
        { kind: 'free-host-room', change: 1 },
      ]);
      expect(evaluation).to.deep.include({ state: 'in-force', lastChangeFailure: '430300 NO_CAPACITY', legs: before.legs, plan: before.plan, province: before.province });
    });

    it('when cancelled after the province put a change in force but before the whole change is (its Changsha leg undecided), the change\'s application is what gets cancelled: it replaced the original there', () => {
      let evaluation = changeEvaluation(inForce(), moved([{ center: '430300', seats: 2 }, { center: '430100', seats: 3 }]), '开标时间推迟', partnerFor, T0 + 10, SETTINGS).evaluation;
      for (const event of [
        { kind: 'host-room-held', roomId: 'ZZ-PBS-03', seatIds: [], change: 1 },
        { kind: 'host-apply-answered', seriesNumber: 'BG1', change: 1 },
        { kind: 'host-outcome', seriesNumber: 'BG1', outcome: '1' },
      ] as HostEvent[]) evaluation = stepEvaluation(evaluation, event, T0 + 20, SETTINGS).evaluation;
      const cancelled = stepEvaluation(evaluation, { kind: 'cancel', reason: '项目终止' }, T0 + 30, SETTINGS);
      expect(cancelled.commands.filter((command) => command.kind === 'host-cancel')).to.deep.equal([{ kind: 'host-cancel', seriesNumber: 'BG1', reason: '项目终止' }]);
      expect(cancelled.evaluation.state).to.equal('cancelled');
    });

    it('when a change is still undecided, a second one is a conflict (409); when not in force, NOT_IN_FORCE', () => {
      const changing = changeEvaluation(inForce(), moved([{ center: '430300', seats: 2 }]), 'again', partnerFor, T0 + 10, SETTINGS).evaluation;
      expect(() => changeEvaluation(changing, plan([{ center: '430300', seats: 2 }]), 'twice', partnerFor, T0 + 11, SETTINGS)).to.throw(GatewayError).with.property('status', 409);
      const requested = run([{ center: '430300', seats: 2 }], []).evaluation;
      expect(() => changeEvaluation(requested, plan([{ center: '430300', seats: 2 }]), 'early', partnerFor, T0 + 11, SETTINGS)).to.throw(GatewayError).with.nested.property('violations[0].message', 'NOT_IN_FORCE');
    });
  });

  describe('random interleavings of every answer, duplicates and overtaking, against a model of the partners', () => {
    it('is never in force with a leg missing, never ends failed or cancelled with anything still held, and is decided by the deadline', () => {
      fc.assert(fc.property(scenario(), (world) => simulate(world)), { numRuns: 400 });
    });

    it('with a change asked for once in force: the change replaces the old legs or is let go, and nothing is left held that the evaluation does not use', () => {
      fc.assert(fc.property(scenario(true), (world) => simulate(world)), { numRuns: 400 });
    });
  });
});

// ---------------------------------------------------------------- the simulated partners

type Answer = 'approve' | 'reject' | 'silent';

interface TrackWorld {
  guests: { center: string; seats: number }[];
  /** per province guest, in order */
  provinceAnswers: Answer[];
  changsha: 'offer' | 'decline' | 'offer-then-release' | 'silent' | 'offer-wrong-seats';
  holdMinutes: number;
  hostRoomFree: boolean;
}

interface World {
  first: TrackWorld;
  /** asked for once the evaluation is in force */
  change: (TrackWorld & { moveWindow: boolean; atMinute: number }) | undefined;
  /** delays in minutes for each answer, in the order they are drawn */
  delays: number[];
  duplicates: boolean;
  cancelAtMinute: number | undefined;
}

const CENTERS = ['430300', '430400', '430500', '430600', '430700'];

function trackWorld(): fc.Arbitrary<TrackWorld> {
  return fc
    .record({
      provinceCenters: fc.subarray(CENTERS, { maxLength: 4 }),
      withChangsha: fc.boolean(),
      changshaSeats: fc.constantFrom(2, 3),
      hostRoomFree: fc.constantFrom(true, true, true, true, false),
      provinceAnswers: fc.array(fc.constantFrom<Answer>('approve', 'approve', 'approve', 'reject', 'silent'), { minLength: 4, maxLength: 4 }),
      changsha: fc.constantFrom<TrackWorld['changsha']>('offer', 'offer', 'decline', 'offer-then-release', 'silent', 'offer-wrong-seats'),
      holdMinutes: fc.integer({ min: 3, max: 60 }),
    })
    .filter(({ provinceCenters, withChangsha }) => provinceCenters.length + (withChangsha ? 1 : 0) > 0)
    .map(({ provinceCenters, withChangsha, changshaSeats, ...rest }) => ({
      ...rest,
      guests: [...provinceCenters.map((center) => ({ center, seats: 2 })), ...(withChangsha ? [{ center: '430100', seats: changshaSeats }] : [])],
      provinceAnswers: rest.provinceAnswers.slice(0, provinceCenters.length),
    }));
}

function scenario(withChange = false): fc.Arbitrary<World> {
  return fc.record({
    first: trackWorld(),
    change: withChange ? fc.record({ track: trackWorld(), moveWindow: fc.boolean(), atMinute: fc.integer({ min: 0, max: 200 }) }).map(({ track, ...rest }) => ({ ...track, ...rest })) : fc.constant(undefined),
    delays: fc.array(fc.integer({ min: 0, max: 150 }), { minLength: 60, maxLength: 60 }),
    duplicates: fc.boolean(),
    cancelAtMinute: fc.option(fc.integer({ min: 0, max: 400 }), { nil: undefined }),
  });
}

/** What the partners and Zhuzhou's ledger actually hold, by what the machine named them. */
interface Truth {
  /** host room holds and bookings by change number (0: the first plan) */
  rooms: Map<number, 'held' | 'booked'>;
  /** Changsha's holds and bookings by Zhuzhou's request id */
  changsha: Map<string, { state: 'held' | 'booked'; holdUntil: number }>;
  /** province applications by series number */
  province: Map<string, 'applied' | 'in-force' | 'failed' | 'cancelled' | 'replaced'>;
  /** what a change application replaces once in force */
  replaces: Map<string, string>;
}

function simulate(world: World): boolean {
  const delays = [...world.delays];
  const delay = () => (delays.shift() ?? 10) * MINUTE + 1;
  const queue: [number, HostEvent | { kind: 'ask-change' }][] = [];
  const push = (at: number, event: HostEvent) => {
    queue.push([at, event]);
    if (world.duplicates) queue.push([at + 1, event]);
  };
  const truth: Truth = { rooms: new Map(), changsha: new Map(), province: new Map(), replaces: new Map() };
  const trackWorldOf = (change: number | undefined) => (change === undefined || change === 0 ? world.first : (world.change ?? world.first));

  const answerApplication = (now: number, seriesNumber: string, change: number | undefined, guests: readonly { center: string; seats: number }[]) => {
    truth.province.set(seriesNumber, 'applied');
    const answers = trackWorldOf(change).provinceAnswers;
    const answeredAt = now + delay();
    push(answeredAt, { kind: 'host-apply-answered', seriesNumber, ...(change === undefined ? {} : { change }) });
    // results and the outcome may overtake the answer: the flow holds them until it is recorded
    let last = answeredAt;
    guests.forEach((guest, index) => {
      const answer = answers[index];
      if (answer === 'silent' || answer === undefined) return;
      const at = answeredAt + delay();
      last = Math.max(last, at);
      push(at, { kind: 'host-result', seriesNumber, center: guest.center, approved: answer === 'approve', ...(answer === 'reject' ? { reason: 'NO_CAPACITY' } : {}) });
    });
    const relevant = answers.slice(0, guests.length);
    const anyReject = relevant.includes('reject');
    const allAnswered = !relevant.includes('silent');
    // the province expires an application after its own 24 hours
    push(allAnswered || anyReject ? last + 1 : answeredAt + 24 * 60 * MINUTE, { kind: 'host-outcome', seriesNumber, outcome: anyReject ? '3' : allAnswered ? '1' : '6' });
  };

  const react = (now: number, command: Command) => {
    const number = 'change' in command ? (command.change ?? 0) : 0;
    switch (command.kind) {
      case 'hold-host-room':
        if (trackWorldOf(command.change).hostRoomFree) {
          truth.rooms.set(number, 'held');
          push(now + 1, { kind: 'host-room-held', roomId: 'ZZ-PBS-05', seatIds: [], ...(command.change === undefined ? {} : { change: command.change }) });
        } else push(now + 1, { kind: 'host-room-refused', reason: 'NO_CAPACITY', ...(command.change === undefined ? {} : { change: command.change }) });
        return;
      case 'book-host-room':
        expect(truth.rooms.get(number), 'booked what was held').to.equal('held');
        truth.rooms.set(number, 'booked');
        return;
      case 'free-host-room':
        if (command.from === undefined) truth.rooms.delete(number);
        else for (const [key, state] of truth.rooms) if (state === 'booked') truth.rooms.delete(key);
        return;
      case 'host-apply':
        return answerApplication(now, `SQ${number}`, command.change, command.guests);
      case 'host-change':
        truth.replaces.set(`BG${command.change}`, command.original);
        return answerApplication(now, `BG${command.change}`, command.change, command.guests);
      case 'host-cancel': {
        truth.province.set(command.seriesNumber, 'cancelled');
        // cancelling the application in force withdraws an undecided change of it
        for (const [change, original] of truth.replaces) if (original === command.seriesNumber && truth.province.get(change) === 'applied') truth.province.set(change, 'cancelled');
        push(now + delay(), { kind: 'host-outcome', seriesNumber: command.seriesNumber, outcome: '5' });
        return;
      }
      case 'slot-requested': {
        const track = trackWorldOf(command.requestId.includes('-C') ? 1 : 0);
        const at = now + delay();
        if (track.changsha === 'decline') push(at, { kind: 'slot-declined', requestId: command.requestId, reason: 'NO_CAPACITY' });
        if (track.changsha === 'offer' || track.changsha === 'offer-then-release' || track.changsha === 'offer-wrong-seats') {
          const holdUntil = at + track.holdMinutes * MINUTE;
          truth.changsha.set(command.requestId, { state: 'held', holdUntil });
          push(at, { kind: 'slot-offered', requestId: command.requestId, offerId: `O-${command.requestId}`, holdUntil, seats: track.changsha === 'offer-wrong-seats' ? command.seats + 1 : command.seats });
          // the flow looks again when the hold has the confirm margin left (a delayed job)
          push(holdUntil - SETTINGS.confirmMarginMs, { kind: 'tick' });
        }
        if (track.changsha === 'offer-then-release') push(at + delay(), { kind: 'slot-released', requestId: command.requestId, reason: 'PROJECT_POSTPONED' });
        return;
      }
      case 'slot-confirmed': {
        const hold = truth.changsha.get(command.requestId);
        if (hold?.state === 'held' && now < hold.holdUntil) hold.state = 'booked';
        else if (hold?.state !== 'booked') push(now + 1, { kind: 'slot-released', requestId: command.requestId, reason: 'HOLD_EXPIRED' });
        return;
      }
      case 'slot-released':
        truth.changsha.delete(command.requestId);
        return;
      case 'eval-status':
      case 'session-status':
        return;
    }
  };

  const planned = planEvaluation('HE1', plan(world.first.guests), partnerFor, T0, SETTINGS);
  let evaluation = planned.evaluation;
  for (const command of planned.commands) react(T0, command);
  if (world.cancelAtMinute !== undefined) queue.push([T0 + world.cancelAtMinute * MINUTE, { kind: 'cancel', reason: 'operator' }]);
  if (world.change) queue.push([T0 + world.change.atMinute * MINUTE, { kind: 'ask-change' }]);
  // the flow ticks at least at each deadline
  queue.push([evaluation.deadline, { kind: 'tick' }]);

  for (let guard = 0; queue.length > 0 && guard < 800; guard += 1) {
    queue.sort((a, b) => a[0] - b[0]);
    const [at, event] = queue.shift() as [number, HostEvent | { kind: 'ask-change' }];
    // a hold lapses at Changsha when its time comes
    for (const [requestId, hold] of truth.changsha) if (hold.state === 'held' && at >= hold.holdUntil) truth.changsha.delete(requestId);
    if (event.kind === 'ask-change') {
      if (evaluation.state !== 'in-force' || !world.change || evaluation.lifecycle !== 'not-started') continue;
      const moved = world.change.moveWindow ? 60 * MINUTE : 0;
      const step = changeEvaluation(evaluation, { ...plan(world.change.guests), start: plan([]).start + moved, end: plan([]).end + moved }, 'plan changed', partnerFor, at, SETTINGS);
      evaluation = step.evaluation;
      for (const command of step.commands) react(at, command);
      queue.push([evaluation.change?.deadline ?? at, { kind: 'tick' }]);
      continue;
    }
    // the province's own decisions
    if (event.kind === 'host-outcome' && (event.outcome === '3' || event.outcome === '6') && truth.province.get(event.seriesNumber) === 'applied') truth.province.set(event.seriesNumber, 'failed');
    if (event.kind === 'host-outcome' && event.outcome === '1' && truth.province.get(event.seriesNumber) === 'applied') {
      truth.province.set(event.seriesNumber, 'in-force');
      const original = truth.replaces.get(event.seriesNumber);
      if (original !== undefined && truth.province.get(original) === 'in-force') truth.province.set(original, 'replaced');
    }
    if (event.kind === 'slot-released' && event.reason !== 'HOLD_EXPIRED') truth.changsha.delete(event.requestId);
    // the flow holds results and outcomes that overtake their application's answer until it is recorded
    if ((event.kind === 'host-result' || event.kind === 'host-outcome') && !known(evaluation, event.seriesNumber) && truth.province.get(event.seriesNumber) === 'applied') {
      if (at < T0 + 5 * 24 * 60 * MINUTE) queue.push([at + MINUTE, event]);
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
    checkInForce(evaluation, truth);
  }
  expect(['in-force', 'failed', 'cancelled'], `decided by the deadlines: ${JSON.stringify(evaluation)}`).to.include(evaluation.state);
  checkNothingElseHeld(evaluation, truth);
  if (evaluation.state === 'failed' || evaluation.state === 'cancelled') expect(evaluation.reason).to.be.a('string').and.not.equal('');
  return true;
}

/** Whether the machine has recorded the answer that named `seriesNumber` (or no longer waits for it). */
function known(evaluation: HostEvaluation, seriesNumber: string): boolean {
  return evaluation.province?.seriesNumber === seriesNumber || evaluation.change?.province?.seriesNumber === seriesNumber;
}

function checkInForce(evaluation: HostEvaluation, truth: Truth): void {
  if ((evaluation.state !== 'in-force' && evaluation.state !== 'changing') || evaluation.needsOperator !== undefined) return;
  expect([...truth.rooms.values()], 'a host room booked for an evaluation in force').to.include('booked');
  for (const leg of evaluation.legs) {
    if (leg.partner === 'changsha') expect(truth.changsha.get(leg.requestId ?? '')?.state, `Changsha leg ${leg.requestId ?? ''} of an evaluation in force`).to.equal('booked');
  }
  // while a change is asked for, the province may already have put its part in force in place of the original
  const province = [evaluation.province, evaluation.change?.province].find((application) => application?.state === 'in-force');
  if (evaluation.legs.some((leg) => leg.partner === 'province')) expect(truth.province.get(province?.seriesNumber ?? ''), 'province application of an evaluation in force').to.equal('in-force');
}

/** Once decided, the partners and the ledger hold exactly what the evaluation uses, and nothing if it failed or was cancelled. */
function checkNothingElseHeld(evaluation: HostEvaluation, truth: Truth): void {
  const live = evaluation.state === 'in-force';
  const usedRequests = new Set(live ? evaluation.legs.map((leg) => leg.requestId).filter((id) => id !== undefined) : []);
  for (const [requestId] of truth.changsha) expect(usedRequests.has(requestId), `Changsha still holds ${requestId} for a ${evaluation.state} evaluation: ${JSON.stringify(evaluation)}`).to.equal(true);
  const rooms = [...truth.rooms.entries()];
  if (live) expect(rooms.filter(([, state]) => state === 'booked'), `one host room booked: ${JSON.stringify(rooms)}`).to.have.length(1);
  else expect(rooms, `host rooms of a ${evaluation.state} evaluation`).to.deep.equal([]);
  expect(rooms.filter(([, state]) => state === 'held'), 'no host room left held').to.deep.equal([]);
  const inForce = [...truth.province.entries()].filter(([, state]) => state === 'in-force' || state === 'applied');
  const expected = live && evaluation.province?.seriesNumber !== undefined ? [evaluation.province.seriesNumber] : [];
  expect(inForce.map(([seriesNumber]) => seriesNumber), `province applications alive for a ${evaluation.state} evaluation: ${JSON.stringify(evaluation)}`).to.deep.equal(expected);
}
