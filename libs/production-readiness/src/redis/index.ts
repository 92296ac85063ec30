export { REDIS_COMMAND_TIMEOUT_MS, RedisConnection } from './redis-connection.js';
export { RedisModule } from './redis.module.js';
