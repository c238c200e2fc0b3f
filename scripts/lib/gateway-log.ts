/**
 * The gateway's log lines as a person trying it at a terminal wants them: every
 * JSON line kept in a file under .data/logs, the warnings and errors told in
 * plain words beside the launcher's narrative. The lines are masked by the
 * gateway's logger already (kernel/logger.ts); nothing here unmasks them.
 */
import type { ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, readdirSync, rmSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

/** Runs whose log files are kept: older ones are removed when a trial starts. */
export const KEPT_LOG_FILES = 10;

/** Fields a plain line shows first, under these words; then others, up to MAX_FIELDS. */
const FIRST_FIELDS: readonly (readonly [string, string])[] = [
  ['correlationId', 'correlation'],
  ['partner', 'partner'],
  ['operation', 'operation'],
  ['queue', 'queue'],
  ['code', 'code'],
  ['status', 'status'],
  ['reason', 'reason'],
  ['error', 'error'],
  ['cause', 'cause'],
];
/** Not worth a person's attention in one line: when, how loud, which service, a stack. */
const LEFT_OUT = new Set(['timestamp', 'level', 'message', 'service', 'stack']);
const MAX_FIELDS = 6;
const MAX_VALUE = 160;

/** A partner's bytes can reach a log field: no escape sequence reaches the terminal. */
function printable(text: string): string {
  // eslint-disable-next-line no-control-regex
  const clean = text.replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ');
  return clean.length > MAX_VALUE ? `${clean.slice(0, MAX_VALUE - 1)}…` : clean;
}

function plainValue(value: unknown): string {
  if (typeof value === 'string') return printable(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value) && value.every((item) => typeof item !== 'object' || item === null)) return printable(value.join(','));
  // an Error reaches the JSON as {name, message} (kernel/pii.ts)
  if (typeof value === 'object' && value !== null && typeof (value as { message?: unknown }).message === 'string') return printable((value as { message: string }).message);
  return printable(JSON.stringify(value) ?? '');
}

export interface GatewayLine {
  /** a JSON log line: it belongs in the log file */
  json: boolean;
  /** what the terminal shows of it, if anything */
  shown: string | undefined;
}

/**
 * One line the gateway wrote. A warning or an error is shown as
 * `[gateway] warning: <message> — correlation <id>, partner <p>, code <c>, …`;
 * other levels only go to the file. A line that is not JSON (Node's own
 * warnings, a configuration error, a crash) is shown as it is.
 */
export function readGatewayLine(line: string): GatewayLine {
  let record: unknown;
  try {
    record = JSON.parse(line);
  } catch {
    return { json: false, shown: line.trim() === '' ? undefined : `[gateway] ${printable(line)}` };
  }
  if (typeof record !== 'object' || record === null || Array.isArray(record)) return { json: false, shown: `[gateway] ${printable(line)}` };
  const fields = record as Record<string, unknown>;
  const level = fields['level'];
  if (level !== 'warn' && level !== 'error') return { json: true, shown: undefined };
  const words: string[] = [];
  const said = new Set<string>();
  for (const [key, label] of FIRST_FIELDS) {
    if (fields[key] === undefined || fields[key] === null || fields[key] === '') continue;
    words.push(`${label} ${plainValue(fields[key])}`);
    said.add(key);
  }
  for (const [key, value] of Object.entries(fields)) {
    if (said.has(key) || LEFT_OUT.has(key) || value === undefined || value === null || value === '') continue;
    words.push(`${printable(key)} ${plainValue(value)}`);
  }
  const message = printable(typeof fields['message'] === 'string' ? fields['message'] : '(no message)');
  const details = words.slice(0, MAX_FIELDS).join(', ');
  return { json: true, shown: `[gateway] ${level === 'warn' ? 'warning' : 'ERROR'}: ${message}${details ? ` — ${details}` : ''}` };
}

/** The file a trial writes the gateway's JSON log lines to, named by the time it started (UTC). */
export function gatewayLogPath(logDir: string, startedAt: Date): string {
  return join(logDir, `gateway-${startedAt.toISOString().replace(/\.\d+Z$/, 'Z').replace(/:/g, '-')}.jsonl`);
}

/**
 * Takes over a gateway child's stdout and stderr (forked with both piped):
 * JSON lines to `path`, what a person should see to `show`. `closed()` resolves
 * once the child's streams ended and the file is flushed.
 */
export class GatewayLogFile {
  readonly path: string;
  private readonly file: WriteStream;
  private readonly ended: Promise<void>[] = [];

  constructor(path: string) {
    this.path = path;
    mkdirSync(join(path, '..'), { recursive: true });
    // earlier trials' files beyond the last few go: a trial left running for days is not a log archive
    const logDir = join(path, '..');
    const earlier = readdirSync(logDir).filter((name) => /^gateway-.*\.jsonl$/.test(name)).sort();
    for (const name of earlier.slice(0, Math.max(0, earlier.length - (KEPT_LOG_FILES - 1)))) rmSync(join(logDir, name), { force: true });
    this.file = createWriteStream(path, { flags: 'a', mode: 0o600 });
  }

  attach(child: ChildProcess, show: (line: string) => void): void {
    for (const stream of [child.stdout, child.stderr]) {
      if (!stream) continue;
      const lines = createInterface({ input: stream, crlfDelay: Infinity });
      lines.on('line', (line) => {
        const read = readGatewayLine(line);
        if (read.json) this.file.write(`${line}\n`);
        if (read.shown !== undefined) show(read.shown);
      });
      this.ended.push(new Promise((resolve) => lines.once('close', () => resolve())));
    }
  }

  async closed(): Promise<void> {
    await Promise.all(this.ended);
    await new Promise<void>((resolve) => this.file.end(() => resolve()));
  }
}
