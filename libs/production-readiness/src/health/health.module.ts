import { Module } from '@nestjs/common';
import { HealthModuleClass } from './health.module-definition.js';
import { LivenessService } from './liveness.service.js';
import { ReadinessService } from './readiness.service.js';

/**
 * Kubernetes-grade probes on @nestjs/terminus: /livez (the process only),
 * /readyz and /healthz (every required dependency, started, not shutting
 * down), /startupz. Checks what the app has configured on its own
 * connections: the TypeORM DataSource, Redis, the message broker.
 */
@Module({ providers: [LivenessService, ReadinessService], exports: [ReadinessService] })
export class HealthModule extends HealthModuleClass {}
