import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

// A plain node process that logs and exits at once, running the built
// library (the globalSetup in test/support/global-build.ts builds it): the
// behaviour at exit is only seen in a process of its own.
const run = promisify(execFile);
const MODULE_URL = new URL(
  '../../libs/production-readiness/dist/logging/log-destination.js',
  import.meta.url,
).href;
const directory = mkdtempSync(join(tmpdir(), 'log-destination-exit-'));

afterAll(() => rmSync(directory, { recursive: true, force: true }));

describe('createLogDestination() at process exit', () => {
  it('loses no line when the process exits right after logging', async () => {
    const path = join(directory, 'log.jsonl');
    // Lines are written, then the process exits in the same tick: only the
    // synchronous write at exit can save them.
    const script = `
      const { createLogDestination } = await import(${JSON.stringify(MODULE_URL)});
      const destination = createLogDestination(${JSON.stringify(path)});
      await new Promise((resolve) => setTimeout(resolve, 100)); // the file is open
      for (let n = 0; n < 3000; n++) destination.write(JSON.stringify({ n }) + '\\n');
      process.exit(0);
    `;
    await run(process.execPath, ['--input-type=module', '-e', script]);
    const numbers = readFileSync(path, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((text) => (JSON.parse(text) as { n: number }).n);
    expect(numbers).toEqual(Array.from({ length: 3000 }, (_, n) => n));
  });
});
