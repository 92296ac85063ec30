import type { Type } from '@nestjs/common';
import type { SecurityOptions, ServerLimitsOptions } from 'nestjs-production-readiness';
import { startCapturedEssayService, type ListeningEssayService } from './captured-essay-service.js';
import type { HttpAdapterName } from './test-env.js';

export interface SecuredEssayServiceOptions {
  /** @default 'express' */
  adapter?: HttpAdapterName;
  /**
   * Environment over the isolated defaults, which also unset API_KEYS,
   * API_KEY_HEADER and CORS_ORIGINS: each test names the keys and origins it uses.
   */
  env?: Record<string, string | undefined>;
  /** The `security` options of ProductionReadinessModule. */
  security?: SecurityOptions;
  /** The HTTP server's limits (ProductionReadinessModule's `http` options). */
  serverLimits?: ServerLimitsOptions;
  /** Test-only controllers added beside the sample app's own. */
  controllers?: Type<unknown>[];
}

/** The sample app listening on loopback, with its logs captured. */
export type SecuredEssayService = ListeningEssayService;

/**
 * The sample app as createServiceApp() builds it for production, with the
 * test's security options, server limits and controllers, listening on an
 * ephemeral loopback port (for raw sockets and browsers as well as supertest).
 */
export async function startSecuredEssayService(
  options: SecuredEssayServiceOptions = {},
): Promise<SecuredEssayService> {
  return startCapturedEssayService({
    adapter: options.adapter,
    env: {
      API_KEYS: undefined,
      API_KEY_HEADER: undefined,
      CORS_ORIGINS: undefined,
      ...options.env,
    },
    readiness: { security: options.security, http: options.serverLimits },
    controllers: options.controllers,
    listen: true,
  });
}
