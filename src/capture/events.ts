// The trace event set a capture enables (`-trace events=<file>`): every event the model's catalog
// names (src/model/catalog.csv, first column), plus the broad migration globs of the shared runs,
// minus the per-page / per-packet firehoses. QEMU processes the file in order and a later `-name`
// line wins, so the exclusions come last (model §F, §G.6; docs/capture.md).
import { readFileSync } from 'node:fs';
import type { Catalog } from '../model/catalog.js';
import { overlaps } from '../model/versions.js';
import { versionAtLeast, type QemuVersion } from './qemu.js';

/** The broad set of the shared runs' events.txt. */
export const BROAD_GLOBS = [
  'migration_*',
  'migrate_*',
  'postcopy_*',
  'source_return_path_*',
  'open_return_path_*',
  'await_return_path_*',
  'savevm_*',
  'qemu_savevm_*',
  'loadvm_*',
  'qemu_loadvm_*',
  'process_incoming_*',
  'get_queued_page*',
  'ram_*',
  'multifd_*',
  'qemu_file_fclose',
  'qemu_file_*_fd',
  'qio_channel_socket_*',
];

/**
 * Events that fire per page, per packet or per field: megabytes of log and nothing the model
 * needs. `ram_load_postcopy_loop` is deliberately not here: it is the only event showing an EOS
 * on the preempt channel (`chan=1 ... flags=0x10`).
 */
export const FIREHOSES = [
  'ram_save_page',
  'ram_load_loop',
  'postcopy_place_page',
  'postcopy_place_page_zero',
  'migration_transferred_bytes',
  'multifd_send',
  'multifd_recv',
  'multifd_send_fill',
  'multifd_recv_unfill',
  'multifd_send_ram_fill',
  'migration_pagecache_*',
  'migration_block_*',
];

/**
 * In 7.2 `postcopy_preempt_send_host_page` fires for every host page sent in postcopy (tens of
 * thousands, on the migration thread); from 8.0 once per urgent request, on the return-path
 * thread, where the model needs it (model §A.2 item 3, §G.6).
 */
export const PRE_8_0_SOURCE_FIREHOSES = ['postcopy_preempt_send_host_page'];

/**
 * A 7.2 source with postcopy-preempt and max-postcopy-bandwidth busy-loops in the migration
 * thread (~1 M `migration_rate_limit_post` in 4 s, docs/capture.md): drop what that loop emits.
 */
export const RATE_LIMIT_LOOP_FIREHOSES = ['migration_rate_limit_*', 'migrate_pending', 'savevm_state_iterate', 'savevm_section_*'];

/** Event names of a catalog CSV: first column, `#` comments and the header skipped, deduplicated. */
export function parseCatalogEvents(csvText: string): string[] {
  const seen = new Set<string>();
  let header = true;
  for (const raw of csvText.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const first = (line.split(',')[0] ?? '').trim().replace(/^"(.*)"$/, '$1');
    if (header) {
      // The header row names the column; tolerate a catalog without one.
      header = false;
      if (first === 'event') continue;
    }
    if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(first)) seen.add(first);
  }
  return [...seen];
}

export function readCatalogEvents(catalogPath: string): string[] {
  return parseCatalogEvents(readFileSync(catalogPath, 'utf8'));
}

/**
 * The catalog's events that some row holds for `version` (every event when it is null), in
 * catalog order. QEMU warns "trace event 'X' does not exist" for a listed name its build lacks
 * (a glob that matches nothing is silent), so a version's file names only events of that version.
 */
export function catalogEventsFor(catalog: Catalog, version: QemuVersion | null): string[] {
  const v = version ? version.major * 100 + version.minor : null;
  const out: string[] = [];
  for (const [event, rows] of catalog.byEvent) {
    if (v === null || rows.some((r) => overlaps(r.versions, { lo: v, hi: v }))) out.push(event);
  }
  return out;
}

export interface EventSetOptions {
  catalogEvents: string[];
  /** The source's version decides whether `postcopy_preempt_send_host_page` is a firehose. */
  srcVersion: QemuVersion | null;
  /** Source is < 8.0 with postcopy-preempt and a max-postcopy-bandwidth: see above. */
  rateLimitLoop?: boolean;
  /** Who wrote the file and for which QEMU, for its header comment (default: migtrace capture, for the source's version). */
  writtenBy?: string;
  writtenFor?: string;
  /**
   * Write an excluded name as `-*name`. QEMU warns "trace event 'X' does not exist" for an exact
   * name its build lacks, and firehoses come and go (7.2.22 has no migration_transferred_bytes,
   * 10.0.13 no multifd_send); a pattern that matches nothing is silent, and `*name` matches only
   * names ending in it.
   */
  quietExclusions?: boolean;
}

export interface EventSet {
  /** The file's text, comments included. */
  text: string;
  /** Catalog events a glob does not cover (listed explicitly). */
  explicit: string[];
  /** Patterns disabled at the end. */
  excluded: string[];
  /** Catalog events that this run excludes as firehoses (the analyzer falls back, model §G.6). */
  catalogExcluded: string[];
}

function globToRegExp(glob: string): RegExp {
  return new RegExp('^' + glob.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*') + '$');
}

export function deriveEventSet(opts: EventSetOptions): EventSet {
  const excluded = [...FIREHOSES];
  // Unknown source version: assume the older, noisier behaviour rather than flood the log.
  if (!versionAtLeast(opts.srcVersion, 8, 0)) excluded.push(...PRE_8_0_SOURCE_FIREHOSES);
  if (opts.rateLimitLoop) excluded.push(...RATE_LIMIT_LOOP_FIREHOSES);
  const broad = BROAD_GLOBS.map(globToRegExp);
  const off = excluded.map(globToRegExp);
  const explicit = opts.catalogEvents.filter((e) => !broad.some((r) => r.test(e)) && !off.some((r) => r.test(e)));
  const catalogExcluded = opts.catalogEvents.filter((e) => off.some((r) => r.test(e)));
  const src = opts.srcVersion ? `${opts.srcVersion.major}.${opts.srcVersion.minor}` : 'unknown';
  const lines = [
    "# QEMU trace event patterns (one per line, '*' wildcard, '-' prefix disables;",
    '# processed in order).  Used with: -trace events=events.txt',
    `# Written by ${opts.writtenBy ?? 'migtrace capture'} for ${opts.writtenFor ?? `a QEMU ${src} source`}.`,
    '# Broad migration set ...',
    ...BROAD_GLOBS,
    '# ... every event of src/model/catalog.csv that no glob above covers ...',
    ...explicit,
    '# ... minus the per-page / per-packet / per-field firehoses:',
    ...excluded.map((e) => (opts.quietExclusions && !e.includes('*') ? `-*${e}` : `-${e}`)),
  ];
  if (catalogExcluded.length) {
    lines.push(`# catalog events excluded as firehoses for this source: ${catalogExcluded.join(' ')}`);
  }
  return { text: lines.join('\n') + '\n', explicit, excluded, catalogExcluded };
}
