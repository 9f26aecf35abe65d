// A format by its name, its module loaded on demand: a reader thread needs only its input's
// format, and loading every format's module (csv-parse among them) is half of that thread's
// module graph, loaded while the replay thread and the other reader start on the same cores.
import { InputError, type TraceFormat } from './records.js';

const LOADERS: Record<string, () => Promise<TraceFormat>> = {
  simple: async () => (await import('./formats/simple.js')).SIMPLE_FORMAT,
  csv: async () => (await import('./formats/csv.js')).CSV_FORMAT,
  jsonl: async () => (await import('./formats/jsonl.js')).JSONL_FORMAT,
  ftrace: async () => (await import('./formats/ftrace.js')).FTRACE_FORMAT,
  babeltrace: async () => (await import('./formats/babeltrace.js')).BABELTRACE_FORMAT,
  syslog: async () => (await import('./formats/syslog.js')).SYSLOG_FORMAT,
  log: async () => (await import('./formats/log.js')).LOG_FORMAT,
};

/** The format of that (canonical) name, as trace-input.ts formatByName gives it. */
export function loadFormat(name: string): Promise<TraceFormat> {
  const load = LOADERS[name];
  if (!load) return Promise.reject(new InputError(`unknown input format '${name}'`));
  return load();
}

/** The names it knows (a test holds them to trace-input.ts FORMATS). */
export const LOADABLE_FORMATS: readonly string[] = Object.keys(LOADERS);
