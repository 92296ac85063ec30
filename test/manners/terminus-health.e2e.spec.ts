import { Controller, Get, Header, Module } from '@nestjs/common';
import {
  HealthCheck,
  HealthCheckService,
  MemoryHealthIndicator,
  TerminusModule,
  type HealthCheckResult,
} from '@nestjs/terminus';
import { ProductionReadinessModule } from 'nestjs-production-readiness';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADAPTERS, startUserApp, type UserApp } from './user-app.js';

const API_KEY = 'terminus-manners-key-0123456789';

/** The health endpoint an app had before it imported the library, as terminus' docs write it. */
@Controller('health')
class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly memory: MemoryHealthIndicator,
  ) {}

  // Fails for real: no heap is under one byte.
  @Get()
  @HealthCheck()
  check(): Promise<HealthCheckResult> {
    return this.health.check([() => this.memory.checkHeap('memory_heap', 1)]);
  }

  @Get('roomy')
  @HealthCheck()
  roomy(): Promise<HealthCheckResult> {
    return this.health.check([() => this.memory.checkHeap('memory_heap', Number.MAX_SAFE_INTEGER)]);
  }
}

/** Not a health check, though it sends the same Cache-Control as @HealthCheck() does. */
@Controller('account')
class AccountController {
  @Get('tokens')
  @Header('Cache-Control', 'no-cache, no-store, must-revalidate')
  tokens(): { tokens: string[] } {
    return { tokens: [] };
  }
}

@Module({
  imports: [ProductionReadinessModule.forRoot(), TerminusModule.forRoot({ logger: false })],
  controllers: [HealthController, AccountController],
})
class ShopModule {}

describe.each(ADAPTERS)("an app's own terminus health endpoint on %s", (adapter) => {
  let shop: UserApp;

  beforeAll(async () => {
    shop = await startUserApp(ShopModule, adapter, { API_KEYS: API_KEY });
  });

  afterAll(async () => {
    await shop?.app.close();
  });

  it("answers a failing check with terminus' own 503 body, the correlation id and no key", async () => {
    const response = await shop.http.get('/health').set('X-Correlation-ID', `health-${adapter}`);

    expect(response.status).toBe(503);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    expect(response.headers['x-correlation-id']).toBe(`health-${adapter}`);
    expect(response.headers['cache-control']).toBe('no-cache, no-store, must-revalidate');
    const down = { status: 'down', message: expect.any(String) as unknown };
    expect(response.body).toEqual({
      status: 'error',
      info: {},
      error: { memory_heap: down },
      details: { memory_heap: down },
    });
  });

  it('answers a passing check with 200 and no key', async () => {
    const response = await shop.http.get('/health/roomy');

    expect(response.status).toBe(200);
    expect(response.body).toEqual({
      status: 'ok',
      info: { memory_heap: { status: 'up' } },
      error: {},
      details: { memory_heap: { status: 'up' } },
    });
  });

  it('still asks a key of a route that only sends the same Cache-Control', async () => {
    const refused = await shop.http.get('/account/tokens');
    expect(refused.status).toBe(401);
    expect(refused.headers['content-type']).toMatch(/^application\/problem\+json/);

    const accepted = await shop.http.get('/account/tokens').set('X-API-Key', API_KEY);
    expect(accepted.status).toBe(200);
  });
});
