import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { Redis } from 'ioredis';
import { BaseServiceConfig } from '../config/base-service.config.js';
import { SERVICE_CONFIG } from '../config/default-service-config.js';
import { RequestContext } from '../context/request-context.js';

/** How long one Redis command may take before it fails, in ms, unless REDIS_COMMAND_TIMEOUT_MS says otherwise. */
export const REDIS_COMMAND_TIMEOUT_MS = 2_000;

/**
 * The app's one Redis connection, opened when REDIS_URL is set. ioredis
 * queues commands forever while disconnected and has no command timeout by
 * default; here commands fail fast instead (no offline queue, a command
 * timeout, one retry), so a Redis outage is an error, not a hang.
 */
@Injectable()
export class RedisConnection implements OnApplicationShutdown {
  private readonly logger = new Logger(RedisConnection.name);
  /** The ioredis client, or undefined when REDIS_URL is not set. */
  readonly client?: Redis;

  constructor(@Inject(SERVICE_CONFIG) config: BaseServiceConfig) {
    const url = config.REDIS_URL;
    if (!url) return;
    // Created outside any request so the client's own logs carry no request id.
    this.client = RequestContext.outside(
      () =>
        new Redis(url, {
          lazyConnect: false,
          enableOfflineQueue: false,
          maxRetriesPerRequest: 1,
          commandTimeout: config.REDIS_COMMAND_TIMEOUT_MS ?? REDIS_COMMAND_TIMEOUT_MS,
          connectTimeout: 5_000,
          retryStrategy: (attempt) => Math.min(100 * 2 ** attempt, 2_000),
        }),
    );
    // Without a listener ioredis prints every connection error to stderr.
    this.client.on('error', (error: Error) => this.logger.warn(`Redis: ${error.message}`));
  }

  get isConfigured(): boolean {
    return this.client !== undefined;
  }

  async onApplicationShutdown(): Promise<void> {
    if (!this.client) return;
    try {
      await this.client.quit();
    } catch {
      this.client.disconnect();
    }
  }
}
