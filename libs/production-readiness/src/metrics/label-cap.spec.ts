import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import {
  CappedCounter,
  CappedGauge,
  CappedHistogram,
  LabelCap,
  OVERFLOW_LABEL_VALUE,
} from './label-cap.js';

function capOf(max: number) {
  const folds: string[] = [];
  const cap = new LabelCap('things_total', max, (metric, label) =>
    folds.push(`${metric}.${label}`),
  );
  return { cap, folds };
}

describe('LabelCap', () => {
  it('admits values up to the cap, then folds new ones and reports each fold', () => {
    const { cap, folds } = capOf(2);

    expect(cap.fold({ id: 'a' })).toEqual({ id: 'a' });
    expect(cap.fold({ id: 'b' })).toEqual({ id: 'b' });
    expect(cap.fold({ id: 'c' })).toEqual({ id: OVERFLOW_LABEL_VALUE });
    expect(cap.fold({ id: 'a' })).toEqual({ id: 'a' });
    expect(cap.fold({ id: OVERFLOW_LABEL_VALUE })).toEqual({ id: OVERFLOW_LABEL_VALUE });
    expect(folds).toEqual(['things_total.id']);
  });

  it('counts each label on its own and returns the same object when nothing folds', () => {
    const { cap } = capOf(1);
    const first = { route: '/a', status: 200 };

    expect(cap.fold(first)).toBe(first);
    expect(cap.fold({ route: '/a', status: 500 })).toEqual({
      route: '/a',
      status: OVERFLOW_LABEL_VALUE,
    });
  });
});

// What the capped metrics rely on in prom-client: its public methods, called
// with folded label sets, give the series below; a child from labels() made
// from a folded set keeps it; a timer's end labels are merged with its start's.
describe('capped metrics', () => {
  it('caps object labels and positional labels() of a counter', async () => {
    const registry = new Registry();
    const { cap, folds } = capOf(1);
    const metric = new Counter({
      name: 'things_total',
      help: 'h',
      labelNames: ['id'],
      registers: [registry],
    });
    const counter: Counter<'id'> = new CappedCounter(metric, cap, ['id']);

    counter.inc({ id: 'a' });
    counter.inc({ id: 'b' });
    counter.labels('c').inc(2);
    counter.labels({ id: 'a' }).inc();

    const { values } = await metric.get();
    expect(values.map(({ labels, value }) => [labels.id, value])).toEqual([
      ['a', 2],
      [OVERFLOW_LABEL_VALUE, 3],
    ]);
    expect(folds).toEqual(['things_total.id', 'things_total.id']);
  });

  it('caps the labels of exemplar data', async () => {
    // prom-client takes exemplars only on a registry typed OpenMetrics.
    const registry = new Registry<typeof Registry.OPENMETRICS_CONTENT_TYPE>();
    registry.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
    const { cap } = capOf(1);
    const metric = new Counter<string>({
      name: 'traced_total',
      help: 'h',
      labelNames: ['id'],
      registers: [registry],
      enableExemplars: true,
    });
    const counter: Counter<string> = new CappedCounter(metric, cap, ['id']);

    counter.inc({ labels: { id: 'a' }, value: 1, exemplarLabels: { traceId: 'one' } });
    counter.inc({ labels: { id: 'b' }, value: 2, exemplarLabels: { traceId: 'two' } });

    const { values } = await metric.get();
    expect(values.map(({ labels, value }) => [labels.id, value])).toEqual([
      ['a', 1],
      [OVERFLOW_LABEL_VALUE, 2],
    ]);
  });

  it('caps a histogram: observe, the labels at the end of a timer, and its children', async () => {
    const registry = new Registry();
    const { cap } = capOf(1);
    const metric = new Histogram({
      name: 'took_seconds',
      help: 'h',
      labelNames: ['id'],
      registers: [registry],
    });
    const histogram: Histogram<'id'> = new CappedHistogram(metric, cap, ['id']);

    histogram.observe({ id: 'a' }, 0.1);
    histogram.startTimer()({ id: 'b' });
    histogram.startTimer({ id: 'c' })();
    histogram.labels('d').observe(0.2);

    const { values } = await metric.get();
    const counts = values.filter((value) => value.metricName === 'took_seconds_count');
    expect(counts.map(({ labels, value }) => [labels.id, value])).toEqual([
      ['a', 1],
      [OVERFLOW_LABEL_VALUE, 3],
    ]);
  });

  it('caps a gauge: inc, dec, set and its children; remove is passed on as given', async () => {
    const registry = new Registry();
    const { cap } = capOf(1);
    const metric = new Gauge({
      name: 'level',
      help: 'h',
      labelNames: ['id'],
      registers: [registry],
    });
    const gauge: Gauge<'id'> = new CappedGauge(metric, cap, ['id']);

    gauge.set({ id: 'a' }, 5);
    gauge.inc({ id: 'b' }, 2);
    gauge.dec({ id: 'c' });
    gauge.labels('d').inc(3);
    gauge.remove({ id: 'a' });

    const { values } = await metric.get();
    expect(values.map(({ labels, value }) => [labels.id, value])).toEqual([
      [OVERFLOW_LABEL_VALUE, 4],
    ]);
  });
});
