import { Inject, Injectable } from '@nestjs/common';
import type { Counter, Histogram, LabelValues } from 'prom-client';
import type { FinishedRequest } from '../context/http-request-context.js';
import { isTracingActive } from '../tracing/tracing-state.js';
import { MetricsRegistry } from './metrics-registry.js';
import {
  DEFAULT_HTTP_DURATION_BUCKETS,
  METRICS_OPTIONS,
  type MetricsOptions,
} from './metrics.options.js';

/** The `route` of requests that matched no route (404s, 405s, scanners' probes). */
export const UNMATCHED_ROUTE = 'unmatched';

type HttpLabel = 'method' | 'route' | 'status_code';

interface RouteSeries {
  requests: Counter.Internal;
  duration: Histogram.Internal<HttpLabel>;
  labels: Record<HttpLabel, string>;
}

/**
 * RED metrics of HTTP: `http_requests_total` and
 * `http_request_duration_seconds` by method, route template and the status
 * the client got, recorded once per request when the response has been sent
 * (createServiceApp() calls record()). The label children of each
 * method/route/status are looked up in nested maps, so a request allocates
 * nothing once its series exists. When tracing is on, the duration's buckets
 * carry the last sampled request's `trace_id` as an OpenMetrics exemplar.
 */
@Injectable()
export class HttpMetrics {
  readonly isEnabled: boolean;
  private readonly requests: Counter<HttpLabel>;
  private readonly duration: Histogram<HttpLabel>;
  private readonly hasExemplars: boolean;
  private readonly series = new Map<string, Map<string, Map<number, RouteSeries>>>();

  constructor(metrics: MetricsRegistry, @Inject(METRICS_OPTIONS) options: MetricsOptions) {
    this.isEnabled = metrics.isEnabled && (options.httpMetrics ?? true);
    const labelNames: HttpLabel[] = ['method', 'route', 'status_code'];
    // Only a traced process pays for exemplars; the text exposition is the same either way.
    const wantsExemplars = isTracingActive();
    this.requests = metrics.counter({
      name: 'http_requests_total',
      help: 'HTTP requests answered, by method, route template and status code.',
      labelNames,
    });
    this.duration = metrics.histogram({
      name: 'http_request_duration_seconds',
      help: 'Time from receiving an HTTP request to sending its response, by method, route template and status code.',
      labelNames,
      buckets: options.httpDurationBuckets ?? DEFAULT_HTTP_DURATION_BUCKETS,
      enableExemplars: wantsExemplars,
    });
    // An app created earlier in the process may have declared it without them.
    this.hasExemplars =
      wantsExemplars && (this.duration as { enableExemplars?: boolean }).enableExemplars === true;
  }

  record(
    request: Pick<FinishedRequest, 'method' | 'route' | 'statusCode' | 'durationMs' | 'traceId'>,
  ): void {
    const { method, statusCode } = request;
    const route = request.route ?? UNMATCHED_ROUTE;
    let byRoute = this.series.get(method);
    if (!byRoute) this.series.set(method, (byRoute = new Map<string, Map<number, RouteSeries>>()));
    let byStatus = byRoute.get(route);
    if (!byStatus) byRoute.set(route, (byStatus = new Map<number, RouteSeries>()));
    let series = byStatus.get(statusCode);
    if (!series) {
      // The metrics' label caps fold a flood of values; the map stays as
      // bounded as the values that reach it (methods, templates, statuses).
      const labels = { method, route, status_code: String(statusCode) };
      series = {
        requests: this.requests.labels(labels),
        duration: this.duration.labels(labels),
        labels,
      };
      byStatus.set(statusCode, series);
    }
    series.requests.inc();
    const { traceId } = request;
    if (traceId !== undefined && this.hasExemplars) {
      this.duration.observe({
        labels: series.labels,
        value: request.durationMs / 1000,
        // prom-client types exemplar labels as the metric's own; any name is valid.
        exemplarLabels: { trace_id: traceId } as LabelValues<HttpLabel>,
      });
    } else {
      series.duration.observe(request.durationMs / 1000);
    }
  }
}
