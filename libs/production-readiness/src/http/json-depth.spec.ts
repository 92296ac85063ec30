import { describe, expect, it } from 'vitest';
import { isNestedDeeperThan } from './json-depth.js';

const nestedArray = (depth: number): unknown => JSON.parse('['.repeat(depth) + ']'.repeat(depth));

describe('isNestedDeeperThan', () => {
  it('counts each array or object as one level; scalars as none', () => {
    expect(isNestedDeeperThan('text', 0)).toBe(false);
    expect(isNestedDeeperThan(null, 0)).toBe(false);
    expect(isNestedDeeperThan([], 0)).toBe(true);
    expect(isNestedDeeperThan({ a: 1 }, 1)).toBe(false);
    expect(isNestedDeeperThan({ a: { b: [1] } }, 2)).toBe(true);
    expect(isNestedDeeperThan({ a: { b: [1] } }, 3)).toBe(false);
  });

  it('finds the deep branch among shallow siblings', () => {
    const body = { title: 'x', tags: ['a', 'b'], meta: { a: 1 }, text: nestedArray(10) };

    expect(isNestedDeeperThan(body, 10)).toBe(true);
    expect(isNestedDeeperThan(body, 11)).toBe(false);
  });

  it('measures 100,000 levels without overflowing the stack', () => {
    expect(isNestedDeeperThan(nestedArray(100_000), 64)).toBe(true);
    expect(isNestedDeeperThan(nestedArray(64), 64)).toBe(false);
  });
});
