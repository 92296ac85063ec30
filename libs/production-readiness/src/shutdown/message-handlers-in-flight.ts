import { Injectable } from '@nestjs/common';
import { InFlight } from './in-flight.js';

/**
 * The message handlers running now, counted by MessageContextInterceptor, so
 * the shutdown can let them finish after stopping the consumers and before
 * closing the pools they use.
 */
@Injectable()
export class MessageHandlersInFlight extends InFlight<string> {
  private sequence = 0;

  /** Counts a handler of `pattern` as running; call the returned function when it ends. */
  begin(pattern: string): () => void {
    const handler = `${pattern} #${++this.sequence}`;
    this.add(handler);
    return () => this.delete(handler);
  }
}
