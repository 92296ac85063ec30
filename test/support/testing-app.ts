import type { INestApplication } from '@nestjs/common';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import type { TestingModule } from '@nestjs/testing';

/**
 * A compiled testing module made an initialized app on Express or Fastify, as
 * a user's e2e test does; `configure` runs before init (app.use…). On Fastify
 * it also waits for the instance to be ready, so supertest gets a server.
 */
export async function initTestingApp(
  moduleFixture: TestingModule,
  adapter: 'express' | 'fastify',
  configure?: (app: INestApplication) => void,
): Promise<INestApplication> {
  const app =
    adapter === 'fastify'
      ? moduleFixture.createNestApplication(new FastifyAdapter())
      : moduleFixture.createNestApplication();
  configure?.(app);
  await app.init();
  if (adapter === 'fastify') {
    await (app.getHttpAdapter().getInstance() as { ready(): Promise<unknown> }).ready();
  }
  return app;
}
