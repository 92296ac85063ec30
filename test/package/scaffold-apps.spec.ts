import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/free-port.js';
import {
  PACKAGE_NAME,
  packLibrary,
  type PackageManifest,
  type PackedLibrary,
} from '../support/packed-library.js';
import { waitFor } from '../support/wait-for.js';

// The apps of test/scaffolds (see its README.md), each copied outside the
// repository and installed from the registry with the packed tarball, so
// nothing resolves from the monorepo's node_modules. Then each runs its own
// scripts, as the user who generated it with `nest new` would.

const SCAFFOLDS_DIR = fileURLToPath(new URL('../scaffolds', import.meta.url));
const README = fileURLToPath(new URL('../../README.md', import.meta.url));
const DOCS_DIR = fileURLToPath(new URL('../../docs', import.meta.url));

/** Marks a README code block that must compile, as it stands, in every app of test/scaffolds. */
const COMPILED_EXAMPLE_MARK =
  '<!-- compiled in apps made by nest new: test/package/scaffold-apps.spec.ts -->';

/** The code of each marked ```ts block of the README and of the pages of docs/. */
function compiledReadmeExamples(): string[] {
  const pages = [
    README,
    ...readdirSync(DOCS_DIR)
      .filter((name) => name.endsWith('.md'))
      .sort()
      .map((name) => join(DOCS_DIR, name)),
  ];
  const blocks = pages.flatMap((page) =>
    readFileSync(page, 'utf8').split(COMPILED_EXAMPLE_MARK).slice(1),
  );
  return blocks.map((after) => {
    const block = /^\s*```ts\n([\s\S]*?)\n```/.exec(after);
    if (!block) throw new Error(`${COMPILED_EXAMPLE_MARK} is not followed by a ts block`);
    return block[1];
  });
}

/**
 * The environment given to every command run in an app. Empty: the library's
 * base config asks for nothing (it names the service from package.json), so a
 * user's app starts with no environment of ours.
 */
const REQUIRED_CONFIG_ENV: Record<string, string> = {};

/**
 * The range to install of each `@nestjs/*` peer of the library beside an app of
 * a given Nest major. The library's own peer ranges allow both majors, so npm
 * alone would take the newest; a user picks the one matching their app.
 */
const NEST_PEER_RANGES: Record<number, Record<string, string>> = {
  11: {
    '@nestjs/config': '^4',
    '@nestjs/microservices': '^11',
    '@nestjs/terminus': '^11',
  },
  12: {
    '@nestjs/config': '^12',
    '@nestjs/microservices': '^12',
    '@nestjs/terminus': '^12',
  },
};

const SCAFFOLDS = [
  { name: 'nest11-cjs-jest', generatedBy: '@nestjs/cli@11 new' },
  { name: 'nest12-esm-vitest', generatedBy: '@nestjs/cli@12 new' },
];

const INSTALL_TIMEOUT_MS = 300_000;
const COMMAND_TIMEOUT_MS = 180_000;

/**
 * The packages to add to the app beside the tarball, as `name@range`: every
 * required peer of the packed library the app does not already declare, at the
 * app's Nest major.
 */
function peersToInstall(library: PackageManifest, app: PackageManifest): string[] {
  const declared = { ...app.dependencies, ...app.devDependencies };
  const nestMajor = Number(/\d+/.exec(declared['@nestjs/core'] ?? '')?.[0]);
  const nestRanges = NEST_PEER_RANGES[nestMajor];
  if (!nestRanges) throw new Error(`No NEST_PEER_RANGES entry for the app's Nest ${nestMajor}.`);
  return Object.entries(library.peerDependencies ?? {})
    .filter(([name]) => !library.peerDependenciesMeta?.[name]?.optional && !(name in declared))
    .map(([name, range]) => {
      if (nestRanges[name]) return `${name}@${nestRanges[name]}`;
      if (name.startsWith('@nestjs/')) {
        throw new Error(
          `${name} is a required peer of ${PACKAGE_NAME} (${range}): add its range for ` +
            `Nest ${nestMajor} to NEST_PEER_RANGES.`,
        );
      }
      return `${name}@${range}`;
    });
}

/**
 * The environment of a user's shell: without what npm (`npm_lifecycle_*`, the
 * local prefix) and Vitest (VITEST_*, NODE_ENV=test) set for this test run,
 * which would steer the app's own npm, jest and vitest.
 */
function userShellEnv(): Record<string, string> {
  const steering =
    /^(npm_(lifecycle_|package_|command$|execpath$|node_execpath$|config_local_prefix$)|VITEST|INIT_CWD$|NODE_ENV$|NODE_OPTIONS$|TEST$)/;
  return Object.fromEntries(
    Object.entries(process.env).filter(
      (entry): entry is [string, string] => entry[1] !== undefined && !steering.test(entry[0]),
    ),
  );
}

interface CommandResult {
  command: string;
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  durationMs: number;
  output: string;
}

/** Runs a command in `cwd` to its end (killing its process group past the timeout). */
async function runCommand(
  cwd: string,
  [file, ...args]: string[],
  timeoutMs = COMMAND_TIMEOUT_MS,
): Promise<CommandResult> {
  const command = [file, ...args].join(' ');
  const started = Date.now();
  const child = spawn(file, args, {
    cwd,
    env: { ...userShellEnv(), ...REQUIRED_CONFIG_ENV },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const timer = setTimeout(() => {
    output += `\n[killed: still running after ${timeoutMs} ms]`;
    if (child.pid) process.kill(-child.pid, 'SIGKILL');
  }, timeoutMs);
  const [exitCode, signal] = await new Promise<[number | null, NodeJS.Signals | null]>(
    (resolve, reject) => {
      child.once('error', reject);
      child.once('close', (code, closeSignal) => resolve([code, closeSignal]));
    },
  ).finally(() => clearTimeout(timer));
  const result = { command, exitCode, signal, durationMs: Date.now() - started, output };
  console.log(
    `${basename(cwd)}: \`${command}\` exited ${exitCode ?? signal} in ${result.durationMs} ms`,
  );
  return result;
}

/** The failure message of a command: how it ended and everything it printed. */
function report(result: CommandResult): string {
  return `\`${result.command}\` exited ${result.exitCode ?? result.signal} after ${result.durationMs} ms; its output:\n${result.output}`;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe(`apps made by nest new, with the packed ${PACKAGE_NAME} tarball`, () => {
  let workDir: string;
  let library: PackedLibrary;

  beforeAll(async () => {
    // Outside the repository: from there no import can fall back on the
    // monorepo's node_modules.
    workDir = mkdtempSync(join(tmpdir(), 'npr-scaffolds-'));
    const started = Date.now();
    library = await packLibrary(join(workDir, 'pack'));
    console.log(`packed ${basename(library.tarball)} in ${Date.now() - started} ms`);
  }, 240_000);

  afterAll(() => {
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  });

  describe.each(SCAFFOLDS)('$name ($generatedBy)', ({ name }) => {
    let appDir: string;
    let build: Promise<CommandResult> | undefined;
    // Once, for its own test and for the one that starts dist/main.
    const buildOnce = () => (build ??= runCommand(appDir, ['npm', 'run', 'build']));

    beforeAll(async () => {
      appDir = join(workDir, name);
      cpSync(join(SCAFFOLDS_DIR, name), appDir, {
        recursive: true,
        filter: (source) => !/[/\\](node_modules|dist)$/.test(source),
      });
      const app = JSON.parse(readFileSync(join(appDir, 'package.json'), 'utf8')) as PackageManifest;
      // One install: the app's own dependencies, the tarball and its peers, as
      // `npm install nestjs-production-readiness <peers>` in a fresh app does.
      const install = await runCommand(
        appDir,
        [
          'npm',
          'install',
          '--no-audit',
          '--no-fund',
          '--prefer-offline',
          '--loglevel=error',
          library.tarball,
          ...peersToInstall(library.manifest, app),
        ],
        INSTALL_TIMEOUT_MS,
      );
      if (install.exitCode !== 0) throw new Error(report(install));
      // The README's examples, as files of the app: its own build and the
      // type check below compile them in the app's module system and strictness.
      compiledReadmeExamples().forEach((code, index) =>
        writeFileSync(join(appDir, 'src', `readme-example-${index + 1}.ts`), code),
      );
      // Type-checks the declarations of every installed package too, ours included.
      writeFileSync(
        join(appDir, 'tsconfig.strict-libs.json'),
        JSON.stringify({ extends: './tsconfig.json', compilerOptions: { skipLibCheck: false } }),
      );
    }, INSTALL_TIMEOUT_MS + 10_000);

    it('has the README examples to compile', () => {
      expect(compiledReadmeExamples().length).toBeGreaterThanOrEqual(3);
    });

    it(
      'builds with npm run build, the README examples included',
      async () => {
        const result = await buildOnce();
        expect(result.exitCode, report(result)).toBe(0);
      },
      COMMAND_TIMEOUT_MS,
    );

    it(
      'passes its unit tests with npm test',
      async () => {
        const result = await runCommand(appDir, ['npm', 'test']);
        expect(result.exitCode, report(result)).toBe(0);
      },
      COMMAND_TIMEOUT_MS,
    );

    it(
      'passes its e2e tests with npm run test:e2e',
      async () => {
        const result = await runCommand(appDir, ['npm', 'run', 'test:e2e']);
        expect(result.exitCode, report(result)).toBe(0);
      },
      COMMAND_TIMEOUT_MS,
    );

    it(
      'type-checks against the installed declarations with skipLibCheck off',
      async () => {
        const result = await runCommand(appDir, [
          'npx',
          '--no',
          '--',
          'tsc',
          '--noEmit',
          '-p',
          'tsconfig.strict-libs.json',
        ]);
        expect(result.exitCode, report(result)).toBe(0);
      },
      COMMAND_TIMEOUT_MS,
    );

    it('serves GET / with a correlation id from node dist/main, and exits 0 on SIGTERM', async () => {
      const built = await buildOnce();
      expect(built.exitCode, `the build failed, so there is no dist/main: ${report(built)}`).toBe(
        0,
      );
      const port = await freePort();
      const child = spawn(process.execPath, ['dist/main'], {
        cwd: appDir,
        env: { ...userShellEnv(), ...REQUIRED_CONFIG_ENV, PORT: String(port) },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
      const exited = new AbortController();
      const exitCode = new Promise<number | null>((resolve) =>
        child.once('exit', (code, signal) => {
          exited.abort(
            new Error(`node dist/main exited ${code ?? signal}; its output:\n${output}`),
          );
          resolve(code);
        }),
      );
      try {
        const hello = await waitFor(
          () => fetch(`http://127.0.0.1:${port}/`).catch(() => undefined),
          30_000,
          { description: 'node dist/main to listen', signal: exited.signal, intervalMs: 100 },
        );
        expect(hello.status, output).toBe(200);
        expect(await hello.text()).toBe('Hello World!');
        expect(hello.headers.get('x-correlation-id')).toMatch(UUID);

        child.kill('SIGTERM');
        expect(await exitCode, `after SIGTERM; its output:\n${output}`).toBe(0);
      } finally {
        child.kill('SIGKILL');
      }
    }, 90_000);

    // Last: it edits src/app.service.ts, as a user at work does, and nest
    // rebuilds dist. Each edit must be served again: the process being
    // replaced lets go of the port at once outside Kubernetes (no drain delay).
    it('serves each edit again under nest start --watch, and ends on Ctrl-C', async () => {
      const servicePath = join(appDir, 'src/app.service.ts');
      const original = readFileSync(servicePath, 'utf8');
      expect(original).toContain("'Hello World!'");
      const port = await freePort();
      const env: Record<string, string> = { ...userShellEnv(), PORT: String(port) };
      delete env.KUBERNETES_SERVICE_HOST;
      const child = spawn('npm', ['run', 'start:dev'], {
        cwd: appDir,
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      });
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
      const exited = new AbortController();
      child.once('exit', (code, signal) =>
        exited.abort(
          new Error(`npm run start:dev exited ${code ?? signal}; its output:\n${output}`),
        ),
      );
      // 'close': every process holding its output has ended, the app's included,
      // so its last lines are in.
      const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
      const served = (text: string, description: string) =>
        waitFor(
          async () => {
            const response = await fetch(`http://127.0.0.1:${port}/`).catch(() => undefined);
            return response?.ok && (await response.text()) === text ? true : undefined;
          },
          60_000,
          { description, signal: exited.signal, intervalMs: 100 },
        );
      try {
        await served('Hello World!', 'nest start --watch to serve');
        for (const edit of [1, 2, 3]) {
          const text = `Hello edit ${edit}!`;
          writeFileSync(servicePath, original.replace("'Hello World!'", `'${text}'`));
          await served(text, `edit ${edit} to be served`);
        }
        expect(output).not.toContain('EADDRINUSE');

        // Ctrl-C: the terminal sends SIGINT to the whole foreground group.
        process.kill(-child.pid!, 'SIGINT');
        await closed;
        expect(output, 'the app ran its shutdown on Ctrl-C').toContain('Shutting down (SIGINT)');
        // Each restart and the Ctrl-C: every shutdown begun was completed.
        const begun = output.match(/Shutting down \(SIG/g)?.length ?? 0;
        expect(begun).toBeGreaterThanOrEqual(4);
        expect(output.match(/Shutdown complete/g)?.length, 'shutdowns completed').toBe(begun);
        const afterwards = await fetch(`http://127.0.0.1:${port}/`).catch(() => undefined);
        expect(afterwards, 'nothing serves on the port any more').toBeUndefined();
      } catch (error) {
        throw new Error(`${String(error)}\nits output:\n${output}`, { cause: error });
      } finally {
        writeFileSync(servicePath, original);
        // The whole group, even once npm has exited: the app may outlive it.
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {
          // Nothing left in the group.
        }
      }
    }, 300_000);
  });
});
