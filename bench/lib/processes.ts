/** Child processes of the bench, and what /proc says about them. */
import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface Child {
  name: string;
  process: ChildProcess;
  pid: number;
  /** the port an HTTP child reported, if any */
  port?: number;
}

/**
 * Forks a Node script with an IPC channel and waits for its first message of
 * one of `readyTypes` (`listening` carries the port).
 */
export async function startChild(name: string, script: string, env: Record<string, string>, options: { execArgv?: string[]; readyTypes?: string[]; timeoutMs?: number } = {}): Promise<Child> {
  const readyTypes = options.readyTypes ?? ['listening', 'ready'];
  const child = fork(script, [], {
    env,
    execArgv: options.execArgv ?? [],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    serialization: 'advanced',
  });
  return new Promise<Child>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${name} did not start within ${options.timeoutMs ?? 30_000} ms`));
    }, options.timeoutMs ?? 30_000);
    const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${code ?? signal}) before it was ready`));
    };
    const onMessage = (message: { type?: string; port?: number }) => {
      if (message.type === undefined || !readyTypes.includes(message.type)) return;
      clearTimeout(timer);
      child.off('exit', onExit);
      child.off('message', onMessage);
      const pid = child.pid;
      if (pid === undefined) {
        reject(new Error(`${name} has no pid`));
        return;
      }
      resolve({ name, process: child, pid, ...(message.port === undefined ? {} : { port: message.port }) });
    };
    child.once('exit', onExit);
    child.on('message', onMessage);
  });
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves when it has exited. */
export async function stopChild(child: Child | undefined, graceMs = 40_000): Promise<void> {
  if (!child) return;
  const { process: proc } = child;
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  proc.kill('SIGTERM');
  const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/** Resident set size in MiB, from /proc (0 once the process is gone). */
export function rssMb(pid: number): number {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match?.[1] ? Number(match[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

/** User plus system CPU seconds the process has used so far (clock ticks of 1/100 s). */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // the command name may hold spaces; fields resume after its closing parenthesis
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}
