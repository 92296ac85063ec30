import { Module, type DynamicModule } from '@nestjs/common';
import { LoggingModuleClass, LOGGING_OPTIONS_TYPE } from './logging.module-definition.js';
import { RequestLogging } from './request-logging.js';
import { ServiceLogger } from './service-logger.js';
import { serviceConfigProvider } from '../config/default-service-config.js';
import { HttpPipelineModule } from '../http/http-pipeline.module.js';

/**
 * Structured JSON logs through pino: ServiceLogger becomes Nest's logger and
 * writes one access line per request (RequestLogging), unless the app's own
 * pino-http (nestjs-pino) writes it.
 *
 * Why not nestjs-pino: its pino-http middleware serializes the whole request
 * and response on every request (most of the 70-100 µs a hand-wired setup
 * costs), it keeps one root logger per process fixed by the first app, and on
 * Fastify 5 through @fastify/middie 9 its default route matches nothing.
 */
@Module({
  imports: [HttpPipelineModule],
  providers: [serviceConfigProvider, ServiceLogger, RequestLogging],
  exports: [ServiceLogger],
})
export class LoggingModule extends LoggingModuleClass {
  /** The module with its options; every one has a default, so `forRoot()` is enough. */
  static forRoot(options: typeof LOGGING_OPTIONS_TYPE = {}): DynamicModule {
    return super.forRoot(options);
  }
}
