// Running QEMU inside a Debian chroot (QEMU 10.0 from trixie, 11.x from trixie-backports;
// capture/setup-chroot.sh):
// proc, sysfs, /dev and /dev/pts must be mounted inside it while QEMU runs, and unmounted
// afterwards. Two captures may share a chroot, so each registers itself under
// <chroot>/mig-work/.users/<pid>; mounts made by any capture are listed in
// <chroot>/mig-work/.mounts, and the last capture out unmounts exactly those (never a mount that
// was there before migtrace came, e.g. one the user made by hand).
import { execFile } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** Directory inside the chroot where captures put their files (`/mig-work/<id>` for QEMU). */
export const CHROOT_WORK = '/mig-work';

const MOUNTS: Array<{ target: string; args: (root: string) => string[] }> = [
  { target: 'proc', args: (r) => ['-t', 'proc', 'proc', join(r, 'proc')] },
  { target: 'sys', args: (r) => ['-t', 'sysfs', 'sysfs', join(r, 'sys')] },
  { target: 'dev', args: (r) => ['--bind', '/dev', join(r, 'dev')] },
  { target: 'dev/pts', args: (r) => ['--bind', '/dev/pts', join(r, 'dev/pts')] },
];

function run(cmd: string, args: string[]): Promise<void> {
  return new Promise((res, rej) => {
    execFile(cmd, args, { timeout: 15_000 }, (err, _out, stderr) => {
      if (err) rej(new Error(`${cmd} ${args.join(' ')}: ${(stderr || err.message).trim()}`));
      else res();
    });
  });
}

/** Mount points of this mount namespace (field 5 of mountinfo, octal escapes decoded). */
function mountPoints(): Set<string> {
  const text = readFileSync('/proc/self/mountinfo', 'utf8');
  const out = new Set<string>();
  for (const line of text.split('\n')) {
    const f = line.split(' ')[4];
    if (f) out.add(f.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8))));
  }
  return out;
}

function liveUsers(usersDir: string): number[] {
  if (!existsSync(usersDir)) return [];
  const out: number[] = [];
  for (const name of readdirSync(usersDir)) {
    const pid = Number(name);
    if (!Number.isInteger(pid) || pid <= 0) continue;
    try {
      process.kill(pid, 0);
      out.push(pid);
    } catch (e) {
      // EPERM: alive but not ours to signal, still a user. ESRCH: a crashed capture; forget it.
      if ((e as NodeJS.ErrnoException).code === 'EPERM') out.push(pid);
      else rmSync(join(usersDir, name), { force: true });
    }
  }
  return out;
}

export interface ChrootHandle {
  root: string;
  /** Mounts this capture made (relative to the root). */
  mounted: string[];
  release(): Promise<string[]>;
}

/** Checks the chroot, mounts what is missing, registers this process as a user. */
export async function enterChroot(dir: string): Promise<ChrootHandle> {
  const root = resolve(dir);
  if (!existsSync(root)) throw new Error(`chroot ${root} does not exist; build it with: bash capture/setup-chroot.sh --suite trixie|trixie-backports --dir ${root}`);
  if (process.getuid?.() !== 0) throw new Error(`--chroot needs root (chroot(8) and mount); running as uid ${process.getuid?.()}`);
  const usersDir = join(root, CHROOT_WORK.slice(1), '.users');
  mkdirSync(usersDir, { recursive: true });
  writeFileSync(join(usersDir, String(process.pid)), `${new Date().toISOString()}\n`);
  const mountsFile = join(root, CHROOT_WORK.slice(1), '.mounts');
  const have = mountPoints();
  const mounted: string[] = [];
  try {
    for (const m of MOUNTS) {
      const target = join(root, m.target);
      if (have.has(target)) continue;
      mkdirSync(target, { recursive: true });
      await run('mount', m.args(root));
      mounted.push(m.target);
      appendFileSync(mountsFile, `${m.target}\n`);
    }
  } catch (err) {
    await unmount(root, mounted);
    rmSync(join(usersDir, String(process.pid)), { force: true });
    throw err;
  }
  const handle: ChrootHandle = {
    root,
    mounted,
    release: async () => {
      rmSync(join(usersDir, String(process.pid)), { force: true });
      // Someone else still runs QEMU in here: leave the mounts to the last one out.
      if (liveUsers(usersDir).length > 0) return [];
      const listed = existsSync(mountsFile) ? readFileSync(mountsFile, 'utf8').split('\n') : [];
      const present = mountPoints();
      const ours = MOUNTS.map((m) => m.target).filter((t) => listed.includes(t) && present.has(join(root, t)));
      const problems = await unmount(root, ours);
      if (problems.length === 0) rmSync(mountsFile, { force: true });
      return problems;
    },
  };
  return handle;
}

/** Unmounts in reverse order (dev/pts before dev); lazily if busy. Returns problems, if any. */
async function unmount(root: string, targets: string[]): Promise<string[]> {
  const problems: string[] = [];
  for (const t of [...targets].reverse()) {
    const p = join(root, t);
    try {
      await run('umount', [p]);
    } catch {
      try {
        await run('umount', ['-l', p]);
      } catch (e) {
        problems.push(`could not unmount ${p}: ${(e as Error).message}`);
      }
    }
  }
  return problems;
}
