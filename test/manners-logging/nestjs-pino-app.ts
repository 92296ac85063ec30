import type { IncomingMessage, Server } from 'node:http';
import { Module, RequestMethod, type INestApplication, type Type } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { Logger, LoggerModule, type Params } from 'nestjs-pino';
import {
  correlationIdOfRequest,
  LOGGING_OPTIONS,
  ProductionReadinessModule,
  type LoggingOptions,
} from 'nestjs-production-readiness';
import request from 'supertest';
import { withEnv } from '../support/essay-service.js';
import { LogCapture, type LogLine } from '../support/log-capture.js';
import { PLAIN_ENV } from '../plain/plain-env.js';
import { AppController } from '../plain/src/app.controller.js';
import { initTestingApp } from '../support/testing-app.js';

export type Adapter = 'express' | 'fastify';

/** A key the app accepts (API_KEYS), sent in X-API-Key. */
export const API_KEY = 'manners-logging-key-0123456789abcdef';

/**
 * nestjs-pino builds one pino-http instance per process, from the `pinoHttp`
 * of the first LoggerModule it meets: every app of a test file passes this
 * same one, and the file reads its lines from `pinoLogs`.
 */
export function pinoHttpOptions(pinoLogs: LogCapture, options: object = {}) {
  return {
    stream: pinoLogs.destination,
    // The README's recipe: our correlation id on nestjs-pino's lines.
    customProps: (req: IncomingMessage) => ({ correlationId: correlationIdOfRequest(req) }),
    ...options,
  };
}

/**
 * nestjs-pino's default route (`{/*splat}`) matches no request on Fastify 5
 * through @fastify/middie 9; a user there names every route.
 */
export const EVERY_ROUTE: Params['forRoutes'] = [{ path: '{*splat}', method: RequestMethod.ALL }];

export interface StartOptions {
  /** nestjs-pino's LoggerModule.forRoot() params; none: an app without nestjs-pino. */
  nestjsPino?: Params;
  /** Our logging options, besides the capturing destination. */
  logging?: LoggingOptions;
  /** Called before init(): app.useLogger(), app.use(). */
  configure?: (app: INestApplication) => void;
}

export interface StartedApp {
  app: INestApplication;
  /** What ServiceLogger writes. */
  ours: LogCapture;
  http: () => ReturnType<typeof request>;
  close(): Promise<void>;
}

/** An app as a user writes it: their modules, then ours, then their controller. */
function appModule(nestjsPino: Params | undefined): Type {
  @Module({
    imports: [
      ...(nestjsPino ? [LoggerModule.forRoot(nestjsPino)] : []),
      ProductionReadinessModule.forRoot(),
    ],
    controllers: [AppController],
  })
  class AppModule {}
  return AppModule;
}

/** The app on `adapter`, with API keys on, our lines in `ours`. */
export async function startApp(adapter: Adapter, options: StartOptions = {}): Promise<StartedApp> {
  const ours = new LogCapture();
  const app = await withEnv({ ...PLAIN_ENV, API_KEYS: API_KEY }, async () => {
    const moduleFixture = await Test.createTestingModule({
      imports: [appModule(options.nestjsPino)],
    })
      .overrideProvider(LOGGING_OPTIONS)
      .useValue({ ...options.logging, destination: ours.destination })
      .compile();
    return initTestingApp(moduleFixture, adapter, options.configure);
  });
  const server = app.getHttpServer() as Server;
  return { app, ours, http: () => request(server), close: () => app.close() };
}

/** nestjs-pino's Logger as Nest's logger, as its README shows. */
export function useNestjsPinoLogger(app: INestApplication): void {
  app.useLogger(app.get(Logger));
}

/** pino-http's access lines (its completed or errored line) of one request. */
export function pinoAccessLines(pinoLogs: LogCapture, correlationId: string): LogLine[] {
  return pinoLogs.lines.filter(
    (line) =>
      line.correlationId === correlationId &&
      (line.msg === 'request completed' || line.msg === 'request errored'),
  );
}

/** Our access lines of one request. */
export function ourAccessLines(ours: LogCapture, correlationId: string): LogLine[] {
  return ours.accessLines().filter((line) => line.correlationId === correlationId);
}
