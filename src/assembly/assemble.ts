// Turns a run as given (files, sides the user named) into inputs the replay can use: each input's
// format (detected, or forced), and its side, decided in this order:
//   1. named by the user (--src/--dst);
//   2. from its events: catalog events only one side logs (model/side.ts). A stream of both
//      processes (a CI job log) gets a side per thread instead;
//   3. from its name (src*, source*, dst*, dest*): a run whose migration never started logs
//      nothing side-specific, and its files are still src.log and dst.log;
//   4. the one input left beside one decided input is the other side;
//   5. otherwise an input error that names the file (or, for `convert`, which only labels records
//      with their side, the side left unknown: `undecided: 'keep'`).
// A per-thread file (`-d tid -D dir/t-%d.log`, the TID from its name) is one thread of one process.
// CI jobs give the same pattern to both processes, so each file gets its own side from its own
// events; a file that logs nothing side-specific (an I/O thread that only accepted a socket) is
// still read, its thread left unassigned, and listed with its line count.
// Any number of processes per side are allowed: a source migrated to a fresh destination after a
// failed attempt leaves one source and two destination logs.
import { basename, dirname } from 'node:path';
import { detectFormat, formatByName, InputError, notRecognised, withFormatOptions, type DetectedFormat, type TraceFormat } from '../ingest/trace-input.js';
import type { Catalog } from '../model/catalog.js';
import type { RunInput, Side } from '../types.js';
import { sideFromName } from './names.js';
import { inferSide, type SideGuess } from './sides.js';
import type { AssembledRun, RunSpec, RunSpecInput } from './types.js';

const SIDE_WORD: Record<Side, string> = { src: 'source', dst: 'destination' };

export async function assembleRun(spec: RunSpec, catalog: Catalog, traceEvents?: string, opts: { undecided?: 'refuse' | 'keep' } = {}): Promise<AssembledRun> {
  const out: RunInput[] = [];
  const formats: TraceFormat[] = [];
  const tidSides: AssembledRun['tidSides'] = [];
  const guesses: Array<SideGuess | undefined> = [];
  for (const inp of spec.inputs) {
    const detected: DetectedFormat = inp.format ? formatByName(inp.format) : await detectFormat(inp.path);
    formats.push(withFormatOptions(detected, { traceEvents, tid: inp.tid }));
    if (inp.side) {
      out.push({ path: inp.path, side: inp.side, sideEvidence: 'forced (--src/--dst)', format: detected.name });
      tidSides.push(undefined);
      guesses.push(undefined);
      continue;
    }
    // Scanned without the file name's TID, to see whether the lines carry thread ids of their own.
    const guess = await inferSide(inp.path, withFormatOptions(detected, { traceEvents }), catalog);
    if ('fallback' in detected && guess.events === 0) throw notRecognised(inp.path, detected.firstLine);
    out.push({ path: inp.path, side: guess.side, sideEvidence: guess.why, format: detected.name, ...(guess.tidSides ? { mixed: true } : {}) });
    tidSides.push(guess.tidSides);
    guesses.push(guess);
  }
  refuseTwice(spec.inputs, guesses);
  const notes: string[] = [];
  const perThread = spec.inputs.map((inp, i) => isPerThread(inp, guesses[i]));
  for (const [i, inp] of spec.inputs.entries()) {
    const o = out[i]!;
    const guess = guesses[i];
    if (!guess || o.mixed) continue;
    const named = inp.path === '-' ? null : sideFromName(inp.path);
    if (o.side !== null) {
      if (named && named !== o.side) notes.push(`${inp.path}: named like a ${SIDE_WORD[named]} trace, but its events are the ${SIDE_WORD[o.side]}'s (${o.sideEvidence}): read as the ${SIDE_WORD[o.side]}`);
      if (perThread[i]) o.sideEvidence = `thread ${inp.tid} (per-thread file): ${o.sideEvidence}`;
    } else if (named && guess.events > 0) {
      // (An empty file is no process at all: it is decided below, beside the others, or refused.)
      o.side = named;
      o.sideEvidence = `from its name (${basename(inp.path)}); its events cannot tell (${o.sideEvidence})`;
    } else if (perThread[i]) {
      // One thread of either process: read, its side learnt from a later event if it logs one.
      o.sideEvidence = `thread ${inp.tid} (per-thread file): side unknown (${o.sideEvidence})`;
      tidSides[i] = new Map();
    }
  }
  decideTheRest(out, perThread, opts.undecided ?? 'refuse');
  notes.push(...perThreadNotes(spec.inputs, out, guesses, perThread), ...processNotes(out, perThread));
  return { inputs: out, formats, tidSides, notes };
}

/** A per-thread file whose own lines carry another thread id is a whole process's log after all (`dst-1.log`, `dst-2.log`). */
function isPerThread(inp: RunSpecInput, guess: SideGuess | undefined): boolean {
  if (inp.tid === undefined) return false;
  return !guess || [...guess.ownTids].every((t) => t === inp.tid);
}

/**
 * The same process given twice (a folder holding src.log and a copy of it, or combined.log beside
 * the src.log and dst.log it was made from) would count every event twice: an input error, naming
 * both. Two inputs are the same when the first timed events of one (at least 3, to the
 * microsecond, with their names) are all among the events read from the head of the other.
 */
function refuseTwice(inputs: RunSpecInput[], guesses: Array<SideGuess | undefined>): void {
  const within = (a: SideGuess, b: SideGuess) => a.sample.length >= 3 && a.sample.every((k) => b.seen.has(k));
  for (let i = 0; i < inputs.length; i++) {
    for (let j = i + 1; j < inputs.length; j++) {
      const a = guesses[i];
      const b = guesses[j];
      if (!a || !b || inputs[i]!.tid !== undefined || inputs[j]!.tid !== undefined) continue;
      if (within(a, b) || within(b, a)) {
        throw new InputError(`${inputs[i]!.path} and ${inputs[j]!.path} hold the same events (from ${(within(a, b) ? a : b).sample[0]}): the same process given twice; give only one of them`);
      }
    }
  }
}

/** Steps 4 and 5: the one input left beside one decided one is the other side; else the user must say. */
function decideTheRest(out: RunInput[], perThread: boolean[], undecidedLeft: 'refuse' | 'keep'): void {
  const undecided = out.filter((o, i) => o.side === null && !o.mixed && !perThread[i]);
  if (undecided.length === 0) return;
  const decided = out.filter((o) => o.side !== null);
  if (undecided.length === 1 && decided.length === 1) {
    const other: Side = decided[0]!.side === 'src' ? 'dst' : 'src';
    undecided[0]!.side = other;
    undecided[0]!.sideEvidence = `the other input is the ${decided[0]!.side} (${undecided[0]!.sideEvidence})`;
    return;
  }
  if (undecidedLeft === 'keep') return;
  const u = undecided[0]!;
  const hint = u.path !== '-' && sideFromName(u.path) === null ? ', or name the file src.* or dst.*' : '';
  throw new InputError(`${u.path}: cannot tell whether this is the source or the destination trace (${u.sideEvidence}); name it with --src ${u.path} or --dst ${u.path}${hint}`);
}

/** One note per per-thread pattern: how many threads went to each side, and the files whose side is unknown, with their line counts. */
function perThreadNotes(inputs: RunSpecInput[], out: RunInput[], guesses: Array<SideGuess | undefined>, perThread: boolean[]): string[] {
  const groups = new Map<string, number[]>();
  inputs.forEach((inp, i) => {
    if (!perThread[i]) return;
    const g = inp.group ?? dirname(inp.path);
    groups.set(g, [...(groups.get(g) ?? []), i]);
  });
  const notes: string[] = [];
  for (const [group, idx] of groups) {
    const count = (s: Side) => idx.filter((i) => out[i]!.side === s).length;
    const unknown = idx.filter((i) => out[i]!.side === null);
    const lines = (i: number) => `${guesses[i]?.lines ?? '?'}${guesses[i]?.complete === false ? '+' : ''} line${guesses[i]?.lines === 1 ? '' : 's'}`;
    const parts = [`${count('src')} source thread${count('src') === 1 ? '' : 's'}`, `${count('dst')} destination thread${count('dst') === 1 ? '' : 's'}`];
    notes.push(
      `${group}: ${idx.length} per-thread files: ${parts.join(', ')}, told apart by the events only one side logs` +
        (unknown.length
          ? `; ${unknown.length} thread${unknown.length === 1 ? '' : 's'} logged nothing side-specific and ${unknown.length === 1 ? 'is' : 'are'} read with no side: ${unknown.map((i) => `${basename(inputs[i]!.path)} (${lines(i)})`).join(', ')}`
          : ''),
    );
  }
  return notes;
}

/** Several processes of one side (a source migrated twice): said, so two unrelated files given together do not pass unnoticed. */
function processNotes(out: RunInput[], perThread: boolean[]): string[] {
  const notes: string[] = [];
  for (const side of ['src', 'dst'] as const) {
    const files = out.filter((o, i) => o.side === side && !perThread[i] && !o.mixed);
    if (files.length > 1) notes.push(`${files.length} ${SIDE_WORD[side]} processes, one per file (${files.map((f) => f.path).join(', ')}): each migration is analysed on its own`);
  }
  return notes;
}
