import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const outputs = ['libs/production-readiness/dist/index.js', 'dist/apps/essay-service/main.js'];
const sources = ['libs/production-readiness/src', 'apps/essay-service/src'];

function newestSourceMs(dir: string): number {
  return readdirSync(dir).reduce((newest, name) => {
    const path = join(dir, name);
    const stats = statSync(path);
    const ms = stats.isDirectory() ? newestSourceMs(path) : stats.mtimeMs;
    return Math.max(newest, ms);
  }, 0);
}

function isBuildCurrent(): boolean {
  const outputTimes = outputs
    .map((output) => join(repoRoot, output))
    .map((path) => (existsSync(path) ? statSync(path).mtimeMs : 0));
  const newestSource = Math.max(...sources.map((source) => newestSourceMs(join(repoRoot, source))));
  return Math.min(...outputTimes) >= newestSource;
}

/**
 * Vitest globalSetup: the process tests run `node dist/apps/essay-service/main.js`
 * as production does, so the build must match the sources. Builds once, before
 * any test file starts, and only when a source is newer than the build (CI has
 * just built, so there it costs nothing).
 */
export default function buildIfStale(): void {
  // For focused runs of in-process specs while the sources are being edited.
  if (process.env.SKIP_TEST_BUILD === '1') return;
  if (isBuildCurrent()) return;
  execFileSync('npm', ['run', 'build', '--silent'], {
    cwd: repoRoot,
    stdio: ['ignore', 'inherit', 'inherit'],
    timeout: 180_000,
  });
}
