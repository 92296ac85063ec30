/** @default 'nats://127.0.0.1:4222' */
export const NATS_URL = process.env.TEST_NATS_URL ?? 'nats://127.0.0.1:4222';
