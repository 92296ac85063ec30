import { createServer, type Server } from 'node:http';
import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { BaseServiceConfig } from '../config/base-service.config.js';
import { SERVICE_CONFIG } from '../config/default-service-config.js';
import { formatFor } from './exposition.js';
import { MetricsRegistry } from './metrics-registry.js';
import { METRICS_PATH } from './metrics.module-definition.js';

/**
 * The exposition on its own port (METRICS_PORT or the `port` option), so it
 * can stay off the public listener. A bare Node server: scrapes skip the app's
 * middleware, guards and access log.
 */
@Injectable()
export class MetricsServer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Metrics');
  private server?: Server;

  constructor(
    private readonly metrics: MetricsRegistry,
    @Inject(SERVICE_CONFIG) private readonly config: BaseServiceConfig,
    @Inject(METRICS_PATH) private readonly path: string,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const { port } = this.metrics;
    if (!this.metrics.isEnabled || port === undefined) return;
    const server = createServer((request, response) => {
      const path = (request.url ?? '/').split('?', 1)[0];
      if (path !== this.path || (request.method !== 'GET' && request.method !== 'HEAD')) {
        response.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('Not found\n');
        return;
      }
      this.metrics.exposition(formatFor(request.headers.accept)).then(
        ({ contentType, body }) => {
          response.writeHead(200, { 'content-type': contentType });
          response.end(request.method === 'HEAD' ? undefined : body);
        },
        (error: unknown) => {
          this.logger.error(`Rendering the metrics failed: ${String(error)}`);
          response.writeHead(500).end();
        },
      );
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, this.config.HOST, () => resolve());
    });
    this.server = server;
    const address = server.address();
    const bound = typeof address === 'object' && address ? address.port : port;
    this.logger.log(`Metrics served on port ${bound} at ${this.path}`);
  }

  /** The port actually bound (differs from the option when it is 0). */
  get boundPort(): number | undefined {
    const address = this.server?.address();
    return typeof address === 'object' && address ? address.port : undefined;
  }

  async onApplicationShutdown(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
