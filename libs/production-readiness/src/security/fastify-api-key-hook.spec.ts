import { FASTIFY_ROUTE_CONFIG_METADATA as PLATFORM_ROUTE_CONFIG } from '@nestjs/platform-fastify/constants.js';
import { describe, expect, it } from 'vitest';
import type { ApiKeyRoutes } from './api-key-routes.js';
import {
  checkApiKeysInFastifyHooks,
  checksApiKeysInHooks,
  FASTIFY_ROUTE_CONFIG_METADATA,
} from './fastify-api-key-hook.js';

const routes = (isAmbiguous: boolean) => ({ isAmbiguous }) as ApiKeyRoutes;

describe('API keys in Fastify route hooks', () => {
  it("writes to the metadata Nest's Fastify adapter reads as the route config", () => {
    expect(FASTIFY_ROUTE_CONFIG_METADATA).toBe(PLATFORM_ROUTE_CONFIG);
  });

  it('is used only for an adapter createServiceApp() marked, and only when every route can be judged', () => {
    const marked = {};
    const other = {};
    checkApiKeysInFastifyHooks(marked);

    expect(checksApiKeysInHooks(marked, routes(false))).toBe(true);
    expect(checksApiKeysInHooks(marked, routes(true))).toBe(false);
    expect(checksApiKeysInHooks(other, routes(false))).toBe(false);
    expect(checksApiKeysInHooks(undefined, routes(false))).toBe(false);
  });
});
