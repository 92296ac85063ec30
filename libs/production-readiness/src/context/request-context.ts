import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';

/** What the library keeps for the request or message being handled. */
export interface RequestContextStore {
  /** The id on every log line, error body, response header and outgoing message. */
  readonly correlationId: string;
  /**
   * The fingerprint of the API key that authenticated the request (set by
   * ApiKeyGuard; never the key), for the access line.
   */
  apiKeyId?: string;
}

const storage = new AsyncLocalStorage<RequestContextStore>();

/**
 * The request context, held in AsyncLocalStorage for the whole life of an
 * HTTP request or a message handler. Readable anywhere without injection:
 *
 * ```ts
 * RequestContext.correlationId // '5f0c...' inside a request, undefined outside
 * await RequestContext.run({ correlationId: job.id }, () => processJob(job));
 * ```
 */
export class RequestContext {
  /** The current context, or undefined outside any request or message. */
  static current(): RequestContextStore | undefined {
    return storage.getStore();
  }

  /** The current correlation id, or undefined outside any request or message. */
  static get correlationId(): string | undefined {
    return storage.getStore()?.correlationId;
  }

  /**
   * Runs `fn` inside a context (for message handlers, scheduled jobs, tests).
   * A missing correlation id is minted.
   */
  static run<T>(store: Partial<RequestContextStore>, fn: () => T): T {
    // Every store has the same shape (apiKeyId is set later, by the guard).
    const context: RequestContextStore = {
      correlationId: store.correlationId ?? randomUUID(),
      apiKeyId: store.apiKeyId,
    };
    return storage.run(context, fn);
  }

  /**
   * Runs `fn` outside any context: for connections and timers that outlive
   * the request that happened to create them, so their logs don't carry its id.
   */
  static outside<T>(fn: () => T): T {
    return storage.exit(fn);
  }
}

/**
 * The HTTP entry's way into a request's context (not exported from the
 * package): a new context with this id and `fn` called with the arguments as
 * they are, so a request allocates neither a closure nor a second store object,
 * as RequestContext.run() does.
 */
export function enterRequestContext<A, B, C, T>(
  correlationId: string,
  fn: (a: A, b: B, c: C) => T,
  a: A,
  b: B,
  c: C,
): T {
  const context: RequestContextStore = { correlationId, apiKeyId: undefined };
  return storage.run(context, fn, a, b, c);
}
