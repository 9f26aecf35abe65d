// The guest: capture/guest/build/dirtier.elf, a few-KB multiboot kernel that sweeps a working
// set and reports on COM1 (capture/guest/dirtier.c). Built on first use with the host's gcc/ld.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { guestDir } from './paths.js';
import { PreflightError, which } from './preflight.js';

export function guestElfPath(): string {
  return join(guestDir(), 'build', 'dirtier.elf');
}

/** Returns the guest ELF, building it first when it is missing. */
export async function ensureGuest(): Promise<{ path: string; built: boolean }> {
  const elf = guestElfPath();
  if (existsSync(elf)) return { path: elf, built: false };
  for (const tool of ['gcc', 'ld']) {
    if (!which(tool)) {
      throw new PreflightError('guest', `${elf} is missing and ${tool} is not installed to build it (apt-get install gcc binutils)`);
    }
  }
  await new Promise<void>((resolve, reject) => {
    execFile('bash', [join(guestDir(), 'build.sh')], { timeout: 60_000 }, (err, _out, stderr) => {
      if (err) reject(new PreflightError('guest', `building the guest failed (capture/guest/build.sh): ${(stderr || err.message).trim()}`));
      else resolve();
    });
  });
  if (!existsSync(elf)) throw new PreflightError('guest', `capture/guest/build.sh ran but ${elf} is not there`);
  return { path: elf, built: true };
}
