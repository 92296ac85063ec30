import { ConfigurableModuleBuilder, type DynamicModule } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { BaseServiceConfig } from './config/base-service.config.js';
import { ServiceConfigModule } from './config/service-config.module.js';
import { ErrorsModule } from './errors/errors.module.js';
import { HealthModule } from './health/health.module.js';
import { HttpClientModule } from './http-client/http-client.module.js';
import { HttpPipelineModule } from './http/http-pipeline.module.js';
import { HTTP_OPTIONS, type HttpOptions } from './http/http.options.js';
import { serviceConfigProvider } from './config/default-service-config.js';
import { DEFAULT_HEALTH_PATHS } from './health/health.options.js';
import { LoggingModule } from './logging/logging.module.js';
import { MetricsModule } from './metrics/metrics.module.js';
import { RedisModule } from './redis/redis.module.js';
import { StartupReportModule } from './startup-report/startup-report.module.js';
import { ResilienceModule } from './resilience/resilience.module.js';
import { ShutdownModule } from './shutdown/shutdown.module.js';
import { OverloadModule } from './overload/overload.module.js';
import { SecurityModule } from './security/security.module.js';
import { DatabaseQueryTracer } from './tracing/database-query-tracer.service.js';
import { NestHandlerSpanInterceptor } from './tracing/nest-handler-span.interceptor.js';
import { StartupAnnouncer } from './tracing/tracing-announcer.js';
import { isTracingActive } from './tracing/tracing-state.js';
import type { MessagingOptions } from './messaging/messaging.options.js';
import {
  messagingOptionsFrom,
  type ProductionReadinessExtras,
  type ProductionReadinessConcernOptions,
} from './production-readiness.options.js';

/** Injection token of ProductionReadinessModule's options. */
export const PRODUCTION_READINESS_OPTIONS = 'PRODUCTION_READINESS_OPTIONS';

export const {
  ConfigurableModuleClass: ProductionReadinessModuleClass,
  OPTIONS_TYPE: PRODUCTION_READINESS_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: PRODUCTION_READINESS_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<ProductionReadinessConcernOptions>({
  moduleName: 'ProductionReadiness',
  optionsInjectionToken: PRODUCTION_READINESS_OPTIONS,
})
  .setClassMethodName('forRoot')
  .setExtras<ProductionReadinessExtras>(
    {
      config: BaseServiceConfig,
      healthPaths: {},
      metricsPath: '/metrics',
      messaging: false,
      envFilePath: '.env',
      env: undefined,
    },
    (
      definition,
      { config, healthPaths, metricsPath, messaging, envFilePath, env },
    ): DynamicModule => {
      // Each concern module reads its options from the root options through a
      // factory, so forRoot and forRootAsync share one code path. That needs the
      // root module global: its options token must be visible to its imports.
      const fromRoot = { inject: [PRODUCTION_READINESS_OPTIONS] };
      return {
        ...definition,
        global: true,
        providers: [
          ...(definition.providers ?? []),
          serviceConfigProvider,
          StartupAnnouncer,
          {
            provide: HTTP_OPTIONS,
            ...fromRoot,
            useFactory: ({ http, errors }: ProductionReadinessConcernOptions): HttpOptions => ({
              extraBodyTypes: errors?.extraBodyTypes,
              ...http,
            }),
          },
          // Tracing starts before the app's modules load (the tracing entry),
          // so whether handlers get spans is known here; untraced apps pay nothing.
          ...(isTracingActive()
            ? [
                { provide: APP_INTERCEPTOR, useClass: NestHandlerSpanInterceptor },
                DatabaseQueryTracer,
              ]
            : []),
        ],
        imports: [
          ...(definition.imports ?? []),
          ServiceConfigModule.forRoot({ config, envFilePath, env }),
          HttpPipelineModule,
          LoggingModule.forRootAsync({
            ...fromRoot,
            useFactory: ({ logging }: ProductionReadinessConcernOptions) => logging ?? {},
          }),
          ErrorsModule.forRootAsync({
            ...fromRoot,
            useFactory: ({ errors }: ProductionReadinessConcernOptions) => errors ?? {},
          }),
          ...messagingImports(messaging),
          RedisModule,
          MetricsModule.forRootAsync({
            ...fromRoot,
            path: metricsPath,
            useFactory: ({ metrics }: ProductionReadinessConcernOptions) => metrics ?? {},
          }),
          HealthModule.forRootAsync({
            ...fromRoot,
            paths: healthPaths,
            useFactory: ({ health }: ProductionReadinessConcernOptions) => health ?? {},
          }),
          SecurityModule.forRootAsync({
            ...fromRoot,
            // The probes and /metrics are public, at whatever paths they are served.
            useFactory: ({ security }: ProductionReadinessConcernOptions) => ({
              publicPaths: [
                ...Object.values({ ...DEFAULT_HEALTH_PATHS, ...healthPaths }),
                metricsPath,
              ],
              metricsPath,
              ...security,
            }),
          }),
          ShutdownModule.forRootAsync({
            ...fromRoot,
            useFactory: ({ shutdown }: ProductionReadinessConcernOptions) => shutdown ?? {},
          }),
          OverloadModule.forRootAsync({
            ...fromRoot,
            // The probes and /metrics are never shed, at whatever paths they are served.
            useFactory: ({ overload }: ProductionReadinessConcernOptions) => ({
              ...overload,
              neverShedPaths: [
                ...Object.values({ ...DEFAULT_HEALTH_PATHS, ...healthPaths }),
                metricsPath,
                ...(overload?.neverShedPaths ?? []),
              ],
            }),
          }),
          ResilienceModule.forRootAsync({
            ...fromRoot,
            useFactory: ({ resilience }: ProductionReadinessConcernOptions) => resilience ?? {},
          }),
          HttpClientModule.forRootAsync({
            ...fromRoot,
            useFactory: ({ httpClient }: ProductionReadinessConcernOptions) => httpClient ?? {},
          }),
          StartupReportModule,
        ],
        exports: [
          PRODUCTION_READINESS_OPTIONS,
          HTTP_OPTIONS,
          ServiceConfigModule,
          HttpPipelineModule,
          LoggingModule,
          ErrorsModule,
          RedisModule,
          MetricsModule,
          HealthModule,
          SecurityModule,
          ShutdownModule,
          OverloadModule,
          ResilienceModule,
          HttpClientModule,
          StartupReportModule,
        ],
      };
    },
  )
  .build();

/**
 * MessagingModule, loaded only when messaging is on: it needs
 * `@nestjs/microservices` (an optional peer) and the broker's client. Nest
 * accepts a promise of a module among the imports.
 */
function messagingImports(messaging: boolean | MessagingOptions): Promise<DynamicModule>[] {
  const options = messagingOptionsFrom(messaging);
  if (options.enabled === false) return [];
  return [
    import('./messaging/messaging.module.js').then(
      ({ MessagingModule }) => MessagingModule.forRoot(options),
      (error: unknown) => {
        throw new Error(
          `ProductionReadinessModule: messaging is on but @nestjs/microservices could not be loaded (npm install @nestjs/microservices): ${String(error)}`,
        );
      },
    ),
  ];
}
