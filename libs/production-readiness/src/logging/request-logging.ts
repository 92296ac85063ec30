import type { ServerResponse } from 'node:http';
import { Inject, Injectable, Logger, Optional, type OnModuleInit } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import type { BaseServiceConfig } from '../config/base-service.config.js';
import { SERVICE_CONFIG } from '../config/default-service-config.js';
import { HttpRequestPipeline, PipelineStage } from '../http/http-request-pipeline.js';
import type { FinishedRequest } from '../http/request-entry.js';
import { LOGGING_OPTIONS } from './logging.module-definition.js';
import { resolveLoggingOptions, type LoggingOptions } from './logging.options.js';
import { secretHeadersStep } from './secret-headers.js';
import { extraSensitiveNames, ServiceLogger } from './service-logger.js';

/** The value of nestjs-pino's exported PARAMS_PROVIDER_TOKEN: its LoggerModule's options. */
const NESTJS_PINO_PARAMS = 'pino-params';

/**
 * Whether pino-http's middleware handled the request: it gives every request
 * it sees an `allLogs` array, on the request and the response (declared in
 * pino-http's types), and nothing else does. Not `req.log` or `req.id`:
 * @fastify/middie sets those on the raw request before any middleware runs.
 */
function isHandledByPinoHttp(response: ServerResponse | undefined): boolean {
  return Array.isArray((response as { allLogs?: unknown } | undefined)?.allLogs);
}

/**
 * Makes ServiceLogger Nest's logger as soon as it exists (what
 * `app.useLogger()` does, without the app: from then on Nest's own lines and
 * every `new Logger()` write JSON), hides the secret request headers from
 * every JSON log line, and writes the access line of each request when its
 * response has been sent. Nest's logger is one per process: with two apps in
 * a process, the last one created writes for both.
 *
 * With nestjs-pino (or any pino-http) in the app, its line stays and ours
 * goes (`accessLog: 'auto'`): whoever chose it has dashboards and alerts on
 * its fields, and its `customProps` can carry our correlation id. That is
 * decided per request, by whether pino-http's middleware saw the request,
 * not by finding nestjs-pino's module: on Fastify 5 its default route
 * matches nothing, and what the pipeline refuses before the app's middleware
 * (CORS, body limits, shutdown) never reaches it. Those would go unlogged.
 */
@Injectable()
export class RequestLogging implements OnModuleInit {
  private doesPinoHttpLog = true;

  constructor(
    logger: ServiceLogger,
    @Inject(SERVICE_CONFIG) config: BaseServiceConfig,
    @Inject(LOGGING_OPTIONS) options: LoggingOptions,
    private readonly moduleRef: ModuleRef,
    @Optional() pipeline?: HttpRequestPipeline,
  ) {
    Logger.overrideLogger(logger);
    if (!pipeline) return;
    const resolved = resolveLoggingOptions(options);
    pipeline.addStep(
      PipelineStage.redaction,
      secretHeadersStep(extraSensitiveNames(config, resolved)),
    );
    if (resolved.accessLog === true) {
      pipeline.onFinish((request) => logger.logRequest(request));
    } else if (resolved.accessLog === 'auto') {
      pipeline.onFinish((request: FinishedRequest) => {
        if (!this.doesPinoHttpLog || !isHandledByPinoHttp(request.response)) {
          logger.logRequest(request);
        }
      });
    }
  }

  // The app's providers, nestjs-pino's options among them, all exist by now,
  // and no request has been served yet.
  onModuleInit(): void {
    this.doesPinoHttpLog = nestjsPinoAutoLogging(this.moduleRef);
  }
}

/**
 * False when the app's nestjs-pino turns pino-http's access line off
 * (`pinoHttp.autoLogging: false`). Its options are looked up by the token
 * nestjs-pino exports, through Nest's ModuleRef, so nestjs-pino is not imported
 * (it is not a dependency) and any copy of it is found.
 */
function nestjsPinoAutoLogging(moduleRef: ModuleRef): boolean {
  let params: unknown;
  try {
    params = moduleRef.get(NESTJS_PINO_PARAMS, { strict: false });
  } catch {
    return true;
  }
  const pinoHttp = (params as { pinoHttp?: unknown } | undefined)?.pinoHttp;
  // `pinoHttp` is pino-http's options, a stream, or [options, stream].
  const options: unknown = Array.isArray(pinoHttp) ? pinoHttp[0] : pinoHttp;
  return (options as { autoLogging?: unknown } | undefined)?.autoLogging !== false;
}
