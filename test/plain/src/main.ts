// The user's own main.ts: NestFactory.create and app.listen, no library
// bootstrap. PLAIN_ADAPTER picks Fastify; PLAIN_SHUTDOWN_HOOKS=1 adds the usual
// app.enableShutdownHooks(); PLAIN_MODULES=shutdown imports ShutdownModule alone,
// PLAIN_MODULES=extended the library with the app's own guard and filter.
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module.js';

async function bootstrap(): Promise<void> {
  const root =
    process.env.PLAIN_MODULES === 'shutdown'
      ? (await import('./shutdown-only.module.js')).ShutdownOnlyModule
      : process.env.PLAIN_MODULES === 'extended'
        ? (await import('./extended.module.js')).ExtendedAppModule
        : AppModule;
  const app =
    process.env.PLAIN_ADAPTER === 'fastify'
      ? await NestFactory.create(
          root,
          new (await import('@nestjs/platform-fastify')).FastifyAdapter(),
        )
      : await NestFactory.create(root);
  if (process.env.PLAIN_SHUTDOWN_HOOKS === '1') app.enableShutdownHooks();
  await app.listen(Number(process.env.PORT ?? 3000), '127.0.0.1');
}
void bootstrap();
