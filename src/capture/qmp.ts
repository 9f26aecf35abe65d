// A small QMP client over a unix socket: the greeting, qmp_capabilities, `execute` with an id
// (replies matched by id, so events and late replies interleaved with them never confuse it),
// the asynchronous event stream, and a timeout on everything, because a wedged QEMU (7.2 with
// multifd + postcopy-preempt, see docs/capture.md) stops answering and must not hang us.
import { connect, type Socket } from 'node:net';

/** Any QMP message as received: the greeting, a reply, or an event. */
export type QmpMessage = Record<string, unknown>;

export interface QmpEvent {
  event: string;
  data?: Record<string, unknown>;
  timestamp?: { seconds: number; microseconds: number };
  /** Receive time (seconds since the epoch, our clock). */
  t: number;
}

export type Direction = '<' | '>';

export interface QmpClientOptions {
  /** Every message in either direction, with our receive/send time; for the transcript. */
  onMessage?: (dir: Direction, msg: QmpMessage, t: number) => void;
  /** For `execute` calls that give none. */
  defaultTimeoutMs?: number;
}

export interface QmpConnectOptions extends QmpClientOptions {
  /** How long to keep retrying while QEMU has not created or is not yet accepting the socket. */
  connectTimeoutMs?: number;
  /** Stop retrying early, e.g. when the QEMU process has exited. */
  signal?: AbortSignal;
}

/** QEMU answered with `{"error": ...}`. */
export class QmpError extends Error {
  constructor(
    readonly command: string,
    readonly errorClass: string,
    readonly desc: string,
  ) {
    super(`QMP ${command} failed: ${errorClass}: ${desc}`);
    this.name = 'QmpError';
  }
}

export class QmpTimeoutError extends Error {
  constructor(
    readonly what: string,
    readonly timeoutMs: number,
  ) {
    super(`QMP ${what}: no answer within ${timeoutMs} ms`);
    this.name = 'QmpTimeoutError';
  }
}

export class QmpClosedError extends Error {
  constructor(what: string) {
    super(`QMP ${what}: connection closed`);
    this.name = 'QmpClosedError';
  }
}

interface Pending {
  command: string;
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

type EventListener = (ev: QmpEvent) => void;

const now = (): number => Date.now() / 1000;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class QmpClient {
  /** The `{"QMP": ...}` greeting. */
  greeting: QmpMessage | null = null;
  /** Every event received so far, in order (waiters can look back with `since`). */
  readonly events: QmpEvent[] = [];

  private buffer = '';
  private nextId = 1;
  private readonly pending = new Map<string, Pending>();
  private readonly listeners = new Set<EventListener>();
  private greetingWaiter: { resolve: (m: QmpMessage) => void; reject: (e: Error) => void } | null = null;
  private closedFlag = false;
  private readonly closedPromise: Promise<void>;
  private markClosed!: () => void;

  private constructor(
    private readonly socket: Socket,
    private readonly opts: QmpClientOptions,
  ) {
    this.closedPromise = new Promise((r) => (this.markClosed = r));
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => this.onData(chunk));
    socket.on('error', () => {
      /* 'close' follows and fails everything pending */
    });
    socket.on('close', () => this.onClose());
  }

  /**
   * Connects (retrying until QEMU has created the socket), reads the greeting and negotiates
   * capabilities, so the returned client is in command mode.
   */
  static async connect(path: string, opts: QmpConnectOptions = {}): Promise<QmpClient> {
    const deadline = Date.now() + (opts.connectTimeoutMs ?? 10_000);
    let lastErr: Error | null = null;
    for (;;) {
      if (opts.signal?.aborted) {
        throw new Error(`QMP connect ${path}: aborted (${String(opts.signal.reason ?? 'aborted')})`);
      }
      try {
        const socket = await openSocket(path);
        const client = new QmpClient(socket, opts);
        const left = Math.max(1, deadline - Date.now());
        await client.readGreeting(left);
        await client.execute('qmp_capabilities', undefined, Math.max(1000, deadline - Date.now()));
        return client;
      } catch (err) {
        lastErr = err as Error;
        const code = (err as NodeJS.ErrnoException).code;
        // ENOENT/ECONNREFUSED: QEMU has not got as far as listening yet. Anything else is real.
        if (code !== 'ENOENT' && code !== 'ECONNREFUSED') throw err;
      }
      if (Date.now() >= deadline) {
        throw new QmpTimeoutError(`connect ${path} (${lastErr?.message ?? 'no socket'})`, opts.connectTimeoutMs ?? 10_000);
      }
      await sleep(20);
    }
  }

  get closed(): boolean {
    return this.closedFlag;
  }

  /** Resolves when the connection is gone (QEMU quit or died). */
  whenClosed(): Promise<void> {
    return this.closedPromise;
  }

  /** Runs one command; resolves with its `return` value, rejects with QmpError/QmpTimeoutError. */
  execute<T = unknown>(command: string, args?: Record<string, unknown>, timeoutMs?: number): Promise<T> {
    if (this.closedFlag) return Promise.reject(new QmpClosedError(command));
    const id = `mt-${this.nextId++}`;
    const msg: QmpMessage = { execute: command };
    if (args !== undefined) msg['arguments'] = args;
    msg['id'] = id;
    const limit = timeoutMs ?? this.opts.defaultTimeoutMs ?? 10_000;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        // Forget it: a late reply is still written to the transcript, but matches nothing.
        this.pending.delete(id);
        reject(new QmpTimeoutError(command, limit));
      }, limit);
      this.pending.set(id, { command, resolve: resolve as (v: unknown) => void, reject, timer });
      this.send(msg);
    });
  }

  /** Subscribes to events; returns the unsubscribe function. */
  onEvent(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Waits for an event matching `pred`. Events already received at index >= `since` count too,
   * so a caller that notes `events.length` before sending a command cannot miss a fast event.
   */
  waitForEvent(pred: (ev: QmpEvent) => boolean, timeoutMs: number, since = this.events.length): Promise<QmpEvent> {
    for (let i = since; i < this.events.length; i++) {
      const ev = this.events[i];
      if (ev && pred(ev)) return Promise.resolve(ev);
    }
    return new Promise((resolve, reject) => {
      const cleanup = (): void => {
        clearTimeout(timer);
        unsubscribe();
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new QmpTimeoutError('wait for event', timeoutMs));
      }, timeoutMs);
      const unsubscribe = this.onEvent((ev) => {
        if (!pred(ev)) return;
        cleanup();
        resolve(ev);
      });
      // Settling twice is harmless, so this needs no unsubscribe of its own.
      void this.closedPromise.then(() => {
        cleanup();
        reject(new QmpClosedError('wait for event'));
      });
    });
  }

  /** Closes our end; pending commands fail with QmpClosedError. */
  close(): void {
    this.socket.destroy();
  }

  private readGreeting(timeoutMs: number): Promise<QmpMessage> {
    if (this.greeting) return Promise.resolve(this.greeting);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.greetingWaiter = null;
        this.socket.destroy();
        reject(new QmpTimeoutError('greeting', timeoutMs));
      }, timeoutMs);
      this.greetingWaiter = {
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
    });
  }

  private send(msg: QmpMessage): void {
    this.opts.onMessage?.('>', msg, now());
    this.socket.write(JSON.stringify(msg) + '\n');
  }

  private onData(chunk: string): void {
    this.buffer += chunk;
    let nl: number;
    while ((nl = this.buffer.indexOf('\n')) >= 0) {
      const line = this.buffer.slice(0, nl).trim();
      this.buffer = this.buffer.slice(nl + 1);
      if (line) this.onLine(line);
    }
  }

  private onLine(line: string): void {
    const t = now();
    let msg: QmpMessage;
    try {
      const parsed: unknown = JSON.parse(line);
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
      msg = parsed as QmpMessage;
    } catch {
      // QEMU never sends this; keep it visible in the transcript instead of dropping it.
      msg = { unparsed: line };
      this.opts.onMessage?.('<', msg, t);
      return;
    }
    this.opts.onMessage?.('<', msg, t);
    if ('QMP' in msg) {
      this.greeting = msg;
      this.greetingWaiter?.resolve(msg);
      this.greetingWaiter = null;
      return;
    }
    if (typeof msg['event'] === 'string') {
      const ev: QmpEvent = { event: msg['event'], t };
      if (isRecord(msg['data'])) ev.data = msg['data'];
      const ts = msg['timestamp'];
      if (isRecord(ts) && typeof ts['seconds'] === 'number' && typeof ts['microseconds'] === 'number') {
        ev.timestamp = { seconds: ts['seconds'], microseconds: ts['microseconds'] };
      }
      this.events.push(ev);
      for (const l of [...this.listeners]) l(ev);
      return;
    }
    if ('return' in msg || 'error' in msg) this.onReply(msg);
  }

  private onReply(msg: QmpMessage): void {
    const id = msg['id'];
    let key: string | undefined = typeof id === 'string' ? id : undefined;
    // QEMU omits the id only when it could not parse the request; give it to the oldest command.
    if (key === undefined && id === undefined) key = this.pending.keys().next().value;
    if (key === undefined) return;
    const p = this.pending.get(key);
    if (!p) return; // a reply to a command that already timed out
    this.pending.delete(key);
    clearTimeout(p.timer);
    const err = msg['error'];
    if (isRecord(err)) {
      p.reject(new QmpError(p.command, typeof err['class'] === 'string' ? err['class'] : 'GenericError', typeof err['desc'] === 'string' ? err['desc'] : JSON.stringify(err)));
    } else {
      p.resolve(msg['return']);
    }
  }

  private onClose(): void {
    if (this.closedFlag) return;
    this.closedFlag = true;
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      this.pending.delete(id);
      p.reject(new QmpClosedError(p.command));
    }
    this.greetingWaiter?.reject(new QmpClosedError('greeting'));
    this.greetingWaiter = null;
    this.markClosed();
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function openSocket(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(path);
    const onError = (err: Error): void => {
      s.destroy();
      reject(err);
    };
    s.once('error', onError);
    s.once('connect', () => {
      s.off('error', onError);
      resolve(s);
    });
  });
}
