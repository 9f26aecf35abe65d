// Per-thread files of a test suite's QEMUs (`-d tid -D dir/t-%d.log` given to every QEMU a suite
// starts) grouped into processes and tests. The files say nothing of which test or process they
// belong to; the suite's own log names the tests in order. Tests run one after another, so:
//   - a probe QEMU (no migration: only qio_channel_socket_* then migration_cancel, on its main
//     thread) is a one-file process, counted and left out;
//   - every other file is a thread of a test's source or target, and the threads of one test
//     overlap in time (the main threads live from start to quit), those of two tests do not: the
//     groups of overlapping time spans, in time order, are the tests, in the log's order.
// Each thread's side then comes from its own events (assemble.ts), as for any per-thread folder.
// Per-process files (`-D dir/q-%d.log` without `-d tid`: %d is the PID) are grouped the same way:
// a probe is one file, a test's source and target are two files that overlap in time. Each is read
// as a whole-process trace (no thread ids: events go to their role's thread by name), its side from
// its events.
import { tidFromFileName } from '../ingest/formats/per-thread.js';
import { detectFormat, newCounters, readTraceRecords, withFormatOptions } from '../ingest/trace-input.js';
import type { QtestProcess, QtestTest } from './qtest.js';
import type { RunSpecInput } from './types.js';
import type { ArgsUse } from '../model/catalog.js';

const PROBE_EVENTS = new Set(['qio_channel_socket_new', 'qio_channel_socket_connect_sync', 'qio_channel_socket_connect_complete', 'migration_cancel']);

interface ThreadFile {
  input: RunSpecInput;
  first: number;
  last: number;
  events: number;
  probe: boolean;
}

export interface ThreadGroup {
  test: QtestTest;
  inputs: RunSpecInput[];
  /** Time span (seconds since the epoch). */
  from: number | null;
  to: number | null;
}

export interface ThreadGrouping {
  by: string;
  tests: ThreadGroup[];
  notes: string[];
}

const NO_ARGS: ArgsUse = new Map();

async function summarize(input: RunSpecInput): Promise<ThreadFile | null> {
  const format = withFormatOptions(await detectFormat(input.path), { tid: input.tid });
  let first = Infinity;
  let last = -Infinity;
  let events = 0;
  let probe = true;
  // Names and times only: the lines are scanned as bytes and no argument becomes a string (a gzip
  // file's lines still do: they cannot be read back). Parsed as strings, this pass took most of the
  // check of a per-thread suite (traces/qtest/11.1.3-postcopy-threads), which reads the files again.
  for await (const batch of readTraceRecords(input.path, 0, null, newCounters(input.path), { maxSamples: 0, textLater: true, argsUse: NO_ARGS }, format)) {
    for (const r of batch) {
      if (r.kind !== 'event') continue;
      events++;
      if (!PROBE_EVENTS.has(r.name)) probe = false;
      if (r.ts !== null) {
        if (r.ts < first) first = r.ts;
        if (r.ts > last) last = r.ts;
      }
    }
  }
  if (events === 0 || first === Infinity) return null;
  return { input, first, last, events, probe: probe && events <= 16 };
}

/** The thread files of each test; `tests` from the suite's log (empty: the groups are named by order). */
export async function groupThreadFiles(inputs: RunSpecInput[], tests: QtestTest[], probesBefore: number, unit: 'thread' | 'process' = 'thread'): Promise<ThreadGrouping> {
  const notes: string[] = [];
  const files: ThreadFile[] = [];
  const empty: string[] = [];
  for (const inp of inputs) {
    const f = await summarize(inp);
    if (f) files.push(f);
    else empty.push(inp.path);
  }
  if (empty.length) notes.push(`${empty.length} ${unit} files without timed events, not placed in a test: ${empty.join(', ')}`);
  const threads = files.filter((f) => !f.probe).sort((a, b) => a.first - b.first);
  const probes = files.filter((f) => f.probe).sort((a, b) => a.first - b.first);
  const groups: ThreadFile[][] = [];
  let end = -Infinity;
  for (const f of threads) {
    if (groups.length === 0 || f.first > end) groups.push([]);
    groups[groups.length - 1]!.push(f);
    end = Math.max(end, f.last);
  }
  const named = tests.length === groups.length;
  if (tests.length && !named) notes.push(`the suite's log names ${tests.length} tests, the ${unit} files make ${groups.length} groups by time: the groups are named by their order`);
  const out: ThreadGroup[] = groups.map((g, i) => {
    const test: QtestTest = named ? { ...tests[i]!, processes: tests[i]!.processes.filter((p) => p.kind !== 'probe') } : { index: i, name: `migration ${i + 1}`, running: null, result: null, from: 0, to: 0, processes: [], pairLines: 0 };
    test.pairLines = g.reduce((a, f) => a + f.events, 0);
    return { test, inputs: g.map((f) => f.input), from: g[0]!.first / 1e6, to: Math.max(...g.map((f) => f.last)) / 1e6 };
  });
  // Tests in the log with no thread files (none here: -D makes every QEMU write) stay listed, untraced.
  if (named === false && tests.length > groups.length) for (const t of tests.slice(groups.length)) out.push({ test: { ...t, name: `${t.name}`, index: out.length }, inputs: [], from: null, to: null });
  // A probe belongs to the test whose threads follow it; those after the last test's start, to it.
  // The suite's log says how many QEMUs started before its first test (migration-test checks the
  // binary once): the earliest probes.
  const before = probes.slice(0, probesBefore);
  for (const p of probes.slice(probesBefore)) {
    const i = out.findIndex((g) => g.from !== null && g.from * 1e6 > p.first);
    const proc: QtestProcess = { kind: 'probe', line: 0, pid: p.input.tid ?? tidFromFileName(p.input.path)?.tid ?? null, lines: p.events, warnings: new Set() };
    (out[i >= 0 ? i : out.length - 1]?.test.processes ?? []).push(proc);
  }
  if (before.length) notes.push(`before the first test: ${before.length} probe QEMU${before.length === 1 ? '' : 's'} (no migration: ${before.map((p) => p.input.path).join(', ')}): left out`);
  const by = unit === 'thread' ? 'time (the threads of one test overlap, those of two tests do not); probe QEMUs by their events' : 'time (the source and target of one test overlap, those of two tests do not); probe QEMUs by their events';
  return { by, tests: out, notes };
}
