// Runs many analyses on all cores: this thread and a small pool of worker threads
// (batch-worker.ts), results in the order of the runs, the first error rethrown as the error it
// was (an input error stays one). This thread takes runs too: each worker is a V8 isolate that
// loads and compiles the analysis anew, and this one has loaded it already (bench's four 32 MiB
// runs on two cores: two workers took 2.8-3.0 CPU s, this thread and one worker 2.4-2.6).
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { InputError } from '../ingest/trace-input.js';
import { CatalogError, loadCatalog } from '../model/catalog.js';
import type { RunSpec } from '../assembly/types.js';
import type { RunResult } from '../types.js';
import type { TestSection } from '../timeline/tests.js';
import type { TimelineData } from '../timeline/types.js';
import { UsageError } from './errors.js';
import { analyzeOne, type BatchSetup } from './batch-run.js';

export interface BatchOptions {
  catalog: string[];
  stuckAfterMs: number;
  maxUnparsedSamples: number;
  traceEvents?: string;
  jobs: number;
  onDone?: (done: number, total: number, name: string) => void;
  /**
   * --html: each worker also collects the run's timeline from its replay, with the rules kept by
   * --select/--ignore (the timeline marks the findings those keep), and hands it here.
   */
  rules?: string[];
  onTimeline?: (index: number, data: TimelineData) => void;
  /** --html, a suite's log: the timeline of each of its tests (timeline/tests.ts). */
  onTests?: (index: number, tests: TestSection[]) => void;
}

export function defaultJobs(): number {
  return Math.max(1, availableParallelism());
}

function revive(e: { name: string; message: string; stack?: string }): Error {
  const err = e.name === 'InputError' ? new InputError(e.message) : e.name === 'UsageError' ? new UsageError(e.message) : e.name === 'CatalogError' ? new CatalogError([e.message]) : new Error(e.message);
  if (e.stack) err.stack = e.stack;
  return err;
}

/** Each run's result, or the input error that made it unusable (the batch goes on without it). */
export async function analyzeBatch(specs: RunSpec[], opts: BatchOptions): Promise<Array<RunResult | InputError>> {
  const results = new Array<RunResult | InputError | undefined>(specs.length);
  const n = Math.max(1, Math.min(opts.jobs, specs.length));
  const setup: BatchSetup = { catalog: opts.catalog, stuckAfterMs: opts.stuckAfterMs, maxUnparsedSamples: opts.maxUnparsedSamples, ...(opts.traceEvents ? { traceEvents: opts.traceEvents } : {}), ...(opts.onTimeline ? { timelineRules: opts.rules ?? [] } : {}) };
  const catalog = loadCatalog(opts.catalog);
  const url = new URL('./batch-worker.js', import.meta.url);
  const workers = Array.from({ length: n - 1 }, () => new Worker(url, { workerData: setup }));
  let next = 0;
  let done = 0;
  let failed = false;
  try {
    await new Promise<void>((resolve, reject) => {
      const fail = (e: Error) => {
        failed = true;
        reject(e);
      };
      const settle = (index: number, outcome: RunResult | InputError, timeline?: TimelineData, tests?: TestSection[]) => {
        if (timeline) opts.onTimeline?.(index, timeline);
        if (tests?.length) opts.onTests?.(index, tests);
        results[index] = outcome;
        done++;
        opts.onDone?.(done, specs.length, specs[index]!.name);
        if (done === specs.length) resolve();
      };
      const feed = (w: Worker) => {
        if (next >= specs.length || failed) return;
        const index = next++;
        w.postMessage({ index, spec: specs[index] });
      };
      for (const w of workers) {
        w.on('message', (m: { index: number; result?: RunResult; timeline?: TimelineData; tests?: TestSection[]; error?: { name: string; message: string; stack?: string } }) => {
          if (m.error) {
            const err = revive(m.error);
            if (!(err instanceof InputError)) return fail(err);
            settle(m.index, err);
          } else settle(m.index, m.result as RunResult, m.timeline, m.tests);
          feed(w);
        });
        w.on('error', fail);
        feed(w);
      }
      // This thread's share: the next run whenever its previous one is done.
      void (async () => {
        while (next < specs.length && !failed) {
          const index = next++;
          try {
            const { result, timeline, tests } = await analyzeOne(setup, catalog, specs[index]!);
            settle(index, result, timeline, tests);
          } catch (e) {
            if (!(e instanceof InputError)) return fail(e instanceof Error ? e : new Error(String(e)));
            settle(index, e);
          }
        }
      })();
    });
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
  return results as Array<RunResult | InputError>;
}
