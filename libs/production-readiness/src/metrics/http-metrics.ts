import { Inject, Injectable } from '@nestjs/common';
import type { Counter, Histogram } from 'prom-client';
import type { FinishedRequest } from '../context/http-request-context.js';
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
}

/**
 * RED metrics of HTTP: `http_requests_total` and
 * `http_request_duration_seconds` by method, route template and the status
 * the client got, recorded once per request when the response has been sent
 * (createServiceApp() calls record()). The label children of each
 * method/route/status are looked up in nested maps, so a request allocates
 * nothing once its series exists.
 */
@Injectable()
export class HttpMetrics {
  readonly isEnabled: boolean;
  private readonly requests: Counter<HttpLabel>;
  private readonly duration: Histogram<HttpLabel>;
  private readonly series = new Map<string, Map<string, Map<number, RouteSeries>>>();

  constructor(metrics: MetricsRegistry, @Inject(METRICS_OPTIONS) options: MetricsOptions) {
    this.isEnabled = metrics.isEnabled && (options.httpMetrics ?? true);
    const labelNames: HttpLabel[] = ['method', 'route', 'status_code'];
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
    });
  }

  record(request: Pick<FinishedRequest, 'method' | 'route' | 'statusCode' | 'durationMs'>): void {
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
      series = { requests: this.requests.labels(labels), duration: this.duration.labels(labels) };
      byStatus.set(statusCode, series);
    }
    series.requests.inc();
    series.duration.observe(request.durationMs / 1000);
  }
}
