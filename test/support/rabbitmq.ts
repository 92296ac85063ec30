import { connect } from 'amqplib';

/** @default 'amqp://guest:guest@127.0.0.1:5672' */
export const RABBITMQ_URL = process.env.TEST_RABBITMQ_URL ?? 'amqp://guest:guest@127.0.0.1:5672';

/**
 * Deletes a queue a test created; RabbitMQ keeps durable queues after their
 * consumers leave, so each run would otherwise leave one behind.
 */
export async function deleteQueue(queue: string, url = RABBITMQ_URL): Promise<void> {
  const connection = await connect(url);
  try {
    const channel = await connection.createChannel();
    await channel.deleteQueue(queue);
    await channel.close();
  } finally {
    await connection.close();
  }
}
