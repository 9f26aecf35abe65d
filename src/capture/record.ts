// What a capture writes down as it goes: every step with its time (meta.json `steps`), every QMP
// message (qmp-<side>.jsonl), and errors in plain words. Written incrementally so that even a
// capture killed half-way leaves its transcript behind.
import { appendFileSync, writeFileSync } from 'node:fs';
import type { Direction, QmpMessage } from './qmp.js';
import type { Side } from './types.js';

export type Step = { kind: string; t: number; t_rel: number } & Record<string, unknown>;

export class Recorder {
  readonly t0 = Date.now() / 1000;
  readonly steps: Step[] = [];
  readonly errors: string[] = [];
  readonly notes: string[] = [];

  constructor(private readonly progress?: (line: string) => void) {}

  now(): number {
    return Date.now() / 1000;
  }

  rel(t = this.now()): number {
    return Math.round((t - this.t0) * 1000) / 1000;
  }

  step(kind: string, fields: Record<string, unknown> = {}): Step {
    const t = this.now();
    const s: Step = { kind, ...fields, t, t_rel: this.rel(t) };
    this.steps.push(s);
    return s;
  }

  error(message: string): void {
    this.errors.push(message);
    this.progress?.(`error: ${message}`);
  }

  note(message: string): void {
    this.notes.push(message);
    this.progress?.(message);
  }

  say(message: string): void {
    this.progress?.(`[${this.rel().toFixed(2)}s] ${message}`);
  }
}

/** qmp-<side>.jsonl: `{t, side, dir, msg}` per line, the shared runs' format. */
export class Transcript {
  constructor(
    private readonly path: string,
    private readonly side: Side,
  ) {
    writeFileSync(path, '');
  }

  write(dir: Direction, msg: QmpMessage, t: number): void {
    appendFileSync(this.path, JSON.stringify({ t, side: this.side, dir, msg }) + '\n');
  }
}
