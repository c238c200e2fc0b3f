/* global HTMLSelectElement, HTMLTextAreaElement */
// The message lab (接入调试): an operator pastes one raw partner request and sees
// every check the gateway would make, step by step; nothing is recorded or queued.
import * as api from '../api.js';
import { badge, h, replace, time } from '../dom.js';
import { partnerName, tr } from '../i18n.js';
import { describeError } from '../ui.js';

/**
 * @typedef {object} LabStep
 * @property {string} name
 * @property {'pass' | 'fail' | 'skipped'} status
 * @property {string} summary
 * @property {{ label: string, value: string }[]} details
 * @property {{ path: string, message: string }[]} [violations]
 */
/** @typedef {{ partner: string, operation: string, passed: boolean, steps: LabStep[] }} LabResult */
/** @typedef {{ partners: { id: string, operations: string[] }[], runsPerMinute: number }} LabMeta */
/** @typedef {{ request: { id: string, partner: string, operation: string, at: string, raw: string }, result: LabResult }} RefusedRun */

/** @type {Record<string, [string, string]>} */
const STEP_NAMES = {
  parse: ['解析（UTF-8 与 JSON）', 'Parsing (UTF-8 and JSON)'],
  schema: ['报文格式（Schema）', 'Schema'],
  signature: ['签名', 'Signature'],
  clock: ['时间窗口', 'Clock window'],
  rules: ['业务规则', 'Business rules'],
  idempotency: ['重复或冲突', 'Repeat or conflict'],
};

/** @param {string} name */
function stepName(name) {
  const names = STEP_NAMES[name];
  return names ? tr(names[0], names[1]) : name;
}

/** @param {LabStep['status']} status */
function statusBadge(status) {
  return badge(status === 'pass' ? 'green' : status === 'fail' ? 'red' : 'neutral', status === 'pass' ? tr('通过', 'pass') : status === 'fail' ? tr('未通过', 'fail') : tr('跳过', 'skipped'), 'lab-step-status');
}

/** @param {LabResult} result */
function resultView(result) {
  return h(
    'div',
    { class: 'stack', testid: 'lab-result', dataset: { passed: String(result.passed) } },
    h('p', { testid: 'lab-verdict' }, result.passed ? tr('全部检查通过：网关会接收此请求。', 'Every check passes: the gateway would accept this request.') : tr('有检查未通过：网关会拒绝此请求。', 'Some checks fail: the gateway would refuse this request.')),
    result.steps.map((step) =>
      h(
        'section',
        { class: 'panel', testid: 'lab-step', dataset: { step: step.name, status: step.status } },
        h('h3', null, statusBadge(step.status), ' ', stepName(step.name)),
        h('p', { testid: 'lab-step-summary' }, step.summary),
        step.details.length === 0
          ? null
          : h(
              'dl',
              { class: 'kv' },
              step.details.flatMap((detail) => [h('dt', null, detail.label), h('dd', { class: 'mono small' }, detail.value)]),
            ),
        (step.violations ?? []).length === 0 ? null : h('ul', { testid: 'lab-violations' }, (step.violations ?? []).map((violation) => h('li', { class: 'mono small' }, `${violation.path || '/'}: ${violation.message}`))),
      ),
    ),
  );
}

/** @param {import('../app.js').ViewContext} context */
export async function render(context) {
  const meta = /** @type {LabMeta} */ (await api.get('/ops/api/lab'));
  if (!context.shown()) return;
  const wantedPartner = context.query.get('partner') ?? '';
  const fromEvent = context.query.get('requestId');
  // a security event whose request the gateway kept: it is opened and checked at once, on its exact bytes
  const refusedId = context.query.get('refused');
  const partnerSelect = h('select', { id: 'lab-partner', testid: 'lab-partner' }, meta.partners.map((partner) => h('option', { value: partner.id, selected: partner.id === wantedPartner }, partnerName(partner.id))));
  const operationSelect = h('select', { id: 'lab-operation', testid: 'lab-operation' });
  const fillOperations = () => {
    if (!(partnerSelect instanceof HTMLSelectElement)) return;
    const partner = meta.partners.find((candidate) => candidate.id === partnerSelect.value);
    replace(operationSelect, (partner?.operations ?? []).map((operation) => h('option', { value: operation }, operation)));
  };
  partnerSelect.addEventListener('change', fillOperations);
  fillOperations();
  const raw = h('textarea', {
    id: 'lab-raw',
    rows: 16,
    class: 'mono',
    testid: 'lab-raw',
    spellcheck: 'false',
    placeholder: tr('粘贴原始请求：请求头、空行、请求体；或只粘贴 JSON 请求体', 'Paste the raw request: headers, a blank line, the body; or the JSON body alone'),
  });
  const output = h('div', { testid: 'lab-output' });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary', testid: 'lab-submit' }, tr('检查', 'Check'));
  const form = h(
    'form',
    {
      class: 'form-grid',
      testid: 'lab-form',
      onsubmit: (/** @type {SubmitEvent} */ event) => {
        event.preventDefault();
        if (!(partnerSelect instanceof HTMLSelectElement) || !(operationSelect instanceof HTMLSelectElement) || !(raw instanceof HTMLTextAreaElement)) return;
        submit.setAttribute('disabled', '');
        api
          .post('/ops/api/lab', { partner: partnerSelect.value, operation: operationSelect.value, raw: raw.value })
          .then((result) => replace(output, resultView(/** @type {LabResult} */ (result))))
          .catch((/** @type {unknown} */ error) => replace(output, h('p', { class: 'form-error', role: 'alert', testid: 'lab-error' }, describeError(error))))
          .finally(() => submit.removeAttribute('disabled'));
      },
    },
    h('label', { class: 'field', for: 'lab-partner' }, h('span', { class: 'field-label' }, tr('合作方', 'Partner')), partnerSelect),
    h('label', { class: 'field', for: 'lab-operation' }, h('span', { class: 'field-label' }, tr('接口', 'Interface')), operationSelect),
    h('label', { class: 'field field-wide', for: 'lab-raw' }, h('span', { class: 'field-label' }, tr('原始请求', 'Raw request')), raw),
    h('div', { class: 'field field-end' }, submit),
  );
  const code = context.query.get('code') ?? '';
  const fromEventNote = h(
    'p',
    { class: 'panel', testid: 'lab-from-event', dataset: { kept: String(Boolean(refusedId)) } },
    refusedId
      ? tr(`来自安全事件 ${fromEvent ?? ''}（${code}）：正在打开网关保存的被拒请求…`, `From security event ${fromEvent ?? ''} (${code}): opening the refused request the gateway kept…`)
      : tr(
          `来自安全事件 ${fromEvent ?? ''}（${code}）：网关未保存这条请求的原文（只保存被拒的请求，限流和超长的除外），请向合作方索取原始请求后粘贴到下方。`,
          `From security event ${fromEvent ?? ''} (${code}): the gateway did not keep this request (it keeps refused ones only, not rate-limited or oversized ones), so ask the partner for the raw request and paste it below.`,
        ),
  );
  replace(
    context.root,
    h(
      'div',
      { class: 'page-head' },
      h('h1', null, tr('接入调试', 'Message lab')),
      h('span', { class: 'muted' }, tr(`逐步检查一条请求，不记录、不入队；每次使用都记入审计日志（每分钟至多 ${meta.runsPerMinute} 次）。`, `Checks one request step by step, recording and queueing nothing; every use is audited (at most ${meta.runsPerMinute} a minute).`)),
    ),
    fromEvent || refusedId ? fromEventNote : null,
    h('section', { class: 'panel' }, form),
    output,
  );
  if (!refusedId) return;
  try {
    const opened = /** @type {RefusedRun} */ (await api.post('/ops/api/lab/refused', { partner: wantedPartner, id: refusedId }));
    if (!context.shown() || !(partnerSelect instanceof HTMLSelectElement) || !(operationSelect instanceof HTMLSelectElement) || !(raw instanceof HTMLTextAreaElement)) return;
    partnerSelect.value = opened.request.partner;
    fillOperations();
    operationSelect.value = opened.request.operation;
    raw.value = opened.request.raw;
    replace(
      fromEventNote,
      tr(
        `来自安全事件 ${fromEvent ?? ''}（${code}）：下方是网关在 ${time(opened.request.at)} 拒绝的原始请求（加密保存），检查结果针对其原始字节。修改后可再次检查。`,
        `From security event ${fromEvent ?? ''} (${code}): below is the raw request the gateway refused at ${time(opened.request.at)} (kept sealed); the checks ran on its exact bytes. Edit it to check again.`,
      ),
    );
    replace(output, resultView(opened.result));
  } catch (error) {
    if (!context.shown()) return;
    fromEventNote.dataset['kept'] = 'false';
    const gone = error instanceof api.ApiError && error.status === 404;
    replace(
      fromEventNote,
      h(
        'span',
        { role: 'alert', testid: gone ? 'lab-refused-gone' : 'lab-error' },
        gone
          ? tr(
              `来自安全事件 ${fromEvent ?? ''}（${code}）：这条被拒请求已不再保留（已被更新的被拒请求替换或超过保留期），无法打开。请向合作方索取原始请求后粘贴到下方。`,
              `From security event ${fromEvent ?? ''} (${code}): this refused request is no longer kept (newer refusals replaced it, or it outlived its days), so it cannot be opened. Ask the partner for the raw request and paste it below.`,
            )
          : describeError(error),
      ),
    );
  }
}
