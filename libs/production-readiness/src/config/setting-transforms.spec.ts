import { describe, expect, it } from 'vitest';
import {
  parseBooleanSetting,
  parseIntegerSetting,
  parseListSetting,
  parseUpperCaseSetting,
} from './setting-transforms.js';

describe('parseIntegerSetting', () => {
  it.each([
    ['8080', 8080],
    [' 8080 ', 8080],
    ['+42', 42],
    ['-1', -1],
    ['0', 0],
  ])('reads %j as %j', (text, expected) => {
    expect(parseIntegerSetting(text)).toBe(expected);
  });

  // Anything that is not a plain decimal integer is left as text, so the
  // validator can quote it back instead of reporting NaN.
  it.each(['abc', '80.5', '1e3', '0x50', '8080abc', '80 80', ''])('leaves %j untouched', (text) => {
    expect(parseIntegerSetting(text)).toBe(text);
  });

  it('leaves a value that is not a string untouched', () => {
    expect(parseIntegerSetting(7)).toBe(7);
  });
});

describe('parseBooleanSetting', () => {
  it.each(['true', 'TRUE', 'True', '1', 'yes', 'YES', 'on', ' On '])('reads %j as true', (text) => {
    expect(parseBooleanSetting(text)).toBe(true);
  });

  it.each(['false', 'FALSE', 'False', '0', 'no', 'No', 'off', ' OFF '])(
    'reads %j as false',
    (text) => {
      expect(parseBooleanSetting(text)).toBe(false);
    },
  );

  it.each(['maybe', '2', 'y', 'enabled', ''])('leaves %j untouched', (text) => {
    expect(parseBooleanSetting(text)).toBe(text);
  });
});

describe('parseListSetting', () => {
  it('splits a comma-separated list and trims every entry', () => {
    expect(parseListSetting(' https://a.example.com ,https://b.example.com, ')).toEqual([
      'https://a.example.com',
      'https://b.example.com',
    ]);
  });

  it('reads a JSON array of strings', () => {
    expect(parseListSetting('["https://a.example.com", " https://b.example.com "]')).toEqual([
      'https://a.example.com',
      'https://b.example.com',
    ]);
  });

  it('reads an empty JSON array as no entries', () => {
    expect(parseListSetting('[]')).toEqual([]);
  });

  it.each(['["https://a.example.com"', '[https://a.example.com]', '["a", 1]', '[["a"]]'])(
    'leaves %j, which is no JSON array of strings, untouched',
    (text) => {
      expect(parseListSetting(text)).toBe(text);
    },
  );
});

describe('parseUpperCaseSetting', () => {
  it.each([
    ['info', 'INFO'],
    ['warning', 'WARNING'],
    [' Debug ', 'DEBUG'],
  ])('reads %j as %j', (text, expected) => {
    expect(parseUpperCaseSetting(text)).toBe(expected);
  });
});
