import { randomBytes } from 'node:crypto';
import { createProvinceAdapter } from '../../../adapters/province/index.ts';
import { classifyProvinceAnswer, createHttpClient } from '../../../adapters/province/client.ts';
import { buildEnvelope, type ProvinceInterface } from '../../../adapters/province/signature.ts';
import type { GatewayConfig } from '../../../config/index.ts';
import { formatCompactBeijing, beijingDate } from '../../../kernel/beijing-time.ts';
import { validatorFor } from '../../../schemas/registry.ts';
import type { ProvinceResponse, ProvinceScheduleResponse } from '../../../schemas/types.generated.ts';
import { call, fail, isObject, pass, type Answer, type Rule } from './runner.ts';

/**
 * The province's side of "Gateway -> province" (province.md): its receivers of
 * notify and exception and its GET /schedule, played as the gateway plays them,
 * with the adapter's own encoders, signing and HTTP client.
 */

const validateResponse = validatorFor<ProvinceResponse>('partners/province/response.json');
const validateSchedule = validatorFor<ProvinceScheduleResponse>('partners/province/schedule-response.json');

/** The contract's window for TIME is 300 s; a TIME this far off is outside it whatever the partner's setting. */
const STALE_SECONDS = 900;
const JSON_POINTER = /^(\/([^~/]|~[01])*)*$/;

export interface ProvinceTarget {
  /** the gateway's configuration; partners.province.baseUrl is the implementation under test */
  config: Readonly<GatewayConfig>;
  now?: () => number;
}

function uuid(): string {
  return randomBytes(16).toString('hex');
}

/** Secrets a report must never show. */
export function provinceSecrets(config: Readonly<GatewayConfig>): string[] {
  return [config.partners.province.outboundSecret, config.partners.province.inboundSecret];
}

export function provinceRules({ config, now = Date.now }: ProvinceTarget): Rule[] {
  const settings = config.partners.province;
  const adapter = createProvinceAdapter({ config, clock: { now } });
  const http = createHttpClient(settings);
  const systemNo = config.center.systemNo;
  const headers = { 'Content-Type': 'application/json; charset=utf-8' };

  /** A series number of the form the province uses, new for each run. */
  const series = (prefix: 'SQ' | 'BG') => `${prefix}${formatCompactBeijing(now())}${String(randomBytes(3).readUIntBE(0, 3) % 1_000_000).padStart(6, '0')}`;

  /** The data of an approved notify, as the adapter encodes a ledger decision. */
  function notifyData(): Record<string, unknown> {
    const encoded = adapter.encodeDecision(
      {
        requestId: series('SQ'),
        kind: 'apply',
        outcome: 'approved',
        reason: '',
        roomId: 'ZZ-PBS-01',
        roomAddress: '株洲市公共资源交易中心 3楼 01评标室',
        seatIds: ['ZZ-PBS-01-01', 'ZZ-PBS-01-02', 'ZZ-PBS-01-03'],
        decidedAt: new Date(now()).toISOString(),
      },
      uuid(),
    );
    if (!encoded) throw new Error('the adapter encodes no notify for an approved apply');
    return encoded.body;
  }

  interface SignOptions {
    secret?: string;
    systemNo?: string;
    time?: string;
  }

  async function post(interfaceCode: ProvinceInterface, dataUuid: string, data: unknown, options: SignOptions = {}): Promise<Answer> {
    const envelope = buildEnvelope(
      {
        secret: options.secret ?? settings.outboundSecret,
        method: settings.signMethod,
        systemNo: options.systemNo ?? systemNo,
        dataUuid,
        time: options.time ?? formatCompactBeijing(now()),
        interfaceCode,
      },
      data,
    );
    return call(http, { method: 'POST', path: `/${interfaceCode}`, headers, body: JSON.stringify(envelope) });
  }

  async function getSchedule(options: SignOptions = {}): Promise<Answer> {
    const data = { AREA_CODE: config.center.areaCode, DATE: beijingDate(now()).replace(/-/g, '') };
    const { validation } = buildEnvelope(
      { secret: options.secret ?? settings.outboundSecret, method: settings.signMethod, systemNo: options.systemNo ?? systemNo, dataUuid: uuid(), time: options.time ?? formatCompactBeijing(now()), interfaceCode: 'schedule' },
      data,
    );
    return call(http, { method: 'GET', path: '/schedule', params: { ...data, ...validation } });
  }

  /** The answer is the contract's response shape with this HTTP status and State; undefined when it is, else what is wrong. */
  function shapeFault(answer: Answer, status: number, msg?: string): string | undefined {
    if (answer.status !== status) return `expected HTTP ${status}, got ${answer.status === undefined ? 'no answer' : `HTTP ${answer.status}`}`;
    const checked = validateResponse(answer.json);
    if (!checked.ok) return `the answer is not the contract's response shape: ${checked.violations.map((v) => `${v.path || '/'} ${v.message}`).join('; ')}`;
    const body = checked.value;
    if (body.State !== String(status)) return `expected State "${status}", got ${JSON.stringify(body.State)}`;
    if (body.Success !== (status === 200)) return `expected Success ${status === 200}, got ${body.Success}`;
    if (msg !== undefined && body.Msg !== msg) return `expected Msg ${msg}, got ${JSON.stringify(body.Msg)}`;
    return undefined;
  }

  /** A refusal rule: the message is refused with 401 身份验证失败 in the contract's format. */
  function refused401(id: string, title: string, send: () => Promise<Answer>): Rule {
    return {
      id,
      title,
      async run() {
        const answer = await send();
        const fault = shapeFault(answer, 401, '身份验证失败');
        return fault === undefined ? pass('refused 401 身份验证失败', answer.exchange) : fail(fault, answer.exchange);
      },
    };
  }

  return [
    {
      id: 'notify-accepted',
      title: 'a signed notify is answered HTTP 200, State "200", in the contract\'s response shape',
      async run() {
        const answer = await post('notify', uuid(), notifyData());
        const fault = shapeFault(answer, 200, '成功');
        if (fault !== undefined) return fail(fault, answer.exchange);
        const classified = classifyProvinceAnswer(answer.status ?? 0, answer.json, undefined);
        return classified.kind === 'delivered' ? pass('accepted', answer.exchange) : fail(`the gateway would take this answer as ${classified.kind}`, answer.exchange);
      },
    },
    {
      id: 'notify-repeat',
      title: 'the same DATAUUID again (a resend) gets the first answer again',
      async run() {
        const dataUuid = uuid();
        const data = notifyData();
        const first = await post('notify', dataUuid, data);
        const firstFault = shapeFault(first, 200);
        if (firstFault !== undefined) return fail(`first send: ${firstFault}`, first.exchange);
        const again = await post('notify', dataUuid, data);
        const againFault = shapeFault(again, 200);
        if (againFault !== undefined) return fail(`resend: ${againFault}`, first.exchange, again.exchange);
        return JSON.stringify(first.json) === JSON.stringify(again.json)
          ? pass('the first answer again', first.exchange, again.exchange)
          : fail('the resend was answered differently from the first send', first.exchange, again.exchange);
      },
    },
    refused401('notify-wrong-signature', 'a notify whose TOKEN does not match is refused HTTP 401, State "401", 身份验证失败', () =>
      post('notify', uuid(), notifyData(), { secret: `not-the-secret-${uuid()}` }),
    ),
    refused401('notify-unknown-system-no', 'a notify from an unknown SYSTEM_NO is refused 401', () => post('notify', uuid(), notifyData(), { systemNo: 'ZZ999999' })),
    refused401('notify-time-outside-window', `a notify whose TIME is ${STALE_SECONDS} s old (the window is 300 s) is refused 401`, () =>
      post('notify', uuid(), notifyData(), { time: formatCompactBeijing(now() - STALE_SECONDS * 1000) }),
    ),
    refused401('notify-time-ahead-of-window', `a notify whose TIME is ${STALE_SECONDS} s ahead is refused 401`, () =>
      post('notify', uuid(), notifyData(), { time: formatCompactBeijing(now() + STALE_SECONDS * 1000) }),
    ),
    {
      id: 'notify-schema-violation',
      title: 'a signed notify violating the schema is refused HTTP 400 报文格式错误 with Data.errors as JSON Pointers',
      async run() {
        // a wrong type and an unknown field, signed as they are
        const answer = await post('notify', uuid(), { ...notifyData(), STATUS: 1, COLOR: 'red' });
        const fault = shapeFault(answer, 400, '报文格式错误');
        if (fault !== undefined) return fail(fault, answer.exchange);
        const data = (answer.json as { Data?: unknown }).Data;
        const errors = isObject(data) ? data['errors'] : undefined;
        if (!Array.isArray(errors) || errors.length === 0) return fail('Data.errors is missing or empty', answer.exchange);
        const bad = errors.filter((error) => !isObject(error) || typeof error['path'] !== 'string' || !JSON_POINTER.test(error['path']) || !String(error['path']).startsWith('/data') || typeof error['message'] !== 'string');
        if (bad.length > 0) return fail(`not {"path": JSON Pointer under /data, "message": string}: ${JSON.stringify(bad.slice(0, 3))}`, answer.exchange);
        return pass(`${errors.length} violation(s) listed`, answer.exchange);
      },
    },
    {
      id: 'exception-accepted',
      title: 'a signed exception report is answered HTTP 200, State "200"',
      async run() {
        const message = adapter.exceptions?.encode(
          { reportId: uuid(), requestId: series('SQ'), type: 'ROOM_FAULT', description: '评标室网络中断（一致性检查）', occurredAt: new Date(now()).toISOString() },
          uuid(),
        );
        if (!message) throw new Error('the adapter encodes no exception reports');
        const answer = await post('exception', message.messageId, message.body);
        const fault = shapeFault(answer, 200, '成功');
        return fault === undefined ? pass('accepted', answer.exchange) : fail(fault, answer.exchange);
      },
    },
    {
      id: 'schedule-answered',
      title: 'a signed GET /schedule is answered HTTP 200, State "200", with Data.items in the schedule schema',
      async run() {
        const answer = await getSchedule();
        const fault = shapeFault(answer, 200);
        if (fault !== undefined) return fail(fault, answer.exchange);
        const checked = validateSchedule(answer.json);
        if (!checked.ok) return fail(`not the schedule schema: ${checked.violations.slice(0, 5).map((v) => `${v.path || '/'} ${v.message}`).join('; ')}`, answer.exchange);
        // and the gateway's own reconciliation reads it
        try {
          await adapter.reconciliation?.fetchSchedule(beijingDate(now()).replace(/-/g, ''));
        } catch (error) {
          return fail(`the gateway's reconciliation could not read it: ${(error as Error).message}`, answer.exchange);
        }
        return pass(`${checked.value.Data.items.length} item(s)`, answer.exchange);
      },
    },
    refused401('schedule-wrong-signature', 'a GET /schedule whose TOKEN does not match is refused 401', () => getSchedule({ secret: `not-the-secret-${uuid()}` })),
  ];
}
