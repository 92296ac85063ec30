import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ErrorCode } from 'nestjs-production-readiness';
import { ERROR_CODE_STATUS } from '../../libs/production-readiness/src/errors/error-code.js';
import { describe, expect, it } from 'vitest';

// The page that holds the error-code table.
const PAGE = fileURLToPath(new URL('../../docs/errors.md', import.meta.url));

function readme(): string {
  expect(existsSync(PAGE), `${PAGE} does not exist`).toBe(true);
  return readFileSync(PAGE, 'utf8');
}

// STYLE.md, Errors: "A test fails when an ErrorCode is missing from the README."
// Clients branch on these codes, so each must be documented where users look:
// the README links the error-code table, which lives in docs/errors.md.
describe('docs/errors.md', () => {
  it('documents every ErrorCode', () => {
    const text = readme();

    const missing = Object.values(ErrorCode).filter(
      (code) => !new RegExp(`\\b${code}\\b`).test(text),
    );

    expect(missing, `ErrorCode values missing from docs/errors.md: ${missing.join(', ')}`).toEqual(
      [],
    );
  });

  it('gives each ErrorCode listed in its table the status the code answers with', () => {
    const text = readme();
    // Rows like "| `NOT_FOUND` | 404 | ... |".
    const documented = new Map(
      [...text.matchAll(/^\|\s*`([A-Z_]+)`\s*\|\s*(\d{3})\s*\|/gm)].map(([, code, status]) => [
        code,
        Number(status),
      ]),
    );

    const wrong = Object.values(ErrorCode)
      .filter((code) => documented.has(code) && documented.get(code) !== ERROR_CODE_STATUS[code])
      .map((code) => `${code}: docs ${documented.get(code)}, code ${ERROR_CODE_STATUS[code]}`);

    expect(wrong).toEqual([]);
  });
});
