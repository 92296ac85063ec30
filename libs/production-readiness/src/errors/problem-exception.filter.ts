import { Catch, HttpStatus, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { throwError, type Observable } from 'rxjs';
import { CORRELATION_ID_HEADER } from '../context/correlation-id.js';
import { failedTerminusHealthCheck } from '../health/terminus-health-check.js';
import { wasAnsweredEarly } from '../http/early-refusals.js';
import { PROBLEM_CONTENT_TYPE, type ProblemDetails } from './problem-details.js';
import { ProblemResponder, type ProblemRequest } from './problem-responder.js';

interface RequestLike {
  method?: string;
  url?: string;
  originalUrl?: string;
  headers?: Record<string, string | string[] | undefined>;
}

/**
 * The global exception filter: every error of an HTTP handler becomes an
 * RFC 9457 `application/problem+json` answer, but a failed terminus health
 * check, which keeps terminus' own 503 body; every error of a message
 * handler is logged and, for request-response callers, answered with the
 * same problem object. Override handleHttp or handleRpc to change either,
 * and name the subclass in `ErrorsOptions.exceptionFilter`.
 */
@Catch()
export class ProblemExceptionFilter implements ExceptionFilter {
  constructor(
    protected readonly responder: ProblemResponder,
    protected readonly adapterHost: HttpAdapterHost,
  ) {}

  catch(exception: unknown, host: ArgumentsHost): unknown {
    if (host.getType() === 'rpc') return this.handleRpc(exception, host);
    return this.handleHttp(exception, host);
  }

  protected handleHttp(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<RequestLike>();
    // Answered and logged by the pipeline already (a body cut at the limit),
    // which the parser reports once it has given up on the body.
    if (wasAnsweredEarly(request)) return;
    const response = http.getResponse<object>();
    const adapter = this.adapterHost.httpAdapter;
    const problemRequest: ProblemRequest = {
      method: request.method ?? 'GET',
      url: request.originalUrl ?? request.url ?? '/',
      headers: request.headers ?? {},
      request,
    };
    // An app's own terminus endpoint keeps the body its monitors already
    // read; terminus has logged the failure itself.
    const failedHealthCheck = failedTerminusHealthCheck(exception);
    if (failedHealthCheck) {
      if (adapter.isHeadersSent(response)) return;
      adapter.setHeader(
        response,
        CORRELATION_ID_HEADER,
        this.responder.correlationIdOf(problemRequest),
      );
      adapter.reply(response, failedHealthCheck, HttpStatus.SERVICE_UNAVAILABLE);
      return;
    }
    const { problem, headers } = this.responder.forHttp(exception, problemRequest);
    if (adapter.isHeadersSent(response)) return;
    for (const [name, value] of Object.entries(headers)) adapter.setHeader(response, name, value);
    adapter.setHeader(response, 'content-type', PROBLEM_CONTENT_TYPE);
    adapter.reply(response, JSON.stringify(problem), problem.status);
  }

  protected handleRpc(exception: unknown, host: ArgumentsHost): Observable<never> {
    const pattern = this.patternOf(host);
    const problem: ProblemDetails = this.responder.forRpc(exception, pattern);
    return throwError(() => problem);
  }

  // Each transport's context names the pattern its own way.
  private patternOf(host: ArgumentsHost): string {
    const context = host.switchToRpc().getContext<Record<string, unknown> | undefined>();
    for (const getter of ['getPattern', 'getSubject', 'getTopic', 'getChannel']) {
      const read = context?.[getter];
      if (typeof read === 'function') {
        const pattern: unknown = read.call(context);
        if (typeof pattern === 'string') return pattern;
      }
    }
    return 'message';
  }
}
