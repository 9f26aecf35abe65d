// One run analysed with the timeline watching its replay, for the commands that show a timeline
// (timeline, convert --to chrome-trace): shared here, since no command imports another.
import { analyzeRun, type AnalyzeOptions, type RunSpec } from '../replay/run.js';
import { TimelineCollector, type CollectOptions } from '../timeline/collect.js';
import type { TimelineData } from '../timeline/types.js';
import type { RunResult } from '../types.js';

/** One run analysed with the timeline watching its replay: the result, and what the timeline kept of it. */
export async function analyzeWithTimeline(spec: RunSpec, opts: AnalyzeOptions, collect: CollectOptions): Promise<{ run: RunResult; data: TimelineData }> {
  const collector = new TimelineCollector(collect);
  const run = await analyzeRun(spec, { ...opts, observers: [...(opts.observers ?? []), collector] });
  return { run, data: collector.finish(run) };
}
