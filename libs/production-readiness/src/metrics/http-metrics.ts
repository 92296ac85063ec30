import { Inject, Injectable, Optional } from '@nestjs/common';
import { HttpRequestPipeline } from '../http/http-request-pipeline.js';
import type { FinishedRequest } from '../http/request-entry.js';
import { isTracingActive } from '../tracing/tracing-state.js';
import { MetricsRegistry } from './metrics-registry.js';
import {
  DEFAULT_HTTP_DURATION_BUCKETS,
  METRICS_OPTIONS,
  type MetricsOptions,
} from './metrics.options.js';
import type { RedMetrics, RedSeries } from './red-metrics.js';

/** The `route` of requests that matched no route (404s, 405s, scanners' probes). */
export const UNMATCHED_ROUTE = 'unmatched';

type HttpLabel = 'method' | 'route' | 'status_code';

/**
 * RED metrics of HTTP: `http_requests_total` and
 * `http_request_duration_seconds` by method, route template and the status
 * the client got, recorded once per request when the response has been sent
 * (the HTTP pipeline calls record()). Each method/route/status series is
 * looked up in nested maps, so a request allocates nothing and hashes no
 * label set once its series exists (RedMetrics). When tracing is on, the
 * duration's buckets carry the last sampled request's `trace_id` as an
 * OpenMetrics exemplar.
 */
@Injectable()
export class HttpMetrics {
  readonly isEnabled: boolean;
  private readonly red: RedMetrics<HttpLabel>;
  private readonly series = new Map<string, Map<string, Map<number, RedSeries<HttpLabel>>>>();

  constructor(
    metrics: MetricsRegistry,
    @Inject(METRICS_OPTIONS) options: MetricsOptions,
    @Optional() pipeline?: HttpRequestPipeline,
  ) {
    this.isEnabled = metrics.isEnabled && (options.httpMetrics ?? true);
    this.red = metrics.redMetrics({
      countName: 'http_requests_total',
      countHelp: 'HTTP requests answered, by method, route template and status code.',
      durationName: 'http_request_duration_seconds',
      durationHelp:
        'Time from receiving an HTTP request to sending its response, by method, route template and status code.',
      labelNames: ['method', 'route', 'status_code'],
      buckets: options.httpDurationBuckets ?? DEFAULT_HTTP_DURATION_BUCKETS,
      // Only a traced process pays for exemplars; the text exposition is the same either way.
      enableExemplars: isTracingActive(),
    });
    if (this.isEnabled) pipeline?.onFinish((request) => this.record(request));
  }

  record(
    request: Pick<FinishedRequest, 'method' | 'route' | 'statusCode' | 'durationMs' | 'traceId'>,
  ): void {
    const { method, statusCode } = request;
    const route = request.route ?? UNMATCHED_ROUTE;
    let byRoute = this.series.get(method);
    if (!byRoute) {
      this.series.set(method, (byRoute = new Map<string, Map<number, RedSeries<HttpLabel>>>()));
    }
    let byStatus = byRoute.get(route);
    if (!byStatus) byRoute.set(route, (byStatus = new Map<number, RedSeries<HttpLabel>>()));
    let series = byStatus.get(statusCode);
    if (!series) {
      // The label caps fold a flood of values; the map stays as bounded as
      // the values that reach it (methods, templates, statuses).
      series = this.red.seriesFor({ method, route, status_code: String(statusCode) });
      byStatus.set(statusCode, series);
    }
    this.red.observe(series, request.durationMs / 1000, request.traceId);
  }
}
