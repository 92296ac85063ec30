import { readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return name.endsWith('.ts') && !name.endsWith('.spec.ts') ? [path] : [];
  });
}

function importedPackages(dir: string): Set<string> {
  const packages = new Set<string>();
  const specifier = /(?:from\s+|import\s*\(\s*)'([^'.][^']*)'/g;
  for (const file of sourceFiles(dir)) {
    for (const [, name] of readFileSync(file, 'utf8').matchAll(specifier)) {
      if (name.startsWith('node:') || builtinModules.includes(name)) continue;
      const parts = name.split('/');
      packages.add(name.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]);
    }
  }
  return packages;
}

function declared(packageJson: string): Set<string> {
  const manifest = JSON.parse(readFileSync(join(root, packageJson), 'utf8')) as Record<
    string,
    Record<string, string> | undefined
  >;
  return new Set([
    ...Object.keys(manifest.dependencies ?? {}),
    ...Object.keys(manifest.peerDependencies ?? {}),
  ]);
}

describe('declared dependencies', () => {
  it('the library declares every package its source imports', () => {
    const missing = [...importedPackages(join(root, 'libs/production-readiness/src'))].filter(
      (name) => !declared('libs/production-readiness/package.json').has(name),
    );
    expect(missing).toEqual([]);
  });

  it('the sample app declares every package its source imports', () => {
    const ownLibrary = 'nestjs-production-readiness';
    const missing = [...importedPackages(join(root, 'apps/essay-service/src'))].filter(
      (name) => name !== ownLibrary && !declared('package.json').has(name),
    );
    expect(missing).toEqual([]);
  });
});
