import { describe, expect, it } from 'vitest';
import { hasUndecodablePath } from './early-refusals.js';

describe('hasUndecodablePath', () => {
  it('finds escapes that are not valid percent-encoding in the path', () => {
    expect(hasUndecodablePath('/essays/%ZZ')).toBe(true);
    expect(hasUndecodablePath('/essays/%')).toBe(true);
    // A lone UTF-8 lead byte: the escape is well formed, the text is not.
    expect(hasUndecodablePath('/essays/%C3%28')).toBe(true);
  });

  it('accepts valid escapes, and leaves the query string to the app', () => {
    expect(hasUndecodablePath('/essays/caf%C3%A9')).toBe(false);
    expect(hasUndecodablePath('/essays/a%2Fb?q=%ZZ')).toBe(false);
    expect(hasUndecodablePath('/essays')).toBe(false);
    expect(hasUndecodablePath(undefined)).toBe(false);
  });
});
