// The user's own main.ts: NestFactory.create and app.listen, no library
// bootstrap. PLAIN_ADAPTER picks Fastify; PLAIN_SHUTDOWN_HOOKS=1 adds the usual
// app.enableShutdownHooks().
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module.js';

async function bootstrap(): Promise<void> {
  const app =
    process.env.PLAIN_ADAPTER === 'fastify'
      ? await NestFactory.create(
          AppModule,
          new (await import('@nestjs/platform-fastify')).FastifyAdapter(),
        )
      : await NestFactory.create(AppModule);
  if (process.env.PLAIN_SHUTDOWN_HOOKS === '1') app.enableShutdownHooks();
  await app.listen(Number(process.env.PORT ?? 3000), '127.0.0.1');
}
void bootstrap();
