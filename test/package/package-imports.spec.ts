import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/free-port.js';
import {
  PACKAGE_NAME,
  packLibrary,
  unpackLibrary,
  type PackageManifest,
} from '../support/packed-library.js';
import { waitFor } from '../support/wait-for.js';
import { PLAIN_ENV } from '../plain/plain-env.js';

const run = promisify(execFile);

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const RESULT_MARKER = 'PACKED-APP-RESULT ';

/** What each throwaway app prints after reading its config from the packed library. */
interface PackedAppResult {
  resolved: string;
  node: string;
  isBaseServiceConfig: boolean;
  isFrozen: boolean;
  SERVICE_NAME: unknown;
  PORT: unknown;
  LOG_LEVEL: unknown;
  METRICS_ENABLED: unknown;
  SHUTDOWN_TIMEOUT_MS: unknown;
}

/** The package a bare specifier names: `@scope/name/sub` → `@scope/name`. */
function packageNameOf(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

function listFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).map((file) => join(dir, file));
}

const APP_ENV = {
  SERVICE_VERSION: '1.2.3',
  PORT: '8081',
  DATABASE_URL: 'sqlite::memory:',
  KAFKA_BOOTSTRAP_SERVERS: 'localhost:9092',
  KAFKA_GROUP_ID: 'packed-app',
  REDIS_URL: 'redis://localhost:6379',
  LOG_LEVEL: 'debug',
  METRICS_ENABLED: 'false',
};

/**
 * A Nest app in plain JavaScript, as a user without TypeScript writes it:
 * decorators are called as functions.
 */
function appSource(kind: 'esm' | 'cjs'): string {
  const header =
    kind === 'esm'
      ? `import 'reflect-metadata';
import { fileURLToPath } from 'node:url';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { BaseServiceConfig, ProductionReadinessModule } from '${PACKAGE_NAME}';

const resolved = fileURLToPath(import.meta.resolve('${PACKAGE_NAME}'));
`
      : `'use strict';
require('reflect-metadata');
const { Module } = require('@nestjs/common');
const { NestFactory } = require('@nestjs/core');
const { BaseServiceConfig, ProductionReadinessModule } = require('${PACKAGE_NAME}');

const resolved = require.resolve('${PACKAGE_NAME}');
`;
  const env = { ...APP_ENV, SERVICE_NAME: `packed-${kind}` };
  return `${header}
class PackedAppConfig extends BaseServiceConfig {}
class AppModule {}
Module({
  imports: [
    ProductionReadinessModule.forRoot({
      config: PackedAppConfig,
      envFilePath: false,
      env: ${JSON.stringify(env)},
    }),
  ],
})(AppModule);

async function main() {
  const app = await NestFactory.createApplicationContext(AppModule, { logger: false });
  try {
    const config = app.get(PackedAppConfig);
    const result = {
      resolved,
      node: process.version,
      isBaseServiceConfig: config instanceof BaseServiceConfig,
      isFrozen: Object.isFrozen(config),
      SERVICE_NAME: config.SERVICE_NAME,
      PORT: config.PORT,
      LOG_LEVEL: config.LOG_LEVEL,
      METRICS_ENABLED: config.METRICS_ENABLED,
      SHUTDOWN_TIMEOUT_MS: config.SHUTDOWN_TIMEOUT_MS,
    };
    console.log(${JSON.stringify(RESULT_MARKER)} + JSON.stringify(result));
  } finally {
    await app.close();
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
`;
}

describe(`the packed ${PACKAGE_NAME} tarball`, () => {
  let workDir: string;
  let tarballEntries: string[];
  let installedDir: string;

  beforeAll(async () => {
    // Inside the repository, so Node resolves the peers (@nestjs/*, rxjs,
    // reflect-metadata) and dependencies from the root node_modules, as a
    // consumer's install would, with no network. test/package/scaffold-apps.spec.ts
    // installs it from the registry into apps of `nest new`, outside the repository.
    workDir = mkdtempSync(join(REPO_ROOT, '.tmp-pack-'));
    // An app's own package.json, where the service's name and version come from.
    writeFileSync(
      join(workDir, 'package.json'),
      JSON.stringify({ name: 'packed-app', version: '1.0.0', private: true }),
    );
    const library = await packLibrary(workDir);
    tarballEntries = library.entries;
    installedDir = await unpackLibrary(library, join(workDir, 'node_modules'));
  }, 240_000);

  afterAll(() => {
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  });

  it('ships the built entry point and its types', () => {
    expect(tarballEntries).toContain('package/package.json');
    expect(tarballEntries).toContain('package/dist/index.js');
    expect(tarballEntries).toContain('package/dist/index.d.ts');
    // The CommonJS build, marked as such for Node whatever the package's "type".
    expect(tarballEntries).toContain('package/dist/cjs/index.js');
    expect(tarballEntries).toContain('package/dist/cjs/index.d.ts');
    expect(tarballEntries).toContain('package/dist/cjs/package.json');
  });

  it('points every export at a file the tarball holds, under no condition but import and require', () => {
    const manifest = JSON.parse(
      readFileSync(join(installedDir, 'package.json'), 'utf8'),
    ) as PackageManifest;
    const targets: string[] = [];
    const conditions = new Set<string>();
    const collect = (value: unknown): void => {
      if (typeof value === 'string') targets.push(value);
      else if (value && typeof value === 'object') {
        for (const [key, nested] of Object.entries(value)) {
          if (!key.startsWith('.')) conditions.add(key);
          collect(nested);
        }
      }
    };
    collect(manifest.exports);
    expect(
      targets.filter((target) => !tarballEntries.includes(`package/${target.slice(2)}`)),
    ).toEqual([]);
    expect([...conditions].sort()).toEqual(['default', 'import', 'require', 'types']);
  });

  it('ships no sources and no tests', () => {
    expect(tarballEntries.filter((entry) => entry.startsWith('package/src/'))).toEqual([]);
    expect(tarballEntries.filter((entry) => /\.spec\./.test(entry))).toEqual([]);
  });

  // Resolution here walks up to the monorepo's node_modules, which holds far
  // more than the package declares; a consumer's install holds only what it
  // declares, so an undeclared import fails there and nowhere else.
  it('declares every package its built code imports', () => {
    const manifest = JSON.parse(
      readFileSync(join(installedDir, 'package.json'), 'utf8'),
    ) as PackageManifest;
    const declared = new Set([
      PACKAGE_NAME,
      ...Object.keys(manifest.dependencies ?? {}),
      ...Object.keys(manifest.peerDependencies ?? {}),
      ...Object.keys(manifest.optionalDependencies ?? {}),
    ]);
    const undeclared = new Set<string>();
    for (const file of listFiles(join(installedDir, 'dist')).filter((f) => f.endsWith('.js'))) {
      const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
      for (const { fileName: specifier } of importedFiles) {
        if (specifier.startsWith('.') || specifier.startsWith('node:')) continue;
        const name = packageNameOf(specifier);
        if (builtinModules.includes(name) || declared.has(name)) continue;
        undeclared.add(`${name} (${file.slice(installedDir.length + 1)})`);
      }
    }
    expect([...undeclared]).toEqual([]);
  });

  // The plain app of test/plain (its own main.ts: NestFactory.create, listen),
  // compiled under workDir, so `nestjs-production-readiness` resolves to the
  // unpacked tarball in workDir/node_modules, as in a user's app. `check` runs
  // against it listening; on failure the error carries the app's output.
  async function withPackedPlainApp(
    adapter: string,
    env: Record<string, string | undefined>,
    check: (baseUrl: string, output: () => string) => Promise<void>,
  ): Promise<void> {
    const outDir = join(workDir, `plain-${adapter}`);
    if (!existsSync(join(outDir, 'main.js'))) {
      await run(
        process.execPath,
        [
          join(REPO_ROOT, 'node_modules/typescript/bin/tsc'),
          '-p',
          join(REPO_ROOT, 'test/plain/tsconfig.json'),
          '--outDir',
          outDir,
        ],
        { cwd: REPO_ROOT, timeout: 120_000 },
      );
      writeFileSync(join(outDir, 'package.json'), '{"type":"module"}');
    }
    const port = await freePort();
    const childEnv = Object.fromEntries(
      Object.entries({ ...PLAIN_ENV, ...env, PORT: String(port), PLAIN_ADAPTER: adapter }).filter(
        (entry): entry is [string, string] => entry[1] !== undefined,
      ),
    );
    const child = execFile(process.execPath, [join(outDir, 'main.js')], {
      cwd: workDir,
      env: { ...process.env, ...childEnv, NODE_OPTIONS: '' },
    });
    let output = '';
    child.stdout?.on('data', (chunk: string) => (output += chunk));
    child.stderr?.on('data', (chunk: string) => (output += chunk));
    try {
      const baseUrl = `http://127.0.0.1:${port}`;
      await waitFor(
        async () => (await fetch(`${baseUrl}/livez`).catch(() => undefined))?.ok || undefined,
        20_000,
        { description: `the plain app on ${adapter} to listen`, intervalMs: 50 },
      );
      await check(baseUrl, () => output);
    } catch (error) {
      throw new Error(`${String(error)}; the app's output:\n${output}`, { cause: error });
    } finally {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await new Promise((resolve) => child.once('exit', resolve));
      }
    }
  }

  describe.each(['express', 'fastify'])('used by a plain Nest app on %s', (adapter) => {
    it('serves with the correlation id, the access line and the 415, from the tarball', async () => {
      await withPackedPlainApp(adapter, {}, async (baseUrl, output) => {
        const hello = await fetch(`${baseUrl}/`, { headers: { 'x-correlation-id': 'packed-1' } });
        expect(hello.status).toBe(200);
        expect(hello.headers.get('x-correlation-id')).toBe('packed-1');
        const refused = await fetch(`${baseUrl}/notes`, {
          method: 'POST',
          headers: { 'content-type': 'text/plain' },
          body: 'hello',
        });
        expect(refused.status).toBe(415);
        expect(refused.headers.get('content-type')).toMatch(/application\/problem\+json/);
        await waitFor(
          () =>
            output().includes('"correlationId":"packed-1"') && output().includes('"status":200')
              ? true
              : undefined,
          5_000,
          { description: 'the access line', intervalMs: 50 },
        );
      });
    }, 60_000);

    it("uses the app's own ApiKeyGuard and ProblemExceptionFilter subclasses, from the tarball", async () => {
      const key = 'packed-extension-key-0123456789';
      const env = { PLAIN_MODULES: 'extended', API_KEYS: key };
      await withPackedPlainApp(adapter, env, async (baseUrl) => {
        // The guard's getPresentedKey() reads the key from Authorization.
        const served = await fetch(`${baseUrl}/`, { headers: { authorization: `ApiKey ${key}` } });
        expect(served.status).toBe(200);
        // The filter's handleHttp() adds its header to the library's own refusal.
        const refused = await fetch(`${baseUrl}/`, {
          headers: { authorization: 'ApiKey wrong-key-0123456789' },
        });
        expect(refused.status).toBe(401);
        expect(refused.headers.get('link')).toBe('<https://support.example.com>');
        expect(refused.headers.get('content-type')).toMatch(/application\/problem\+json/);
      });
    }, 60_000);
  });

  describe.each([
    { kind: 'esm' as const, file: 'app.mjs', label: 'an ES module app (import)' },
    { kind: 'cjs' as const, file: 'app.cjs', label: 'a CommonJS app (require)' },
  ])('used by $label', ({ kind, file }) => {
    it('loads and validates the config with ProductionReadinessModule.forRoot', async () => {
      const appFile = join(workDir, file);
      writeFileSync(appFile, appSource(kind));
      // A source condition in NODE_OPTIONS would point the package at src/,
      // which the tarball rightly lacks.
      const env = { ...process.env, NODE_OPTIONS: '' };
      const { stdout, stderr } = await run(process.execPath, [appFile], {
        cwd: workDir,
        env,
        timeout: 20_000,
      }).catch((error: Error & { stdout?: string; stderr?: string }) => {
        throw new Error(
          `node ${file} failed: ${error.message}\nstdout:\n${error.stdout}\nstderr:\n${error.stderr}`,
        );
      });
      const line = stdout.split('\n').find((output) => output.startsWith(RESULT_MARKER));
      expect(line, `no result line; stdout:\n${stdout}\nstderr:\n${stderr}`).toBeDefined();
      const result = JSON.parse(line!.slice(RESULT_MARKER.length)) as PackedAppResult;

      // Each module system gets its own build: no require(esm), no dual instances.
      expect(result.resolved).toBe(
        join(installedDir, kind === 'cjs' ? 'dist/cjs/index.js' : 'dist/index.js'),
      );
      expect(result.node).toBe(process.version);
      expect(result).toMatchObject({
        isBaseServiceConfig: true,
        isFrozen: true,
        SERVICE_NAME: `packed-${kind}`,
        PORT: 8081,
        LOG_LEVEL: 'DEBUG',
        METRICS_ENABLED: false,
        SHUTDOWN_TIMEOUT_MS: 25_000,
      });
    });
  });
});
