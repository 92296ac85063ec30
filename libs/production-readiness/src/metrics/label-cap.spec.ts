import { Counter, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { applyLabelCap, LabelCap, OVERFLOW_LABEL_VALUE } from './label-cap.js';

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

describe('applyLabelCap', () => {
  it('caps object labels and positional labels() of a prom-client metric', async () => {
    const registry = new Registry();
    const { cap } = capOf(1);
    const counter = applyLabelCap(
      new Counter({ name: 'things_total', help: 'h', labelNames: ['id'], registers: [registry] }),
      cap,
    );

    counter.inc({ id: 'a' });
    counter.inc({ id: 'b' });
    counter.labels('c').inc(2);

    const { values } = await counter.get();
    expect(values.map(({ labels, value }) => [labels.id, value])).toEqual([
      ['a', 1],
      [OVERFLOW_LABEL_VALUE, 3],
    ]);
  });

  it('caps the labels of exemplar data', async () => {
    // prom-client takes exemplars only on a registry typed OpenMetrics.
    const registry = new Registry<typeof Registry.OPENMETRICS_CONTENT_TYPE>();
    registry.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
    const { cap } = capOf(1);
    const counter = applyLabelCap(
      new Counter<string>({
        name: 'traced_total',
        help: 'h',
        labelNames: ['id'],
        registers: [registry],
        enableExemplars: true,
      }),
      cap,
    );

    counter.inc({ labels: { id: 'a' }, value: 1, exemplarLabels: { traceId: 'one' } });
    counter.inc({ labels: { id: 'b' }, value: 2, exemplarLabels: { traceId: 'two' } });

    const { values } = await counter.get();
    expect(values.map(({ labels, value }) => [labels.id, value])).toEqual([
      ['a', 1],
      [OVERFLOW_LABEL_VALUE, 2],
    ]);
  });

  it('caps labels given at the end of a histogram timer', async () => {
    const registry = new Registry();
    const { cap } = capOf(1);
    const histogram = applyLabelCap(
      new Histogram({ name: 'took_seconds', help: 'h', labelNames: ['id'], registers: [registry] }),
      cap,
    );

    histogram.observe({ id: 'a' }, 0.1);
    histogram.startTimer()({ id: 'b' });

    const { values } = await histogram.get();
    const counts = values.filter((value) => value.metricName === 'took_seconds_count');
    expect(counts.map(({ labels }) => labels.id)).toEqual(['a', OVERFLOW_LABEL_VALUE]);
  });
});
