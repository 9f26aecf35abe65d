// A test suite's log has one timeline per test: each test's source and target are replayed as a
// migration of their own (replay/tests.ts), so each gets its own collector, and its section shows
// that test's result. One timeline across the tests would lay threads of different QEMUs (and,
// without thread ids, the same stand-in threads of every test) on the same lanes.
import type { TestWatch } from '../replay/tests.js';
import type { RunResult } from '../types.js';
import type { TimelineCollector } from './collect.js';
import type { TimelineData } from './types.js';

export interface TestSection {
  test: string;
  run: RunResult;
  data: TimelineData;
}

export class TestTimelines {
  readonly sections: TestSection[] = [];
  /** `shape`: the test's result as the report shows it (check's --select/--ignore), before the timeline marks its findings. */
  constructor(
    private readonly collector: () => TimelineCollector,
    private readonly shape: (run: RunResult) => RunResult = (run) => run,
  ) {}

  /** For analyzeSpec's `perTest`: a collector per test, finished on the test's own result. */
  readonly watch = (test: string): TestWatch => {
    const c = this.collector();
    return {
      observers: [c],
      done: (result) => {
        const run = this.shape(result);
        this.sections.push({ test, run, data: c.finish(run) });
      },
    };
  };
}
