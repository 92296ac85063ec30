import { Injectable, Logger, Optional } from '@nestjs/common';
import { HttpRequestPipeline } from '../http/http-request-pipeline.js';
import { ServiceLogger } from './service-logger.js';

/**
 * Makes ServiceLogger Nest's logger as soon as it exists (what
 * `app.useLogger()` does, without the app: from then on Nest's own lines and
 * every `new Logger()` write JSON), and writes the access line of each
 * request when its response has been sent. Nest's logger is one per
 * process: with two apps in a process, the last one created writes for both.
 */
@Injectable()
export class RequestLogging {
  constructor(logger: ServiceLogger, @Optional() pipeline?: HttpRequestPipeline) {
    Logger.overrideLogger(logger);
    if (logger.isAccessLogEnabled) pipeline?.onFinish((request) => logger.logRequest(request));
  }
}
