// Where one invocation of the CLI writes, reads its environment, and leaves its exit code. The
// bin script passes the process's own; tests pass buffers and run many invocations in one process
// (at once, too), so each invocation's io is found through async context, not a global.
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Writable } from 'node:stream';
import type { AsciiStyle } from '../report/ascii.js';

/** A stream the CLI writes to; isTTY and columns as on process.stdout/stderr. */
export type CliWritable = Writable & { isTTY?: boolean; columns?: number };

export interface CliIo {
  stdout: CliWritable;
  stderr: CliWritable;
  env: NodeJS.ProcessEnv;
  /** chalk's colour level before --color/--no-color; default: what chalk detected for this process. */
  colorLevel?: 0 | 1 | 2 | 3;
}

/** What output.ts keeps for one invocation: --ascii, and whether stdout's reader went away. */
export interface OutputState {
  ascii: AsciiStyle | null;
  stdoutClosed: boolean;
}

interface Invocation {
  io: CliIo;
  argv: readonly string[];
  exitCode: number;
  output: OutputState;
}

const current = new AsyncLocalStorage<Invocation>();

export function processIo(): CliIo {
  return { stdout: process.stdout, stderr: process.stderr, env: process.env };
}

/** Runs `fn` as one invocation with `argv` and `io`; resolves with the exit code it set (default 0). */
export async function invoke(argv: readonly string[], io: CliIo, fn: () => Promise<void>): Promise<number> {
  const inv: Invocation = { io, argv, exitCode: 0, output: { ascii: null, stdoutClosed: false } };
  await current.run(inv, fn);
  return inv.exitCode;
}

/** The io of the invocation this code runs in (the process's own outside one). */
export function cliIo(): CliIo {
  return current.getStore()?.io ?? processIo();
}

/** The arguments of the invocation this code runs in (after the node and script names). */
export function cliArgv(): readonly string[] {
  return current.getStore()?.argv ?? process.argv.slice(2);
}

const processOutput: OutputState = { ascii: null, stdoutClosed: false };

/** The output state of the invocation this code runs in (the process's own outside one). */
export function outputState(): OutputState {
  return current.getStore()?.output ?? processOutput;
}

/** Sets the exit code of the invocation this code runs in. */
export function setExitCode(code: number): void {
  const inv = current.getStore();
  if (inv) inv.exitCode = code;
  else process.exitCode = code;
}
