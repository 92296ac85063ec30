// @ts-check
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

// Scripts run on Node.js: its own global names are the ones they may use.
const nodeGlobals = Object.fromEntries(
  Object.getOwnPropertyNames(globalThis).map((name) => [name, 'readonly']),
);

export default defineConfig(
  {
    ignores: [
      '**/dist/**',
      '**/node_modules/**',
      'coverage/**',
      'data/**',
      // Throwaway apps written by test/package/package-imports.spec.ts.
      '.tmp-pack-*/**',
      // The plain app as test/plain/plain-app.process.spec.ts builds it.
      'test/plain/.build-*/**',
      // The plain app is type-checked by its own tsconfig against the built package (dist), absent before the build.
      'test/plain/src/**',
      // Apps as `nest new` makes them, with their own lint config and packages:
      // test/package/scaffold-apps.spec.ts installs and checks each.
      'test/scaffolds/**',
    ],
  },
  js.configs.recommended,
  tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        // The root tsconfig.json includes libs, apps, test, bench and vitest.config.ts.
        projectService: true,
        tsconfigRootDir: import.meta.dirname,
      },
    },
    linterOptions: {
      reportUnusedDisableDirectives: 'error',
    },
    rules: {
      // A dropped promise in shutdown or retry code is a lost request.
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      // Nest modules are decorated empty classes by design.
      '@typescript-eslint/no-extraneous-class': 'off',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
    },
  },
  {
    files: ['**/*.spec.ts', 'test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      // expect(service.method).toHaveBeenCalled() and vi.spyOn pass methods unbound.
      '@typescript-eslint/unbound-method': 'off',
    },
  },
  {
    // Plain JavaScript (this file, scripts) is outside tsconfig.json: lint it
    // without type information.
    files: ['**/*.{js,mjs,cjs}'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: { globals: nodeGlobals },
  },
  {
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs' },
  },
);
