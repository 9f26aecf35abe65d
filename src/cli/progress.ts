// Progress on stderr for long runs: only on a TTY, at most 5 updates a second, erased at the end.
import { cliIo, type CliWritable } from './io.js';

export interface Progress {
  update(label: string, done: number, total: number): void;
  /** Counted progress (runs of a batch): shown from the second item on. */
  count(label: string, done: number, total: number): void;
  done(): void;
}

export function makeProgress(enabled: boolean, stream: CliWritable = cliIo().stderr): Progress {
  if (!enabled || !stream.isTTY) return { update() {}, count() {}, done() {} };
  let last = 0;
  let shown = false;
  const mib = (n: number) => (n / 1048576).toFixed(n < 10 * 1048576 ? 1 : 0);
  return {
    update(label, done, total) {
      const now = Date.now();
      if (now - last < 200 || total < 32 * 1048576) return;
      last = now;
      shown = true;
      const pct = total ? Math.floor((100 * done) / total) : 0;
      stream.write(`\r\x1b[2K${label}: ${mib(done)} / ${mib(total)} MiB (${pct}%)`);
    },
    count(label, done, total) {
      if (total < 2) return;
      shown = true;
      const width = 30;
      const filled = Math.round((width * done) / total);
      stream.write(`\r\x1b[2K${label} [${'#'.repeat(filled)}${' '.repeat(width - filled)}] ${done}/${total} runs`);
    },
    done() {
      if (shown) stream.write('\r\x1b[2K');
      shown = false;
    },
  };
}
