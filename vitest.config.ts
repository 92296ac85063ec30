import { fileURLToPath } from 'node:url';
import swc from 'unplugin-swc';
import { configDefaults, defineConfig } from 'vitest/config';

// Tests run the TypeScript sources of both the library and the app:
// `nestjs-production-readiness` resolves to libs/.../src here, not to dist.
const librarySource = (file: string) =>
  fileURLToPath(new URL(`./libs/production-readiness/src/${file}`, import.meta.url));

export default defineConfig({
  plugins: [
    // esbuild (Vite's default) emits no decorator metadata; Nest's DI needs it.
    swc.vite({
      module: { type: 'es6' },
      jsc: {
        target: 'es2023',
        parser: { syntax: 'typescript', decorators: true },
        transform: {
          legacyDecorator: true,
          decoratorMetadata: true,
          useDefineForClassFields: true,
        },
      },
    }),
  ],
  resolve: {
    alias: [
      { find: /^nestjs-production-readiness$/, replacement: librarySource('index.ts') },
      {
        find: /^nestjs-production-readiness\/tracing$/,
        replacement: librarySource('tracing/register.ts'),
      },
      {
        find: /^nestjs-production-readiness\/messaging$/,
        replacement: librarySource('messaging/microservices.ts'),
      },
    ],
  },
  test: {
    include: ['libs/**/src/**/*.spec.ts', 'apps/**/src/**/*.spec.ts', 'test/**/*.spec.ts'],
    // The apps of `nest new` run their own specs, with their own runner, in
    // test/package/scaffold-apps.spec.ts.
    exclude: [...configDefaults.exclude, 'test/scaffolds/**'],
    environment: 'node',
    globalSetup: ['./test/support/global-build.ts'],
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
