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
}

export type ResolvedMessagingOptions = Required<Pick<MessagingOptions, 'enabled'>> &
  Pick<MessagingOptions, 'queue'>;

export function resolveMessagingOptions(options: MessagingOptions = {}): ResolvedMessagingOptions {
  return { enabled: options.enabled ?? true, queue: options.queue };
}
