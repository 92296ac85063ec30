import {
  Counter,
  Gauge,
  Histogram,
  Registry,
  Summary,
  type OpenMetricsContentType,
} from 'prom-client';
import { describe, expect, it } from 'vitest';
import { formatFor, renderExposition } from './exposition.js';

function registryWithOneOfEach(): Registry {
  const registry = new Registry();
  new Counter({
    name: 'jobs_total',
    help: 'Jobs done \\ with a\nnewline.',
    labelNames: ['kind'],
    registers: [registry],
  }).inc({ kind: 'say "hi"\\\n' }, 3);
  new Gauge({ name: 'temperature', help: 'T.', registers: [registry] }).set(-Infinity);
  new Histogram({
    name: 'took_seconds',
    help: 'H.',
    buckets: [0.5],
    registers: [registry],
  }).observe(0.2);
  return registry;
}

describe('renderExposition', () => {
  it('writes the Prometheus text format with escaped labels and help and default labels last', async () => {
    const text = await renderExposition(registryWithOneOfEach(), 'prometheus', { service: 's' });

    expect(text).toBe(
      [
        '# HELP jobs_total Jobs done \\\\ with a\\nnewline.',
        '# TYPE jobs_total counter',
        'jobs_total{kind="say \\"hi\\"\\\\\\n",service="s"} 3',
        '',
        '# HELP temperature T.',
        '# TYPE temperature gauge',
        'temperature{service="s"} -Inf',
        '',
        '# HELP took_seconds H.',
        '# TYPE took_seconds histogram',
        'took_seconds_bucket{le="0.5",service="s"} 1',
        'took_seconds_bucket{le="+Inf",service="s"} 1',
        'took_seconds_sum{service="s"} 0.2',
        'took_seconds_count{service="s"} 1',
        '',
      ].join('\n'),
    );
  });

  it('writes OpenMetrics: counter families without _total, samples with it, then # EOF', async () => {
    const registry = registryWithOneOfEach();
    const text = await renderExposition(registry, 'openmetrics', {});

    expect(text).toMatch(/^# TYPE jobs counter\njobs_total\{kind=".*"\} 3$/m);
    expect(text.endsWith('took_seconds_count 1\n# EOF\n')).toBe(true);
    // prom-client's own renderer renames the counter in place; ours leaves it as declared.
    expect(await renderExposition(registry, 'prometheus', {})).toMatch(
      /^# TYPE jobs_total counter$/m,
    );
  });

  it('renders thousands of series the same whether or not it yields between them', async () => {
    const registry = new Registry();
    const counter = new Counter({
      name: 'many_total',
      help: 'M.',
      labelNames: ['n'],
      registers: [registry],
    });
    for (let n = 0; n < 20_000; n++) counter.inc({ n: String(n) });

    const text = await renderExposition(registry, 'prometheus', {});

    expect(text.split('\n').filter((line) => line.startsWith('many_total{'))).toHaveLength(20_000);
  });
});

// What keeping our renderer depends on: for the same series it writes what
// prom-client's registry.metrics() writes, in both formats (help text without
// `"`, which OpenMetrics wants escaped and prom-client leaves as it is).
describe("renderExposition against prom-client's registry.metrics()", () => {
  function seriesOfEveryKind<R extends Registry | Registry<OpenMetricsContentType>>(
    registry: R,
  ): R {
    const counter = new Counter({
      name: 'jobs_total',
      help: 'Jobs done \\ with a\nnewline.',
      labelNames: ['kind', 'queue'],
      registers: [registry],
    });
    counter.inc({ kind: 'say "hi"\\\n', queue: 'a' }, 3);
    counter.inc({ kind: 'plain', queue: 'b' }, 0.5);
    new Counter({ name: 'plain_events', help: 'No suffix.', registers: [registry] }).inc();
    const gauge = new Gauge({
      name: 'temperature',
      help: 'T.',
      labelNames: ['room'],
      registers: [registry],
    });
    gauge.set({ room: 'hall' }, -Infinity);
    gauge.set({ room: 'attic' }, 21.5);
    const histogram = new Histogram({
      name: 'took_seconds',
      help: 'H.',
      labelNames: ['route'],
      buckets: [0.1, 0.5, 2],
      registers: [registry],
    });
    for (const [route, seconds] of [
      ['/a', 0.2],
      ['/a', 3],
      ['/b', 0.05],
    ] as const)
      histogram.observe({ route }, seconds);
    new Summary({
      name: 'sizes_bytes',
      help: 'S.',
      percentiles: [0.5, 0.9],
      registers: [registry],
    }).observe(10);
    return registry;
  }

  // Label pairs in order, and the same line with its labels sorted.
  const pairs = /(\w+)="((?:[^"\\]|\\.)*)"/g;
  const sortLabels = (text: string) =>
    text.replace(/\{([^\n]*)\}/g, (_match, inner: string) => {
      const sorted = [...inner.matchAll(pairs)].map(([pair]) => pair).sort();
      return `{${sorted.join(',')}}`;
    });

  for (const format of ['prometheus', 'openmetrics'] as const) {
    it(`writes what prom-client writes, in ${format}`, async () => {
      const make = () => {
        // prom-client renders OpenMetrics only from a registry typed for it.
        if (format === 'prometheus') return seriesOfEveryKind(new Registry());
        const registry = new Registry<OpenMetricsContentType>();
        registry.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
        return seriesOfEveryKind(registry);
      };
      const bare = make();
      expect(await renderExposition(bare, format, {})).toBe(await bare.metrics());

      // With default labels, the same series and values; prom-client puts them
      // before a histogram's own labels, ours after every sample's (as served).
      const labelled = make();
      labelled.setDefaultLabels({ service: 's' });
      const ours = await renderExposition(labelled, format, { service: 's' });
      const theirs = await labelled.metrics();
      expect(sortLabels(ours)).toBe(sortLabels(theirs));
      expect(ours).toContain('took_seconds_bucket{le="0.1",route="/a",service="s"} 0');
      expect(ours.split('\n').filter((line) => line.startsWith('jobs_total{'))).toEqual(
        theirs.split('\n').filter((line) => line.startsWith('jobs_total{')),
      );
    });
  }

  it('leaves counter names as declared, where prom-client renames them in place for OpenMetrics', async () => {
    const registry = seriesOfEveryKind(new Registry<OpenMetricsContentType>());
    await renderExposition(registry, 'openmetrics', {});
    expect(await renderExposition(registry, 'prometheus', {})).toMatch(
      /^# TYPE jobs_total counter$/m,
    );

    registry.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
    await registry.metrics();
    const names = (await registry.getMetricsAsJSON()).map(({ name }) => name);
    expect(names).toContain('jobs');
    expect(names).not.toContain('jobs_total');
  });
});

describe('formatFor', () => {
  it('picks OpenMetrics only when Accept names it', () => {
    expect(formatFor('application/openmetrics-text;version=1.0.0,text/plain;q=0.5')).toBe(
      'openmetrics',
    );
    expect(formatFor('text/plain')).toBe('prometheus');
    expect(formatFor(undefined)).toBe('prometheus');
  });
});
