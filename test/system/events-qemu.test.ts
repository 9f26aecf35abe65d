// `migtrace events` against real QEMU binaries: each starts with the file for its version
// (-machine none, stopped, quit over QMP at once) without a "does not exist" warning, and its own
// trace-event-get-state says every catalog event of that version it has is enabled, the firehoses
// disabled. Runs the host's QEMU (Debian 12: 7.2) and the Debian 13 chroots capture uses (10.0,
// 11.1) where they are there; skipped, saying why, where not.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { catalogEventsFor, FIREHOSES } from '../../src/capture/events.js';
import { parseQemuVersion } from '../../src/capture/qemu.js';
import { loadCatalog } from '../../src/model/catalog.js';
import { cli } from '../helpers.js';

interface Qemu {
  label: string;
  /** argv prefix that runs qemu-system-x86_64 */
  cmd: string[];
  /** where a file must be for that QEMU to see it at `seen` */
  root: string;
}

const QEMUS: Qemu[] = [
  { label: 'host', cmd: ['qemu-system-x86_64'], root: '/' },
  { label: 'trixie chroot', cmd: ['chroot', '/var/lib/migtrace/trixie', 'qemu-system-x86_64'], root: '/var/lib/migtrace/trixie' },
  { label: 'trixie-11 chroot', cmd: ['chroot', '/var/lib/migtrace/trixie-11', 'qemu-system-x86_64'], root: '/var/lib/migtrace/trixie-11' },
];

function run(cmd: string[], input: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd[0]!, cmd.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => p.kill('SIGKILL'), 20_000);
    p.on('error', reject);
    p.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    p.stdin.end(input);
  });
}

function available(q: Qemu): string | null {
  if (q.root !== '/' && !existsSync(join(q.root, 'usr/bin/qemu-system-x86_64'))) return `${q.root} has no QEMU (capture/setup-chroot.sh makes it)`;
  if (q.root !== '/' && process.getuid?.() !== 0) return 'chroot needs root';
  if (q.root === '/' && !['/usr/bin/qemu-system-x86_64', '/usr/local/bin/qemu-system-x86_64'].some(existsSync)) return 'no qemu-system-x86_64 (capture/install-qemu.sh installs it)';
  return null;
}

describe('migtrace events with real QEMU', () => {
  for (const q of QEMUS) {
    test(`${q.label}: starts with the file for its version, no warning, every catalog event of the version it has enabled`, async (t) => {
      const why = available(q);
      if (why) {
        console.log(`events/QEMU ${q.label} skipped: ${why}`);
        return t.skip(why);
      }
      const version = parseQemuVersion((await run([...q.cmd, '--version'], '')).stdout);
      assert.ok(version, 'QEMU says its version');
      const dir = mkdtempSync(join(tmpdir(), 'migtrace-events-'));
      const inRoot = join(q.root, 'tmp', `migtrace-events-${process.pid}.txt`);
      try {
        const file = join(dir, 'events.txt');
        const r = await cli(['events', '--qemu-version', `${version.major}.${version.minor}.${version.micro}`, '-o', file, '-q']);
        assert.equal(r.code, 0, r.stderr);
        copyFileSync(file, inRoot);
        const seen = inRoot.slice(q.root === '/' ? 0 : q.root.length);
        const wanted = catalogEventsFor(loadCatalog(), version);
        // One trace-event-get-state per catalog event and per firehose: QEMU's own view of the file.
        const names = [...wanted, ...FIREHOSES.filter((f) => !f.includes('*'))];
        const qmp = [{ execute: 'qmp_capabilities' }, ...names.map((name) => ({ execute: 'trace-event-get-state', arguments: { name } })), { execute: 'quit' }];
        const out = await run([...q.cmd, '-trace', `events=${seen}`, '-machine', 'none', '-S', '-display', 'none', '-nodefaults', '-qmp', 'stdio'], qmp.map((c) => JSON.stringify(c)).join('\n') + '\n');
        assert.equal(out.code, 0, out.stderr);
        assert.doesNotMatch(out.stderr, /does not exist|not traceable|warning/i, out.stderr);
        const replies = out.stdout.split('\n').filter((l) => l.startsWith('{"return"') || l.startsWith('{"error"')).map((l) => JSON.parse(l) as { return?: unknown; error?: { desc: string } });
        assert.equal(replies.length, names.length + 2, 'one reply per command');
        const states = replies.slice(1, -1);
        let present = 0;
        names.forEach((name, i) => {
          const rep = states[i]!;
          if (rep.error) {
            // The build has no such event: fine for a firehose; for a catalog event, only if its rows allow it.
            assert.match(rep.error.desc, /unknown event/, `${name}: ${rep.error.desc}`);
            return;
          }
          const state = (rep.return as Array<{ name: string; state: string }>)[0]?.state;
          const firehose = FIREHOSES.includes(name) || (name === 'postcopy_preempt_send_host_page' && version.major < 8);
          if (!firehose) present++;
          assert.equal(state, firehose ? 'disabled' : 'enabled', `${name} on QEMU ${version.major}.${version.minor}`);
        });
        // Most catalog events exist in every version: a build that has few of them is not the QEMU this is about.
        assert.ok(present > wanted.length * 0.6, `${present} of ${wanted.length} catalog events present`);
      } finally {
        rmSync(dir, { recursive: true, force: true });
        rmSync(inRoot, { force: true });
      }
    });
  }
});
