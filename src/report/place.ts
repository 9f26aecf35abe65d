// Where a location is, as every report prints it: `file:line` for a text trace; a binary trace (the
// simple backend) has numbered records, not lines, so it is `file record N`.
import type { Location, RunResult } from '../types.js';

/** The run's inputs that are binary (their locations count records). */
export function binaryInputs(run: Pick<RunResult, 'inputs'>): ReadonlySet<string> {
  return new Set(run.inputs.filter((i) => i.format === 'simple').map((i) => i.path));
}

/** `file:line`, or `file record N`; `shown` is the path as this report prints it (e.g. relative). */
export function placeOf(l: Location, binary: ReadonlySet<string>, shown: string = l.file): string {
  return binary.has(l.file) ? `${shown} record ${l.line}` : `${shown}:${l.line}`;
}
