import { pino, type DestinationStream } from 'pino';

/** How createLogDestination() batches. */
export interface LogDestinationOptions {
  /** Lines are handed to the file descriptor once this many characters are waiting. @default 32768 */
  batchChars?: number;
  /** ...and at least this often while any are waiting. @default 100 */
  flushIntervalMs?: number;
}

type SonicBoom = ReturnType<typeof pino.destination>;

/**
 * A pino destination that gathers lines in an array and hands them to
 * sonic-boom (which does the asynchronous, EAGAIN-safe writing) as one
 * string per batch. sonic-boom's own batching (`minLength`) appends each line
 * to one growing string and measures its UTF-8 length on every write, which
 * flattens it: a 32 KiB batch cost 7.6 µs per line, more than formatting it.
 * Here a line costs a push.
 */
export class LogDestination implements DestinationStream {
  private pending: string[] = [];
  private pendingChars = 0;
  private readonly batchChars: number;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly sonic: SonicBoom,
    options: LogDestinationOptions = {},
  ) {
    this.batchChars = options.batchChars ?? 32 * 1024;
    this.timer = setInterval(() => this.release(), options.flushIntervalMs ?? 100);
    // Logging never keeps a process alive.
    this.timer.unref();
    process.once('exit', this.flushAtExit);
  }

  write(line: string): boolean {
    this.pending.push(line);
    this.pendingChars += line.length;
    if (this.pendingChars >= this.batchChars) this.release();
    return true;
  }

  /** Characters of lines not yet handed to the writer. */
  get pendingLength(): number {
    return this.pendingChars;
  }

  /** Hands the waiting lines to the writer; `callback` runs once all of them are written. */
  flush(callback?: (error?: Error) => void): void {
    this.release();
    this.sonic.flush(callback);
  }

  /** Writes every waiting line synchronously (at exit). */
  flushSync(): void {
    this.release();
    this.sonic.flushSync();
  }

  /** Writes what is waiting and closes the file descriptor. */
  end(): void {
    clearInterval(this.timer);
    process.off('exit', this.flushAtExit);
    this.release();
    this.sonic.end();
  }

  private readonly flushAtExit = (): void => {
    try {
      this.flushSync();
    } catch {
      // Nothing more can be done for logs at exit.
    }
  };

  private release(): void {
    if (this.pending.length === 0) return;
    const batch = this.pending.length === 1 ? this.pending[0] : this.pending.join('');
    this.pending = [];
    this.pendingChars = 0;
    this.sonic.write(batch);
  }
}

/**
 * An asynchronous destination that batches: lines gather up to 32 KiB and are
 * written at least every 100 ms, and synchronously at exit. Writing each line
 * on its own costs a write through libuv's thread pool per request, several
 * times the cost of formatting the line. `dest` is a file descriptor or a path.
 */
export function createLogDestination(
  dest: number | string = 1,
  options: LogDestinationOptions = {},
): LogDestination {
  // minLength 1: a batch is written as soon as it arrives, and flush(callback)
  // waits for writes in flight (with 0 it would call back at once).
  const sonic = pino.destination({ dest, sync: false, minLength: 1 });
  return new LogDestination(sonic, options);
}
