import { Inject, Injectable, Logger, type OnApplicationBootstrap, Optional } from '@nestjs/common';
import { BaseServiceConfig } from '../config/base-service.config.js';
import { SERVICE_CONFIG } from '../config/default-service-config.js';
import { redactSettings } from '../config/redaction.js';
import { GracefulShutdown } from '../shutdown/graceful-shutdown.service.js';
import { tracingState } from './tracing-state.js';

let isTracingReported = false;

/**
 * Says at startup what the service runs with: its settings (secrets
 * redacted) and, once per process, whether spans are exported and why not
 * (the tracing entry runs before any logger exists; an endpoint set without
 * the entry is the mistake worth a warning). Ends the tracer after the
 * in-flight work during a shutdown, so their spans are exported.
 */
@Injectable()
export class StartupAnnouncer implements OnApplicationBootstrap {
  private readonly logger = new Logger('ServiceApp');

  constructor(
    @Inject(SERVICE_CONFIG) private readonly config: BaseServiceConfig,
    @Optional() shutdown?: GracefulShutdown,
  ) {
    const tracing = tracingState();
    if (tracing?.isActive) shutdown?.registerCleanup('tracing', () => tracing.shutdown());
  }

  onApplicationBootstrap(): void {
    this.logger.log({ message: 'Configuration loaded', settings: redactSettings(this.config) });
    if (isTracingReported) return;
    isTracingReported = true;
    const state = tracingState();
    if (state) {
      this.logger.log({ message: state.description, tracing: state.isActive });
    } else if (
      this.config.TRACING_ENABLED &&
      (process.env.OTEL_EXPORTER_OTLP_ENDPOINT || process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT)
    ) {
      this.logger.warn(
        'Tracing is off: an OTLP endpoint is set but tracing was never started; add ' +
          "`import 'nestjs-production-readiness/tracing';` as the first line of main.ts " +
          '(or run node with `--import nestjs-production-readiness/tracing`).',
      );
    }
  }
}
