import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

interface AppPackage {
  name?: string;
  version?: string;
}

let cached: { cwd: string; manifest: AppPackage } | undefined;

/**
 * The name and version in the app's package.json (the one in the working
 * directory, where `npm start`, `nest start` and a container's WORKDIR run
 * the app), so SERVICE_NAME and SERVICE_VERSION need no setting of their own.
 * The scope of a scoped name is dropped: `@acme/orders` is `orders`. Read
 * once per working directory; a missing or unreadable file gives nothing.
 */
export function appPackage(): AppPackage {
  const cwd = process.cwd();
  if (cached?.cwd !== cwd) cached = { cwd, manifest: readManifest(cwd) };
  return cached.manifest;
}

function readManifest(dir: string): AppPackage {
  try {
    const parsed = JSON.parse(readFileSync(resolve(dir, 'package.json'), 'utf8')) as unknown;
    if (typeof parsed !== 'object' || parsed === null) return {};
    const { name, version } = parsed as Record<string, unknown>;
    return {
      name: typeof name === 'string' && name !== '' ? name.replace(/^@[^/]+\//, '') : undefined,
      version: typeof version === 'string' && version !== '' ? version : undefined,
    };
  } catch {
    return {};
  }
}
