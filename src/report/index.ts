// One reporter per format (as knip does): each is a pure function of the report to a string, and
// the same text in pieces (PIECES) for a report written as a stream. The caller
// (cli/commands/check.ts) does all IO: stdout, side files, $GITHUB_STEP_SUMMARY.
import type { EpisodeResult, Report, RunResult } from '../types.js';
import { renderGithub } from './github.js';
import { renderJson, renderJsonPieces } from './json.js';
import { renderJunit } from './junit.js';
import { renderSarif, renderSarifPieces } from './sarif.js';
import { renderText, renderTextPieces } from './text.js';

export interface RenderOptions {
  verbose: boolean;
  /** Directory that file paths in SARIF, JUnit and annotations are made relative to. */
  cwd?: string;
  /** A run's migrations read back one at a time (a streamed report) instead of its `episodes`. */
  episodesOf?: (run: RunResult) => Iterable<EpisodeResult> | undefined;
}

export const REPORTERS = {
  text: (r: Report, o: RenderOptions) => renderText(r, o),
  json: (r: Report) => renderJson(r),
  sarif: (r: Report, o: RenderOptions) => renderSarif(r, { cwd: o.cwd }),
  junit: (r: Report, o: RenderOptions) => renderJunit(r, { cwd: o.cwd }),
  github: (r: Report, o: RenderOptions) => renderGithub(r, { cwd: o.cwd }),
} satisfies Record<string, (r: Report, o: RenderOptions) => string>;

/**
 * Each format's text in pieces, the same as REPORTERS' to the byte: text a line at a time, JSON
 * and SARIF an entry at a time. JUnit and annotations have nothing per migration: one piece.
 */
export const PIECES = {
  text: (r: Report, o: RenderOptions) => renderTextPieces(r, o),
  json: (r: Report, o: RenderOptions) => renderJsonPieces(r, o.episodesOf),
  sarif: (r: Report, o: RenderOptions) => renderSarifPieces(r, { cwd: o.cwd }),
  junit: (r: Report, o: RenderOptions) => [renderJunit(r, { cwd: o.cwd })],
  github: (r: Report, o: RenderOptions) => [renderGithub(r, { cwd: o.cwd })],
} satisfies Record<keyof typeof REPORTERS, (r: Report, o: RenderOptions) => Iterable<string>>;

export type Format = keyof typeof REPORTERS;
export const FORMATS = Object.keys(REPORTERS) as Format[];

export { renderMarkdownSummary } from './markdown.js';
