// Builds the package twice from the same sources: ES modules into dist/ and
// CommonJS into dist/cjs/, so CommonJS apps and jest (whose module loader has
// no require(esm)) load it as readily as ESM apps and Vitest do.
//
// A source file `x.commonjs.ts` replaces `x.ts` in the CommonJS build: the one
// place that needs it is the tracing entry's own require (import.meta.url has
// no CommonJS spelling). The CommonJS build compiles a copy of src/ with those
// files swapped in, so every import keeps its one spelling.
import { execFileSync } from 'node:child_process';
import { cpSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const stagingDir = join(packageDir, '.build-commonjs');
const tscBin = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const tsc = (project) =>
  execFileSync(process.execPath, [tscBin, '-p', project], {
    cwd: packageDir,
    stdio: 'inherit',
  });

rmSync(join(packageDir, 'dist'), { recursive: true, force: true });
rmSync(stagingDir, { recursive: true, force: true });

tsc('tsconfig.lib.json');

cpSync(join(packageDir, 'src'), join(stagingDir, 'src'), {
  recursive: true,
  filter: (source) => !source.endsWith('.spec.ts'),
});
for (const file of readdirSync(join(stagingDir, 'src'), { recursive: true, encoding: 'utf8' })) {
  if (file.endsWith('.commonjs.ts')) {
    const path = join(stagingDir, 'src', file);
    renameSync(path, path.replace(/\.commonjs\.ts$/, '.ts'));
  }
}
try {
  tsc('tsconfig.lib.commonjs.json');
} finally {
  rmSync(stagingDir, { recursive: true, force: true });
}
// Node reads dist/cjs/**/*.js as CommonJS only with this beside them: the
// package itself is "type": "module".
writeFileSync(join(packageDir, 'dist/cjs/package.json'), '{ "type": "commonjs" }\n');
