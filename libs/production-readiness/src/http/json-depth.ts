/**
 * Whether a parsed JSON value nests arrays and objects more than `limit`
 * levels deep (`[]` and `{"a":1}` are one level). Walks with a stack of its
 * own rather than by recursion, so a body nested 100,000 levels deep is
 * measured without overflowing the call stack that class-transformer and
 * class-validator would overflow; stops at the first level too deep.
 */
export function isNestedDeeperThan(value: unknown, limit: number): boolean {
  if (value === null || typeof value !== 'object') return false;
  const pending: object[] = [value];
  const depths: number[] = [1];
  while (pending.length > 0) {
    const node = pending.pop() as object;
    const depth = depths.pop() as number;
    if (depth > limit) return true;
    const children: unknown[] = Array.isArray(node) ? node : Object.values(node);
    for (let index = 0; index < children.length; index++) {
      const child: unknown = children[index];
      if (child !== null && typeof child === 'object') {
        pending.push(child);
        depths.push(depth + 1);
      }
    }
  }
  return false;
}
