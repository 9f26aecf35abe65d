// Runs many analyses on all cores: a small pool of worker threads (batch-worker.ts), results in
// the order of the runs, the first error rethrown as the error it was (an input error stays one).
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { InputError } from '../ingest/trace-input.js';
import { CatalogError } from '../model/catalog.js';
import type { RunSpec } from '../assembly/types.js';
import type { RunResult } from '../types.js';
import type { TestSection } from '../timeline/tests.js';
import type { TimelineData } from '../timeline/types.js';
import { UsageError } from './errors.js';

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
  const url = new URL('./batch-worker.js', import.meta.url);
  const setup = { catalog: opts.catalog, stuckAfterMs: opts.stuckAfterMs, maxUnparsedSamples: opts.maxUnparsedSamples, ...(opts.traceEvents ? { traceEvents: opts.traceEvents } : {}), ...(opts.onTimeline ? { timelineRules: opts.rules ?? [] } : {}) };
  const workers = Array.from({ length: n }, () => new Worker(url, { workerData: setup }));
  let next = 0;
  let done = 0;
  try {
    await new Promise<void>((resolve, reject) => {
      const feed = (w: Worker) => {
        if (next >= specs.length) return;
        const index = next++;
        w.postMessage({ index, spec: specs[index] });
      };
      for (const w of workers) {
        w.on('message', (m: { index: number; result?: RunResult; timeline?: TimelineData; tests?: TestSection[]; error?: { name: string; message: string; stack?: string } }) => {
          if (m.timeline) opts.onTimeline?.(m.index, m.timeline);
          if (m.tests?.length) opts.onTests?.(m.index, m.tests);
          if (m.error) {
            const err = revive(m.error);
            if (!(err instanceof InputError)) return reject(err);
            results[m.index] = err;
          } else results[m.index] = m.result;
          done++;
          opts.onDone?.(done, specs.length, specs[m.index]!.name);
          if (done === specs.length) resolve();
          else feed(w);
        });
        w.on('error', reject);
        feed(w);
      }
    });
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
  return results as Array<RunResult | InputError>;
}
