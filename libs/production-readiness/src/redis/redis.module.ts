import { Global, Module } from '@nestjs/common';
import { RedisConnection } from './redis-connection.js';

/** Provides RedisConnection: the app's Redis client when REDIS_URL is set. */
@Global()
@Module({ providers: [RedisConnection], exports: [RedisConnection] })
export class RedisModule {}
