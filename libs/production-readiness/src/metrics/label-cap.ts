/** The value a label takes once its metric has seen too many distinct values for it. */
export const OVERFLOW_LABEL_VALUE = '__overflow__';

/** The cap on distinct values per label per metric, like Spring's `maximumAllowableTags`. */
export const DEFAULT_MAX_LABEL_VALUES = 100;

type Labels = Partial<Record<string, string | number>>;

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

// The prom-client methods that take labels first: an object, positional
// values (labels()), or `{ labels, value, exemplarLabels }` with exemplars.
const LABELLED_METHODS = ['inc', 'dec', 'set', 'observe', 'labels', 'startTimer', 'zero'] as const;

type Method = (...args: unknown[]) => unknown;

function isExemplarData(value: object): value is { labels?: Labels } {
  return 'value' in value && ('labels' in value || 'exemplarLabels' in value);
}

/**
 * Puts `cap` in front of every labelled method of a prom-client metric, on
 * the instance: the metric keeps prom-client's API and types, and its
 * children (`labels()`) are capped as well. A child's labels are folded once,
 * when it is made: prom-client binds them into the child, which calls the
 * metric's methods with them, and those calls are not folded again.
 */
export function applyLabelCap<M extends object>(metric: M, cap: LabelCap): M {
  const instance = metric as unknown as Record<string, Method> & { labelNames?: string[] };
  // Frozen, folded label sets bound into children: admitted as they are.
  const admitted = new WeakSet<object>();
  const admit = (labels: Labels): Labels => {
    const folded = Object.freeze({ ...cap.fold(labels) });
    admitted.add(folded);
    return folded;
  };
  for (const name of LABELLED_METHODS) {
    const original = instance[name];
    if (typeof original !== 'function') continue;
    instance[name] = function capped(this: unknown, ...args: unknown[]) {
      const [first] = args;
      if (typeof first === 'object' && first !== null) {
        if (admitted.has(first)) return original.apply(this, args);
        if (name === 'labels') return original.call(this, admit(first as Labels));
        if (!isExemplarData(first)) args[0] = cap.fold(first);
        else if (first.labels) args[0] = { ...first, labels: cap.fold(first.labels) };
      } else if (name === 'labels' && typeof first === 'string') {
        // Positional label values, in the order of labelNames.
        const labels: Labels = {};
        (instance.labelNames ?? []).forEach((label, index) => {
          labels[label] = args[index] as string;
        });
        return original.call(this, admit(labels));
      }
      return original.apply(this, args);
    };
  }
  return metric;
}
