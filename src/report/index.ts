// One reporter per format (as knip does): each is a pure function of the report to a string. The
// caller (cli/commands/check.ts) does all IO: stdout, side files, $GITHUB_STEP_SUMMARY.
import type { Report } from '../types.js';
import { renderGithub } from './github.js';
import { renderJson } from './json.js';
import { renderJunit } from './junit.js';
import { renderSarif } from './sarif.js';
import { renderText } from './text.js';

export interface RenderOptions {
  verbose: boolean;
  /** Directory that file paths in SARIF, JUnit and annotations are made relative to. */
  cwd?: string;
}

export const REPORTERS = {
  text: (r: Report, o: RenderOptions) => renderText(r, o),
  json: (r: Report) => renderJson(r),
  sarif: (r: Report, o: RenderOptions) => renderSarif(r, { cwd: o.cwd }),
  junit: (r: Report, o: RenderOptions) => renderJunit(r, { cwd: o.cwd }),
  github: (r: Report, o: RenderOptions) => renderGithub(r, { cwd: o.cwd }),
} satisfies Record<string, (r: Report, o: RenderOptions) => string>;

export type Format = keyof typeof REPORTERS;
export const FORMATS = Object.keys(REPORTERS) as Format[];

export { renderMarkdownSummary } from './markdown.js';
