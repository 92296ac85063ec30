import { Module, type DynamicModule } from '@nestjs/common';
import { HealthModuleClass, HEALTH_OPTIONS_TYPE } from './health.module-definition.js';
import { LivenessService } from './liveness.service.js';
import { ReadinessService } from './readiness.service.js';
import { serviceConfigProvider } from '../config/default-service-config.js';

/**
 * Kubernetes-grade probes on @nestjs/terminus: /livez (the process only),
 * /readyz and /healthz (every required dependency, started, not shutting
 * down), /startupz. Checks what the app has configured on its own
 * connections: the TypeORM DataSource, Redis, the message broker.
 */
@Module({
  providers: [serviceConfigProvider, LivenessService, ReadinessService],
  exports: [ReadinessService],
})
export class HealthModule extends HealthModuleClass {
  /** The module with its options; every one has a default, so `forRoot()` is enough. */
  static forRoot(options: typeof HEALTH_OPTIONS_TYPE = {}): DynamicModule {
    return super.forRoot(options);
  }
}
