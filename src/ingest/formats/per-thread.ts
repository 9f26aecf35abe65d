// Per-thread log files: QEMU >= 7.1 with `-d tid -D <name>%d<rest>` writes one `log`-format file
// per thread, %d being the thread id (util/log.c). On QEMU >= 10.1 their lines carry no TID
// (ISO prefix only), so the file name is the only thread identity: each file is read with
// InputReadOptions.tid set to the number in its name (the `log` reader stamps it on every event
// without one). A folder of such files is one process per name pattern:
//   src-8619.log src-8626.log src-8627.log   → pattern "src-%d.log", one process, three threads
//   dst-8614.log dst-8630.log ...            → pattern "dst-%d.log", the other process
import { readdir } from 'node:fs/promises';
import { basename, join } from 'node:path';

/** `name-1234.log`, `trace.1234`, `qemu-1234`: the last run of digits, before any extensions. */
const PER_THREAD = /^(.*?)(\d+)((?:\.[A-Za-z][\w-]*)*)$/;

export interface PerThreadFile {
  path: string;
  tid: number;
}

export interface PerThreadGroup {
  /** The -D pattern the files came from, e.g. "src-%d.log". */
  pattern: string;
  files: PerThreadFile[];
}

/** The thread id in a per-thread log file's name, or null when the name ends in no number. */
export function tidFromFileName(path: string): { tid: number; pattern: string } | null {
  const m = PER_THREAD.exec(basename(path).replace(/\.gz$/, ''));
  if (!m) return null;
  const tid = Number(m[2]);
  if (!Number.isSafeInteger(tid) || tid <= 0) return null;
  return { tid, pattern: `${m[1]}%d${m[3]}` };
}

/**
 * The per-thread groups in a folder: files whose names differ only in the number, at least two of
 * them (one file alone is more likely `run-2.log` than a process with a single thread).
 */
export async function perThreadGroups(dir: string): Promise<PerThreadGroup[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const groups = new Map<string, PerThreadFile[]>();
  for (const e of entries) {
    if (!e.isFile()) continue;
    const t = tidFromFileName(e.name);
    if (!t) continue;
    const list = groups.get(t.pattern) ?? [];
    list.push({ path: join(dir, e.name), tid: t.tid });
    groups.set(t.pattern, list);
  }
  return [...groups]
    .filter(([, files]) => files.length >= 2)
    .map(([pattern, files]) => ({ pattern, files: files.sort((a, b) => a.tid - b.tid) }))
    .sort((a, b) => a.pattern.localeCompare(b.pattern));
}
