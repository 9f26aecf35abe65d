// One run of a `check DIR` batch, as both the batch's worker threads and its own thread analyse
// it (batch.ts, batch-worker.ts): the same options, the same result, with --html the timelines.
import type { Catalog } from '../model/catalog.js';
import type { RunSpec } from '../assembly/types.js';
import { analyzeSpec } from '../replay/tests.js';
import { selectRules } from './select.js';
import { htmlCollector, testHtmlCollector } from '../timeline/limits.js';
import { TestTimelines, type TestSection } from '../timeline/tests.js';
import { RULES } from '../rules/index.js';
import type { RunResult } from '../types.js';
import type { TimelineData } from '../timeline/types.js';

export interface BatchSetup {
  catalog: string[];
  stuckAfterMs: number;
  maxUnparsedSamples: number;
  traceEvents?: string;
  /** --html: collect each run's timeline, marking the findings of these rules. */
  timelineRules?: string[];
}

export interface BatchRunOutcome {
  result: RunResult;
  timeline?: TimelineData;
  /** A suite's log with --html: the timeline of each of its tests. */
  tests?: TestSection[];
}

export async function analyzeOne(setup: BatchSetup, catalog: Catalog, spec: RunSpec): Promise<BatchRunOutcome> {
  const collector = setup.timelineRules ? htmlCollector(true) : undefined; // a batch is several runs
  // A suite's log: a timeline per test, its findings as the report keeps them.
  const tests = setup.timelineRules ? new TestTimelines(testHtmlCollector, (r) => selectRules(r, new Set(setup.timelineRules))) : undefined;
  const result = await analyzeSpec(spec, {
    rules: RULES,
    catalog,
    ...(collector && tests ? { observers: [collector], perTest: tests.watch } : {}),
    stuckAfterMs: setup.stuckAfterMs,
    maxUnparsedSamples: setup.maxUnparsedSamples,
    readers: 'inline', // the batch already keeps every core busy, one run per thread
    ...(setup.traceEvents ? { traceEvents: setup.traceEvents } : {}),
  });
  const timeline = collector?.finish(selectRules(result, new Set(setup.timelineRules)));
  return { result, ...(timeline ? { timeline } : {}), ...(tests?.sections.length ? { tests: tests.sections } : {}) };
}
