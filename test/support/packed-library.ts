import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const LIBRARY_DIR = join(REPO_ROOT, 'libs/production-readiness');
export const PACKAGE_NAME = 'nestjs-production-readiness';

export interface PackageManifest {
  name?: string;
  main?: string;
  types?: string;
  exports?: unknown;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  optionalDependencies?: Record<string, string>;
}

/** The library as `npm pack` makes it for a release. */
export interface PackedLibrary {
  /** Absolute path of the `.tgz`. */
  tarball: string;
  /** The paths in the tarball: `package/package.json`, `package/dist/index.js`, … */
  entries: string[];
  /** The package.json inside the tarball, as a consumer's npm reads it. */
  manifest: PackageManifest;
}

/** Every `./dist/…` path that package.json points at: main, types and the exports' targets. */
function builtEntryPoints(manifest: PackageManifest): string[] {
  const targets: string[] = [];
  const collect = (value: unknown): void => {
    if (typeof value === 'string') targets.push(value);
    else if (value && typeof value === 'object') Object.values(value).forEach(collect);
  };
  collect([manifest.main, manifest.types, manifest.exports]);
  return [...new Set(targets.filter((target) => target.startsWith('./dist/')))];
}

/** Every file of the package but its build output, dependencies and dot-folders (build staging). */
function buildInputs(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (entry.name.startsWith('.') || entry.name === 'dist' || entry.name === 'node_modules') {
      return [];
    }
    const path = join(dir, entry.name);
    return entry.isDirectory() ? buildInputs(path) : [path];
  });
}

/**
 * True when every built entry point is newer than every source, script and
 * config file of the package. The build deletes dist first, so rebuilding an
 * up-to-date library would break the process tests that run the built service
 * meanwhile.
 */
function isLibraryBuildCurrent(): boolean {
  const manifest = JSON.parse(
    readFileSync(join(LIBRARY_DIR, 'package.json'), 'utf8'),
  ) as PackageManifest;
  const builtMs = builtEntryPoints(manifest).map(
    (target) => statSync(join(LIBRARY_DIR, target), { throwIfNoEntry: false })?.mtimeMs ?? 0,
  );
  const oldestBuilt = Math.min(...builtMs);
  return buildInputs(LIBRARY_DIR).every(
    (file) => (statSync(file, { throwIfNoEntry: false })?.mtimeMs ?? 0) <= oldestBuilt,
  );
}

/**
 * Builds the library when its dist is missing or older than its sources: the
 * global setup has built it already unless SKIP_TEST_BUILD=1 skipped that.
 */
export async function ensureLibraryBuilt(): Promise<void> {
  if (isLibraryBuildCurrent()) return;
  await run('npm', ['run', 'build:lib', '--silent'], { cwd: REPO_ROOT, timeout: 180_000 });
}

/** Builds the library if needed, then packs it into `destination` as `npm publish` would. */
export async function packLibrary(destination: string): Promise<PackedLibrary> {
  await ensureLibraryBuilt();
  mkdirSync(destination, { recursive: true });
  const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', destination], {
    cwd: LIBRARY_DIR,
    timeout: 60_000,
  });
  const [packed] = JSON.parse(stdout) as [{ filename: string }];
  const tarball = join(destination, packed.filename);
  const entries = (await run('tar', ['-tzf', tarball])).stdout.split('\n').filter(Boolean);
  const manifest = JSON.parse(
    (await run('tar', ['-xzOf', tarball, 'package/package.json'])).stdout,
  ) as PackageManifest;
  // A build running meanwhile (another test file's, or by hand) empties dist
  // first: say so, rather than let an app fail later on a missing module.
  const missing = builtEntryPoints(manifest).filter(
    (target) => !entries.includes(`package/${target.slice(2)}`),
  );
  if (missing.length > 0) {
    throw new Error(
      `${packed.filename} lacks ${missing.join(', ')}: was ${LIBRARY_DIR}/dist being rebuilt?`,
    );
  }
  return { tarball, entries, manifest };
}

/**
 * Unpacks the tarball as `<nodeModulesDir>/nestjs-production-readiness`, without
 * installing anything else, and returns that directory.
 */
export async function unpackLibrary(
  library: PackedLibrary,
  nodeModulesDir: string,
): Promise<string> {
  const installedDir = join(nodeModulesDir, PACKAGE_NAME);
  mkdirSync(installedDir, { recursive: true });
  await run('tar', ['-xzf', library.tarball, '-C', installedDir, '--strip-components=1']);
  return installedDir;
}
