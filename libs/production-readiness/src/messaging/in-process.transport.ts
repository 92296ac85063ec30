import { EventEmitter } from 'node:events';
import { Logger } from '@nestjs/common';
import { isObservable, lastValueFrom } from 'rxjs';
import {
  BaseRpcContext,
  ClientProxy,
  Server,
  type CustomTransportStrategy,
  type ReadPacket,
  type WritePacket,
} from '@nestjs/microservices';

const MESSAGE = 'message';

/**
 * The embedded message bus: events published in this process reach the
 * handlers of this process. Messages are serialized to JSON on the way, as a
 * real broker would, so handlers never share objects with the publisher.
 */
export class InProcessBus {
  private readonly emitter = new EventEmitter();

  publish(pattern: string, data: unknown, headers: Record<string, string> = {}): void {
    const message = JSON.stringify({ pattern, data, headers });
    // Delivered on a later tick, like a broker: the publisher's request
    // finishes first and a handler's failure never reaches the publisher.
    setImmediate(() => this.emitter.emit(MESSAGE, message));
  }

  subscribe(listener: (message: string) => void): () => void {
    this.emitter.on(MESSAGE, listener);
    return () => this.emitter.off(MESSAGE, listener);
  }
}

/** The context handed to in-process event handlers: `[pattern, headers]`. */
export class InProcessContext extends BaseRpcContext<[string, Record<string, string>]> {
  getPattern(): string {
    return this.args[0];
  }

  getHeaders(): Record<string, string> {
    return this.args[1];
  }
}

/** An event with headers, for InProcessClient (like NatsRecord or RmqRecord). */
export class InProcessRecord<T = unknown> {
  constructor(
    readonly data: T,
    readonly headers: Record<string, string> = {},
  ) {}
}

function isProblem(error: unknown): boolean {
  return typeof error === 'object' && error !== null && 'code' in error && 'correlationId' in error;
}

/** Microservice server strategy that consumes from an InProcessBus. */
export class InProcessServer extends Server implements CustomTransportStrategy {
  protected override readonly logger = new Logger(InProcessServer.name);
  private unsubscribe?: () => void;
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(private readonly bus: InProcessBus) {
    super();
  }

  listen(callback: (...optionalParams: unknown[]) => unknown): void {
    this.unsubscribe = this.bus.subscribe((message) => this.receive(message));
    callback();
  }

  /** Stops consuming and waits for the handlers already running. */
  async close(): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    await Promise.allSettled([...this.inFlight]);
  }

  on(): never {
    throw new Error('The in-process transport emits no events to listen to.');
  }

  /**
   * Like Server.handleEvent, but resolves when the handler's work is done:
   * Nest's version returns once the handler hands back its Observable (every
   * handler does behind an interceptor), which would let close() return while
   * handlers still run against connections being closed.
   */
  override async handleEvent(
    pattern: string,
    packet: ReadPacket,
    context: BaseRpcContext,
  ): Promise<void> {
    const handler = this.getHandlerByPattern(pattern);
    if (!handler) {
      this.logger.error(`No event handler for ${pattern}`);
      return;
    }
    // Our own promise: the processing hooks are typed to return nothing.
    await new Promise<void>((resolve, reject) => {
      this.runWithProcessingHooks(context, async (runEndHook: () => void) => {
        try {
          const result: unknown = await handler(packet.data, context);
          if (isObservable(result)) await lastValueFrom(result, { defaultValue: undefined });
          resolve();
        } catch (error) {
          // What a handler throws through the exception filter is its problem
          // object, not an Error; it is passed on as it is.
          // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
          reject(error);
        } finally {
          runEndHook();
        }
      });
    });
  }

  unwrap<T>(): T {
    return this.bus as T;
  }

  private receive(message: string): void {
    const { pattern, data, headers } = JSON.parse(message) as {
      pattern: string;
      data: unknown;
      headers: Record<string, string>;
    };
    const context = new InProcessContext([pattern, headers]);
    const handling = this.handleEvent(pattern, { pattern, data }, context)
      // The global exception filter has logged the failure with its context;
      // what reaches here is its problem object, or an error it never saw.
      .catch((error: unknown) => {
        if (!isProblem(error)) this.logger.error(`Handler for ${pattern} failed`, error);
      })
      .finally(() => this.inFlight.delete(handling));
    this.inFlight.add(handling);
  }
}

/** ClientProxy that publishes events to an InProcessBus. Events only. */
export class InProcessClient extends ClientProxy {
  private readonly bus: InProcessBus;

  constructor(options: { bus: InProcessBus }) {
    super();
    this.bus = options.bus;
  }

  connect(): Promise<void> {
    return Promise.resolve();
  }

  close(): void {}

  unwrap<T>(): T {
    return this.bus as T;
  }

  protected publish(_packet: ReadPacket, callback: (packet: WritePacket) => void): () => void {
    callback({
      err: new Error('The in-process transport carries events only; use emit(), not send().'),
      isDisposed: true,
    });
    return () => undefined;
  }

  protected dispatchEvent<T = unknown>(packet: ReadPacket): Promise<T> {
    const payload: unknown = packet.data;
    const record: InProcessRecord<unknown> =
      payload instanceof InProcessRecord
        ? (payload as InProcessRecord<unknown>)
        : new InProcessRecord(payload);
    const { data, headers } = record;
    this.bus.publish(String(packet.pattern), data, headers);
    return Promise.resolve(undefined as T);
  }
}
