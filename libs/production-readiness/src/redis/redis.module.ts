import { Global, Module } from '@nestjs/common';
import { RedisConnection } from './redis-connection.js';
import { serviceConfigProvider } from '../config/default-service-config.js';

/** Provides RedisConnection: the app's Redis client when REDIS_URL is set. */
@Global()
@Module({ providers: [serviceConfigProvider, RedisConnection], exports: [RedisConnection] })
export class RedisModule {}
