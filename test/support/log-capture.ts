import { waitFor } from './wait-for.js';

/** One JSON log line as ServiceLogger writes it. */
export interface LogLine {
  level: string;
  time: string;
  service: string;
  version: string;
  environment: string;
  correlationId?: string;
  context?: string;
  msg?: string;
  [field: string]: unknown;
}

/**
 * A log destination for `logging: { destination }` that keeps every line
 * pino writes, raw and parsed, so tests assert on what an operator would read.
 */
export class LogCapture {
  /** Everything written, as written. */
  readonly chunks: string[] = [];
  /** Every line, parsed. */
  readonly lines: LogLine[] = [];
  /** Lines that were not JSON objects (there should be none). */
  readonly invalid: string[] = [];

  /** The object to pass as `logging.destination`: pino writes one line per call. */
  readonly destination = {
    write: (chunk: string): boolean => {
      this.chunks.push(chunk);
      for (const text of chunk.split('\n')) {
        if (text.trim() === '') continue;
        try {
          this.lines.push(JSON.parse(text) as LogLine);
        } catch {
          // Kept rather than thrown: a throw here would surface in the logging call.
          this.invalid.push(text);
        }
      }
      return true;
    },
  };

  /** All the output as one string, to prove a value appears nowhere. */
  get text(): string {
    return this.chunks.join('');
  }

  /** A position to read the lines written after it with `since()`. */
  mark(): number {
    return this.lines.length;
  }

  /** The lines written since `mark`. */
  since(mark: number): LogLine[] {
    return this.lines.slice(mark);
  }

  /** The access lines (`request completed`) since `mark`. */
  accessLines(mark = 0): LogLine[] {
    return this.since(mark).filter((line) => line.msg === 'request completed');
  }

  /** The lines carrying `correlationId`. */
  withCorrelationId(correlationId: string): LogLine[] {
    return this.lines.filter((line) => line.correlationId === correlationId);
  }

  /** Waits until a line matching `predicate` is written; returns it. */
  async waitForLine(
    predicate: (line: LogLine) => boolean,
    timeoutMs = 5_000,
    description = 'a matching log line',
  ): Promise<LogLine> {
    return waitFor(() => this.lines.find(predicate), timeoutMs, { description, intervalMs: 20 });
  }
}
