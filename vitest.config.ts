import swc from 'unplugin-swc';
import { defineConfig } from 'vitest/config';

// Tests run the TypeScript sources of both the library and the app: the
// custom condition makes `nestjs-production-readiness` resolve to libs/.../src.
const conditions = ['nestjs-production-readiness:source'];

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
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: conditions } },
  test: {
    include: ['libs/**/src/**/*.spec.ts', 'apps/**/src/**/*.spec.ts', 'test/**/*.spec.ts'],
    environment: 'node',
    globalSetup: ['./test/support/global-build.ts'],
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
