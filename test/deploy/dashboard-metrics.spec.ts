import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  startCapturedEssayService,
  type CapturedEssayService,
} from '../support/captured-essay-service.js';
import {
  DASHBOARD_FILE,
  exportedMetricNames,
  metricNamesIn,
  readText,
  RULES_FILE,
} from './deploy-files.js';

interface Panel {
  type: string;
  title: string;
  datasource?: { uid: string };
  targets?: { expr: string }[];
}

interface RuleGroup {
  rules: { record?: string; alert?: string; expr: string }[];
}

// The dashboard and the rules may only name metrics the app really exports:
// checked against a real /metrics scrape of the sample app.
describe('the Grafana dashboard and the Prometheus rules name exported metrics', () => {
  let service: CapturedEssayService;
  let exported: Set<string>;
  const groups = (parse(readText(RULES_FILE)) as { groups: RuleGroup[] }).groups;
  const recorded = new Set(
    groups.flatMap((group) => group.rules.flatMap((rule) => rule.record ?? [])),
  );

  beforeAll(async () => {
    service = await startCapturedEssayService();
    // Some traffic, so the families with samples show them too.
    await service.http
      .post('/essays')
      .send({ title: 'Metrics', text: 'The cat sat on the mat.', language: 'en' })
      .expect(202);
    await service.http.get('/no/such/route').expect(404);
    await service.http.get('/readyz').expect(200);
    const scrape = await service.http.get('/metrics').expect(200);
    exported = exportedMetricNames(scrape.text);
  });

  afterAll(async () => {
    await service?.close();
  });

  it('the dashboard is valid JSON with panels that query Prometheus', () => {
    const dashboard = JSON.parse(readText(DASHBOARD_FILE)) as { uid: string; panels: Panel[] };
    expect(dashboard.uid).toBe('essay-service');
    const queried = dashboard.panels.filter((panel) => panel.type !== 'row');
    expect(queried.length).toBeGreaterThan(10);
    for (const panel of queried) {
      expect(panel.datasource?.uid, panel.title).toBe('prometheus');
      expect(panel.targets?.length, panel.title).toBeGreaterThan(0);
    }
  });

  it('every metric a dashboard query names is in the scrape', () => {
    const dashboard = JSON.parse(readText(DASHBOARD_FILE)) as { panels: Panel[] };
    const named = new Set<string>();
    for (const panel of dashboard.panels) {
      for (const target of panel.targets ?? []) {
        for (const name of metricNamesIn(target.expr)) named.add(name);
      }
    }
    // The panels the issue lists: RED, latency, errors, breakers, checks, pool, essays.
    expect([...named]).toEqual(
      expect.arrayContaining([
        'http_requests_total',
        'http_request_duration_seconds_bucket',
        'errors_total',
        'circuit_breaker_state',
        'health_check_up',
        'database_connections_active',
        'essays_processed_total',
        'essay_processing_duration_seconds_bucket',
        'active_batches_count',
      ]),
    );
    expect([...named].filter((name) => !exported.has(name))).toEqual([]);
  });

  it('every metric a rule names is in the scrape or recorded by another rule', () => {
    const named = new Set(
      groups.flatMap((group) => group.rules.flatMap((rule) => metricNamesIn(rule.expr))),
    );
    expect(named.size).toBeGreaterThan(5);
    expect([...named].filter((name) => !exported.has(name) && !recorded.has(name))).toEqual([]);
  });

  it('finds the names in PromQL, and only them', () => {
    expect(
      metricNamesIn(
        'histogram_quantile(0.99, sum by (le, route) (rate(http_request_duration_seconds_bucket{service="$service",le="0.5"}[$__rate_interval]))) / on(service) group_left max(up) > bool 0.5',
      ).sort(),
    ).toEqual(['http_request_duration_seconds_bucket', 'up']);
  });
});
