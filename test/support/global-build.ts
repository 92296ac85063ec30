import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

/**
 * Vitest globalSetup: builds the library and the app once, so process tests
 * run `node dist/apps/essay-service/main.js` as production does, never a
 * stale build.
 */
export default function buildOnce(): void {
  execFileSync('npm', ['run', 'build', '--silent'], {
    cwd: repoRoot,
    stdio: ['ignore', 'inherit', 'inherit'],
    timeout: 180_000,
  });
}
