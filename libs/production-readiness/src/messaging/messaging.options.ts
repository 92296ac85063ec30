/** Options of MessagingModule. */
export interface MessagingOptions {
  /**
   * Connect the app's `@EventPattern` handlers to the message bus and let it publish.
   * @default true (in ProductionReadinessModule: false unless `messaging` is given)
   */
  enabled?: boolean;
  /**
   * Where replicas of this service share the work: the NATS queue group, the
   * RabbitMQ queue, and the Kafka client id. Kafka's group is KAFKA_GROUP_ID.
   * @default SERVICE_NAME
   */
  queue?: string;
  /**
   * How long publish() waits for the broker to take a message (connecting
   * included), in milliseconds; past it, it rejects with a
   * DEPENDENCY_UNAVAILABLE ServiceError (a 503 if the request lets it
   * through) instead of holding the request while the broker is unreachable.
   * @default 2000
   */
  publishTimeoutMs?: number;
}

export type ResolvedMessagingOptions = Required<
  Pick<MessagingOptions, 'enabled' | 'publishTimeoutMs'>
> &
  Pick<MessagingOptions, 'queue'>;

export const DEFAULT_PUBLISH_TIMEOUT_MS = 2_000;

export function resolveMessagingOptions(options: MessagingOptions = {}): ResolvedMessagingOptions {
  const publishTimeoutMs = options.publishTimeoutMs ?? DEFAULT_PUBLISH_TIMEOUT_MS;
  if (!Number.isInteger(publishTimeoutMs) || publishTimeoutMs < 1) {
    throw new TypeError(
      `MessagingOptions.publishTimeoutMs must be a positive integer (got ${publishTimeoutMs}).`,
    );
  }
  return { enabled: options.enabled ?? true, queue: options.queue, publishTimeoutMs };
}
