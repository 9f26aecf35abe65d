// --format json: the Report contract (src/types.ts), as is. Other tools read it: keep it stable.
// jsonPieces writes the same text in pieces, so a report of thousands of migrations is never one
// string: each run's episodes can come from a stream (a migration's entry read back at a time).
import type { EpisodeResult, Report, RunResult } from '../types.js';

export function renderJson(report: Report): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}

/** A run's migrations as a stream (read back one at a time) instead of its `episodes` array. */
export type EpisodesOf = (run: RunResult) => Iterable<EpisodeResult> | undefined;

/** renderJson's text, in pieces; each run's `episodes` taken from `episodesOf` where it gives them. */
export function* renderJsonPieces(report: Report, episodesOf?: EpisodesOf): Generator<string> {
  const runs = episodesOf ? report.runs.map((r) => withEpisodes(r, episodesOf(r))) : report.runs;
  yield* jsonPieces({ ...report, runs });
  yield '\n';
}

/** The run with `episodes` where the contract puts it (after `threads`), from a stream. */
export function withEpisodes(run: RunResult, episodes: Iterable<EpisodeResult> | undefined): RunResult {
  if (!episodes || run.episodes) return run;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(run)) {
    out[k] = v;
    if (k === 'threads') out.episodes = episodes;
  }
  return out as unknown as RunResult;
}

// Containers this shallow are written element by element (report, runs, a run, its arrays); each
// element below is one JSON.stringify, indented where it stands.
const SPLIT_DEPTH = 4;

/**
 * JSON.stringify(value, null, 2), in pieces: arrays and other iterables (a stream of entries) and
 * plain objects down to SPLIT_DEPTH are written element by element. Plain data only (no toJSON,
 * no Map or Set: an iterable here is written as an array).
 */
export function* jsonPieces(value: unknown, indent = '', depth = 0): Generator<string> {
  if (depth >= SPLIT_DEPTH || value === null || typeof value !== 'object') {
    yield leaf(value, indent);
    return;
  }
  const inner = `${indent}  `;
  if (Array.isArray(value) || Symbol.iterator in value) {
    let n = 0;
    for (const el of value as Iterable<unknown>) {
      yield `${n++ === 0 ? '[' : ','}\n${inner}`;
      // An element JSON cannot write (undefined, a function) is null in an array.
      if (el === undefined || typeof el === 'function' || typeof el === 'symbol') yield 'null';
      else yield* jsonPieces(el, inner, depth + 1);
    }
    yield n === 0 ? '[]' : `\n${indent}]`;
    return;
  }
  let n = 0;
  for (const [k, v] of Object.entries(value)) {
    if (v === undefined || typeof v === 'function' || typeof v === 'symbol') continue; // left out, as JSON.stringify does
    yield `${n++ === 0 ? '{' : ','}\n${inner}${JSON.stringify(k)}: `;
    yield* jsonPieces(v, inner, depth + 1);
  }
  yield n === 0 ? '{}' : `\n${indent}}`;
}

/** One JSON.stringify, its lines indented to where it stands (strings hold no raw newline). */
function leaf(value: unknown, indent: string): string {
  const s = JSON.stringify(value, null, 2);
  return indent ? s.replace(/\n/g, `\n${indent}`) : s;
}
