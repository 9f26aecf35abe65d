// The HTML report file, shared by `check --html` and `timeline --html`: each run with the timeline
// its replay collected, rendered by report/html.ts into one self-contained file.
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { renderHtmlReport, type HtmlRun } from '../report/html.js';
import type { TimelineData } from '../timeline/types.js';
import type { Report } from '../types.js';
import { UsageError } from './errors.js';

/**
 * Writes the HTML report of every run in `report` to `file` (for `check --html FILE`), each with
 * the timeline its replay collected (`timelines`, index for index; a suite's log as its tests,
 * each with its own timeline: `tests`, index for index). Throws UsageError when the file cannot
 * be written.
 */
export async function writeHtmlReport(report: Report, timelines: readonly TimelineData[], file: string, tests: ReadonlyArray<readonly HtmlRun[] | undefined> = []): Promise<void> {
  const runs: HtmlRun[] = report.runs.flatMap((run, i) => (tests[i]?.length ? [...tests[i]!] : [{ run, data: timelines[i] as TimelineData }]));
  await writeHtmlFile(file, renderHtmlReport(report, runs));
}

export async function writeHtmlFile(file: string, html: string): Promise<void> {
  try {
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, html);
  } catch (e) {
    throw new UsageError(`--html ${file}: cannot write: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}
