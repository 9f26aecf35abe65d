// Checks made before anything is started, each failing with a message that says what to do:
// QEMU missing, userfaultfd unavailable (postcopy needs it on the destination), a busy port.
import { accessSync, constants, existsSync, openSync, closeSync, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { delimiter, join } from 'node:path';

export class PreflightError extends Error {
  constructor(
    readonly kind: 'qemu-missing' | 'userfaultfd' | 'port-busy' | 'chroot' | 'guest' | 'tool-missing' | 'unsupported' | 'output',
    message: string,
  ) {
    super(message);
    this.name = 'PreflightError';
  }
}

function isExecutable(p: string): boolean {
  try {
    return statSync(p).isFile() && (accessSync(p, constants.X_OK), true);
  } catch {
    return false;
  }
}

/** Finds `name` on PATH (or checks it, when it contains a slash); null when absent. */
export function which(name: string, pathVar = process.env['PATH'] ?? ''): string | null {
  if (name.includes('/')) return isExecutable(name) ? name : null;
  for (const dir of pathVar.split(delimiter)) {
    if (dir && isExecutable(join(dir, name))) return join(dir, name);
  }
  return null;
}

const CHROOT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/**
 * The command prefix that runs QEMU for one side: `[path]` on the host, or
 * `['chroot', DIR, path]` where `path` is looked up inside the chroot.
 */
export function resolveQemu(qemu: string, chroot: string | null): string[] {
  if (chroot === null) {
    const found = which(qemu);
    if (!found) {
      throw new PreflightError(
        'qemu-missing',
        qemu.includes('/')
          ? `QEMU not found: ${qemu} does not exist or is not executable`
          : `QEMU not found: ${qemu} is not on PATH. Install Debian 12's QEMU 7.2 with ` +
              '`bash capture/install-qemu.sh`, or pass --qemu PATH',
      );
    }
    return [found];
  }
  if (!existsSync(chroot)) {
    throw new PreflightError('chroot', `chroot ${chroot} does not exist; build it with: bash capture/setup-chroot.sh --suite trixie|trixie-backports --dir ${chroot}`);
  }
  const inside = qemu.includes('/')
    ? (isExecutable(join(chroot, qemu)) ? qemu : null)
    : (CHROOT_PATH.split(':').map((d) => `${d}/${qemu}`).find((p) => isExecutable(join(chroot, p))) ?? null);
  if (!inside) {
    throw new PreflightError(
      'qemu-missing',
      `QEMU not found in chroot ${chroot}: no ${qemu} there. (Re)run: bash capture/setup-chroot.sh --suite trixie|trixie-backports --dir ${chroot}`,
    );
  }
  const chrootBin = which('chroot', `${process.env['PATH'] ?? ''}:/usr/sbin:/sbin`);
  if (!chrootBin) throw new PreflightError('tool-missing', 'chroot(8) not found (coreutils)');
  return [chrootBin, chroot, inside];
}

export interface UffdCheck {
  ok: boolean;
  reason: string;
}

/**
 * Whether QEMU on the destination can get a userfaultfd. Node cannot make the syscall, so this
 * reads what decides it: kernel support (the vm.unprivileged_userfaultfd sysctl or
 * /dev/userfaultfd exist only with CONFIG_USERFAULTFD) and privilege (root has
 * CAP_SYS_PTRACE; others need the sysctl at 1, or /dev/userfaultfd, which QEMU >= 8.1 tries).
 * The final word is QEMU's: migrate-set-capabilities postcopy-ram on the destination fails when
 * it cannot, and the capture reports that as a refused capability.
 */
export function checkUserfaultfd(): UffdCheck {
  const sysctl = '/proc/sys/vm/unprivileged_userfaultfd';
  const hasSysctl = existsSync(sysctl);
  const hasDev = existsSync('/dev/userfaultfd');
  if (!hasSysctl && !hasDev) {
    return { ok: false, reason: 'userfaultfd unavailable: the kernel has no userfaultfd (no vm.unprivileged_userfaultfd, no /dev/userfaultfd)' };
  }
  if (process.getuid?.() === 0) return { ok: true, reason: 'root' };
  if (hasSysctl && readFileSync(sysctl, 'utf8').trim() === '1') return { ok: true, reason: 'vm.unprivileged_userfaultfd=1' };
  if (hasDev) {
    try {
      closeSync(openSync('/dev/userfaultfd', 'r+'));
      return { ok: true, reason: '/dev/userfaultfd is accessible (QEMU >= 8.1 uses it)' };
    } catch {
      /* fall through */
    }
  }
  return {
    ok: false,
    reason: 'userfaultfd unavailable to this user: not root, vm.unprivileged_userfaultfd=0 and /dev/userfaultfd not accessible ' +
      '(run as root, or sysctl vm.unprivileged_userfaultfd=1)',
  };
}

/** Resolves when 127.0.0.1:port can be bound; rejects with a clear message when it is busy. */
export function checkPortFree(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', (err: NodeJS.ErrnoException) => {
      reject(
        new PreflightError(
          'port-busy',
          err.code === 'EADDRINUSE'
            ? `port ${port} on 127.0.0.1 is busy (another capture or service uses it); pass another --port`
            : `cannot bind 127.0.0.1:${port}: ${err.message}`,
        ),
      );
    });
    srv.listen({ host: '127.0.0.1', port, exclusive: true }, () => srv.close(() => resolve()));
  });
}

/** A port the kernel considers free right now (there is a small race until QEMU binds it). */
export function pickFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen({ host: '127.0.0.1', port: 0, exclusive: true }, () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => (port ? resolve(port) : reject(new Error('no port'))));
    });
  });
}

/** Unix socket paths are limited to 107 bytes (sun_path). */
export function checkSocketPath(p: string): void {
  if (Buffer.byteLength(p) > 107) {
    throw new PreflightError('chroot', `QMP socket path too long for a unix socket (${Buffer.byteLength(p)} > 107 bytes): ${p}; use a shorter --chroot path`);
  }
}
