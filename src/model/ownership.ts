// Who owns each QEMUFile, by version and phase (§B, §G.2). A thread that writes, shuts down or
// closes a file it does not own while the owner is alive is a concurrent (non-owner) access.
import type { Role } from '../types.js';
import type { QemuFileName } from './signals.js';
import { parseRange, type VersionRange } from './versions.js';

export interface Ownership {
  file: QemuFileName;
  versions: VersionRange;
  versionsText: string;
  owner: Role;
  /** When the ownership holds. */
  phase: 'postcopy' | 'always';
  /** Several threads write it by design (under a lock): never flagged. */
  shared?: boolean;
  ref: string;
  why: string;
}

function row(file: QemuFileName, versions: string, owner: Role, phase: Ownership['phase'], ref: string, why: string, shared = false): Ownership {
  return { file, versions: parseRange(versions)!, versionsText: versions, owner, phase, ref, why, shared };
}

export const OWNERSHIP: readonly Ownership[] = [
  row('postcopy_qemufile_src', '<=7.2', 'migration', 'postcopy', 'G.2', 'in 7.2 the migration thread sends urgent pages and the EOS itself (§0.1)'),
  row('postcopy_qemufile_src', '>=8.0', 'rp', 'postcopy', 'G.2', 'from 8.0 (9358982744) the return-path thread sends urgent pages on it; 6621883f93: "should be owned by one thread"'),
  row('to_dst_file', '*', 'migration', 'always', 'B.1', 'the migration thread writes the main channel'),
  row('from_dst_file', '*', 'rp', 'always', 'B.1', 'the return-path thread reads the return path'),
  row('postcopy_qemufile_dst', '*', 'preempt', 'postcopy', 'B.2', 'only the preempt thread reads the destination preempt channel'),
  row('from_src_file', '*', 'listen', 'postcopy', 'B.2', 'the listen thread reads the main channel during postcopy'),
  row('to_src_file', '*', 'unknown', 'always', 'B.2', 'main, listen and fault threads write it under rp_mutex by design', true),
];

export function ownersOf(file: QemuFileName): Ownership[] {
  return OWNERSHIP.filter((o) => o.file === file);
}
