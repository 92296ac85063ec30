import { Counter, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { renderExposition } from './exposition.js';
import { LabelCap } from './label-cap.js';
import { RedMetrics } from './red-metrics.js';

type Label = 'method' | 'route' | 'status_code';
const LABELS: Label[] = ['method', 'route', 'status_code'];
const BUCKETS = [0.01, 0.1, 1];
const CONFIG = {
  countName: 'requests_total',
  countHelp: 'Requests.',
  durationName: 'request_duration_seconds',
  durationHelp: 'Durations.',
  labelNames: LABELS,
  buckets: BUCKETS,
  enableExemplars: false,
};

// Below, on and between the bounds, and above them all.
const OBSERVATIONS: Array<[Record<Label, string>, number]> = [
  [{ method: 'GET', route: '/a', status_code: '200' }, 0.004],
  [{ method: 'GET', route: '/a', status_code: '200' }, 0.01],
  [{ method: 'GET', route: '/a', status_code: '200' }, 0.5],
  [{ method: 'GET', route: '/a', status_code: '500' }, 3],
  [{ method: 'POST', route: '/b/:id', status_code: '201' }, 0.1],
];

function ours(
  caps: LabelCap[] = [],
  enableExemplars = false,
): { registry: Registry; red: RedMetrics<Label> } {
  const registry = new Registry();
  const red = new RedMetrics({ ...CONFIG, enableExemplars }, caps);
  registry.registerMetric(red.counter as never);
  registry.registerMetric(red.histogram as never);
  return { registry, red };
}

describe('RedMetrics', () => {
  it("renders what prom-client's Counter and Histogram render for the same observations", async () => {
    const { registry, red } = ours();
    const reference = new Registry();
    const counter = new Counter({
      name: CONFIG.countName,
      help: CONFIG.countHelp,
      labelNames: LABELS,
      registers: [reference],
    });
    const histogram = new Histogram({
      name: CONFIG.durationName,
      help: CONFIG.durationHelp,
      labelNames: LABELS,
      buckets: BUCKETS,
      registers: [reference],
    });
    for (const [labels, seconds] of OBSERVATIONS) {
      red.observe(red.seriesFor(labels), seconds);
      counter.inc(labels);
      histogram.observe(labels, seconds);
    }

    for (const format of ['prometheus', 'openmetrics'] as const) {
      const expected = await renderExposition(reference, format, { service: 's' });
      expect(await renderExposition(registry, format, { service: 's' })).toBe(expected);
    }
    // prom-client's own rendering of both registries agrees too.
    expect(await registry.metrics()).toBe(await reference.metrics());
    // And the counts are right, not only alike.
    const text = await renderExposition(registry, 'prometheus', {});
    expect(text).toContain('requests_total{method="GET",route="/a",status_code="200"} 3');
    expect(text).toContain(
      'request_duration_seconds_bucket{le="0.01",method="GET",route="/a",status_code="200"} 2',
    );
    expect(text).toContain(
      'request_duration_seconds_bucket{le="1",method="GET",route="/a",status_code="200"} 3',
    );
    expect(text).toContain(
      'request_duration_seconds_bucket{le="1",method="GET",route="/a",status_code="500"} 0',
    );
    expect(text).toContain(
      'request_duration_seconds_bucket{le="+Inf",method="GET",route="/a",status_code="500"} 1',
    );
    expect(text).toContain(
      'request_duration_seconds_sum{method="GET",route="/a",status_code="200"} 0.514',
    );
  });

  it('folds label values past the cap into one __overflow__ series, counted for both metrics', async () => {
    const folded: string[] = [];
    const cap = (name: string) =>
      new LabelCap(name, 2, (metric, label) => folded.push(`${metric}:${label}`));
    const { registry, red } = ours([cap(CONFIG.countName), cap(CONFIG.durationName)]);
    for (const route of ['/one', '/two', '/three', '/four']) {
      red.observe(red.seriesFor({ method: 'GET', route, status_code: '200' }), 0.05);
    }

    const text = await renderExposition(registry, 'prometheus', {});
    expect(text).toContain('requests_total{method="GET",route="/one",status_code="200"} 1');
    expect(text).toContain('requests_total{method="GET",route="/two",status_code="200"} 1');
    expect(text).toContain('requests_total{method="GET",route="__overflow__",status_code="200"} 2');
    expect(text.match(/^requests_total\{/gm)).toHaveLength(3);
    expect(folded).toEqual([
      'requests_total:route',
      'request_duration_seconds:route',
      'requests_total:route',
      'request_duration_seconds:route',
    ]);
  });

  it("keeps each bucket's last trace id as an OpenMetrics exemplar, only when asked to", async () => {
    const traced = ours([], true);
    const series = traced.red.seriesFor({ method: 'GET', route: '/a', status_code: '200' });
    traced.red.observe(series, 0.05, 'trace-one');
    traced.red.observe(series, 0.07, 'trace-two');
    traced.red.observe(series, 2);

    const text = await renderExposition(traced.registry, 'openmetrics', {});
    expect(text).toMatch(
      /^request_duration_seconds_bucket\{le="0\.1",method="GET",route="\/a",status_code="200"\} 2 # \{trace_id="trace-two"\} 0\.07 \d+(\.\d+)?$/m,
    );
    expect(text).toMatch(/^request_duration_seconds_bucket\{le="\+Inf"[^}]*\} 3$/m);
    expect(await renderExposition(traced.registry, 'prometheus', {})).not.toContain('trace_id');

    const untraced = ours();
    untraced.red.observe(
      untraced.red.seriesFor({ method: 'GET', route: '/a', status_code: '200' }),
      0.05,
      'trace-one',
    );
    expect(await renderExposition(untraced.registry, 'openmetrics', {})).not.toContain('trace_id');
  });

  it('starts over on reset, as prom-client metrics do, and counts again through a kept series', async () => {
    const { registry, red } = ours();
    const kept = red.seriesFor({ method: 'GET', route: '/a', status_code: '200' });
    red.observe(kept, 0.05);
    red.observe(kept, 0.05);
    registry.resetMetrics();
    expect(await renderExposition(registry, 'prometheus', {})).not.toContain('route="/a"');

    red.observe(kept, 0.05);
    const text = await renderExposition(registry, 'prometheus', {});
    expect(text).toContain('requests_total{method="GET",route="/a",status_code="200"} 1');
    expect(red.seriesFor({ method: 'GET', route: '/a', status_code: '200' })).toBe(kept);
  });
});
