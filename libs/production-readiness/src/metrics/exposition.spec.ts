import { Counter, Gauge, Histogram, Registry } from 'prom-client';
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

describe('formatFor', () => {
  it('picks OpenMetrics only when Accept names it', () => {
    expect(formatFor('application/openmetrics-text;version=1.0.0,text/plain;q=0.5')).toBe(
      'openmetrics',
    );
    expect(formatFor('text/plain')).toBe('prometheus');
    expect(formatFor(undefined)).toBe('prometheus');
  });
});
