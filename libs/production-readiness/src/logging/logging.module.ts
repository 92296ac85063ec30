import { Module } from '@nestjs/common';
import { LoggingModuleClass } from './logging.module-definition.js';
import { RequestLogging } from './request-logging.js';
import { ServiceLogger } from './service-logger.js';

/**
 * Structured JSON logs through pino: ServiceLogger becomes Nest's logger and
 * writes one access line per request (RequestLogging).
 *
 * Why not nestjs-pino: its pino-http middleware serializes the whole request
 * and response on every request (most of the 70-100 µs a hand-wired setup
 * costs), it keeps one root logger per process fixed by the first app, and on
 * Fastify 5 through @fastify/middie 9 its default route matches nothing.
 */
@Module({ providers: [ServiceLogger, RequestLogging], exports: [ServiceLogger] })
export class LoggingModule extends LoggingModuleClass {}
