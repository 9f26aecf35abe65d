// What a file's name says: which side it is (src*, dst*, source*, dest*), whether it is one of the
// non-trace files a capture or a CI job leaves beside the traces, which process it belongs to when
// the same process is kept in several formats (src.log and src.simple), and whether it is one of
// several numbered processes of a side (dst1.log, dst2.log) rather than a per-thread file.
import { basename } from 'node:path';
import type { Side } from '../types.js';

const SRC_NAME = /^(?:src|source)(?![a-z])/i;
const DST_NAME = /^(?:dst|dest|destination)(?![a-z])/i;

/** The side a file's name gives, or null. `src.log`, `source-host.log`, `dst-b.log`, `dest2.log`, `destination.log`. */
export function sideFromName(path: string): Side | null {
  const name = basename(path);
  if (SRC_NAME.test(name)) return 'src';
  if (DST_NAME.test(name)) return 'dst';
  return null;
}

/**
 * Files that are never traces: what `migtrace capture` and CI jobs write beside the logs (meta.json,
 * the event list, QMP transcripts, guest consoles, QEMU's stderr, the build's trace-events-all),
 * reports, documents and code.
 */
const NOT_TRACES = [
  /^\./,
  /-serial\.log$/,
  /-stderr\.txt$/,
  /^events\.txt$/,
  /^qmp.*\.jsonl$/,
  /^trace-events(-all)?$/,
  /\.(json|md|patch|diff|html|xml|sarif|png|svg|sh|py|c|h|ts|js|mjs|elf|img|qcow2|iso)$/i,
];

export function isNotTrace(path: string): boolean {
  const name = basename(path);
  return NOT_TRACES.some((re) => re.test(name));
}

/** Endings that say which format a trace is in, not which process it holds. */
const FORMAT_ENDING = /(\.(log|simple|txt|trace|dat|csv|jsonl|ndjson|out|bin))?(\.gz)?$/i;

/** The process a file holds, as its name says: the name without its format ending (`src.log.gz`, `src.simple` → `src`; `vm1.dst.log` → `vm1.dst`). */
export function stemOf(path: string): string {
  return basename(path).replace(FORMAT_ENDING, '') || basename(path);
}

/** `dst1.log`, `src2.log.gz`: numbered processes of one side (a source migrated twice), not per-thread files. */
export function isNumberedProcess(path: string): boolean {
  return /^(?:src|source|dst|dest|destination)\d+$/i.test(stemOf(path));
}

/** The same process kept in several formats (src.log and src.simple): the log first (it has thread ids). */
const PREFERENCE = [/\.log$/, /\.log\.gz$/, /\.(txt|trace|dat)$/, /./];
export const formatRank = (path: string): number => PREFERENCE.findIndex((re) => re.test(basename(path)));
