import type { Counter, Gauge, Histogram } from 'prom-client';

/** The value a label takes once its metric has seen too many distinct values for it. */
export const OVERFLOW_LABEL_VALUE = '__overflow__';

/** The cap on distinct values per label per metric, like Spring's `maximumAllowableTags`. */
export const DEFAULT_MAX_LABEL_VALUES = 100;

type Labels = Partial<Record<string, string | number>>;
type LabelValues<T extends string> = Partial<Record<T, string | number>>;

/**
 * Caps the distinct values of each label of one metric: past the cap, a new
 * value folds into OVERFLOW_LABEL_VALUE and `onFold` is told, so a flood of
 * ids in a label costs one series instead of a series per id. Values already
 * seen keep their own series.
 */
export class LabelCap {
  private readonly seen = new Map<string, Set<string>>();

  constructor(
    readonly metricName: string,
    private readonly maxValues: number,
    private readonly onFold: (metricName: string, labelName: string) => void,
  ) {}

  /** `labels` itself when every value is admitted, else a copy with the folded values. */
  fold<L extends Labels>(labels: L): L {
    let folded: L | undefined;
    for (const name in labels) {
      const raw = labels[name];
      if (raw === undefined) continue;
      const value = String(raw);
      let values = this.seen.get(name);
      if (!values) this.seen.set(name, (values = new Set()));
      if (values.has(value) || value === OVERFLOW_LABEL_VALUE) continue;
      if (values.size < this.maxValues) {
        values.add(value);
        continue;
      }
      folded ??= { ...labels };
      (folded as Labels)[name] = OVERFLOW_LABEL_VALUE;
      this.onFold(this.metricName, name);
    }
    return folded ?? labels;
  }
}

// Capped metrics: ours, in front of prom-client's.
//
// What MetricsRegistry.counter()/gauge()/histogram() return. Each wraps a
// prom-client metric (the one registered, so the exposition is prom-client's
// series) and folds label values through its LabelCap before calling that
// metric's public methods. Nothing of prom-client's is patched or read
// besides its typed API: prom-client's classes declare only public members,
// so these satisfy `Counter<T>`, `Gauge<T>` and `Histogram<T>` structurally
// and callers keep prom-client's types. A child from labels() is prom-client's
// own, made from the folded label set. `remove()` is passed on as given: a
// value past the cap never had a series of its own. label-cap.spec.ts pins
// what this relies on (the wrapped metric's series after each call form).

/** A label set, or prom-client's `{ labels, value, exemplarLabels }` data. */
type Labelled = Labels | { labels?: Labels; value: number; exemplarLabels?: Labels };

function isExemplarData(value: object): value is { labels?: Labels; value: number } {
  return 'value' in value && ('labels' in value || 'exemplarLabels' in value);
}

/** What the three metric kinds share: reading, resetting and removing series. */
interface PromMetric {
  get(): unknown;
  reset(): void;
  remove(...args: never[]): void;
}

abstract class CappedMetric<M extends PromMetric> {
  constructor(
    readonly metric: M,
    protected readonly cap: LabelCap,
    private readonly labelNames: readonly string[],
  ) {}

  /** Calls the wrapped metric's method `name` with the first argument's labels folded. */
  protected callFolded(name: 'inc' | 'dec' | 'set' | 'observe', args: unknown[]): void {
    if (args.length > 0) args[0] = this.foldFirst(args[0]);
    (this.metric as unknown as Record<typeof name, Call>)[name].apply(this.metric, args);
  }

  get(): ReturnType<M['get']> {
    return this.metric.get() as ReturnType<M['get']>;
  }

  reset(): void {
    this.metric.reset();
  }

  remove(...args: unknown[]): void {
    (this.metric.remove as Call).apply(this.metric, args);
  }

  /** The first argument of a labelled call, with its labels folded. */
  protected foldFirst<A>(first: A): A {
    if (typeof first !== 'object' || first === null) return first;
    const data = first as Labelled;
    if (!isExemplarData(data)) return this.cap.fold(data) as A;
    if (!data.labels) return first;
    const labels = this.cap.fold(data.labels);
    return (labels === data.labels ? first : { ...data, labels }) as A;
  }

  /** labels()'s arguments, an object or positional values, as one folded object. */
  protected foldLabelsArgs(args: readonly unknown[]): Labels {
    const [first] = args;
    if (typeof first === 'object' && first !== null) return this.cap.fold(first);
    const labels: Labels = {};
    this.labelNames.forEach((name, index) => {
      if (args[index] !== undefined) labels[name] = args[index] as string;
    });
    return this.cap.fold(labels);
  }

  protected foldOptional(labels: Labels | undefined): Labels | undefined {
    return labels === undefined ? undefined : this.cap.fold(labels);
  }
}

type Call = (...args: unknown[]) => unknown;

/** A prom-client Counter whose label values are capped. */
export class CappedCounter<T extends string>
  extends CappedMetric<Counter<T>>
  implements Counter<T>
{
  constructor(metric: Counter<T>, cap: LabelCap, labelNames: readonly string[] = []) {
    super(metric, cap, labelNames);
  }

  inc(...args: unknown[]): void {
    this.callFolded('inc', args);
  }

  labels(...args: unknown[]): Counter.Internal {
    return this.metric.labels(this.foldLabelsArgs(args) as LabelValues<T>);
  }
}

/** A prom-client Gauge whose label values are capped. */
export class CappedGauge<T extends string> extends CappedMetric<Gauge<T>> implements Gauge<T> {
  constructor(metric: Gauge<T>, cap: LabelCap, labelNames: readonly string[] = []) {
    super(metric, cap, labelNames);
  }

  inc(...args: unknown[]): void {
    this.callFolded('inc', args);
  }

  dec(...args: unknown[]): void {
    this.callFolded('dec', args);
  }

  set(...args: unknown[]): void {
    this.callFolded('set', args);
  }

  setToCurrentTime(labels?: LabelValues<T>): void {
    this.metric.setToCurrentTime(this.foldOptional(labels));
  }

  startTimer(labels?: LabelValues<T>): (labels?: LabelValues<T>) => number {
    const end = this.metric.startTimer(this.foldOptional(labels));
    return (endLabels) => end(this.foldOptional(endLabels));
  }

  labels(...args: unknown[]): Gauge.Internal<T> {
    return this.metric.labels(this.foldLabelsArgs(args) as LabelValues<T>);
  }
}

/** A prom-client Histogram whose label values are capped. */
export class CappedHistogram<T extends string>
  extends CappedMetric<Histogram<T>>
  implements Histogram<T>
{
  constructor(metric: Histogram<T>, cap: LabelCap, labelNames: readonly string[] = []) {
    super(metric, cap, labelNames);
  }

  observe(...args: unknown[]): void {
    this.callFolded('observe', args);
  }

  startTimer(
    labels?: LabelValues<T>,
    exemplarLabels?: LabelValues<T>,
  ): (labels?: LabelValues<T>, exemplarLabels?: LabelValues<T>) => number {
    const end = this.metric.startTimer(this.foldOptional(labels), exemplarLabels);
    return (endLabels, endExemplarLabels) => end(this.foldOptional(endLabels), endExemplarLabels);
  }

  zero(labels: LabelValues<T>): void {
    this.metric.zero(this.cap.fold(labels));
  }

  labels(...args: unknown[]): Histogram.Internal<T> {
    return this.metric.labels(this.foldLabelsArgs(args) as LabelValues<T>);
  }
}
