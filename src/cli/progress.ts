// Progress on stderr for long runs: only on a TTY, at most 5 updates a second, erased at the end.
export interface Progress {
  update(label: string, done: number, total: number): void;
  done(): void;
}

export function makeProgress(enabled: boolean, stream: NodeJS.WriteStream = process.stderr): Progress {
  if (!enabled || !stream.isTTY) return { update() {}, done() {} };
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
    done() {
      if (shown) stream.write('\r\x1b[2K');
      shown = false;
    },
  };
}
