import { mkdirSync } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ErrorCode, ServiceError } from 'nestjs-production-readiness';

// The disk under the database is full, over quota, failing or read-only:
// the database is unavailable, not buggy, until someone frees or fixes it.
const DISK_UNAVAILABLE = new Set(['ENOSPC', 'EDQUOT', 'EIO', 'EROFS']);

export const isDiskUnavailable = (error: unknown): boolean => {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && DISK_UNAVAILABLE.has(code);
};

/**
 * Returns a writer that replaces `path` atomically: write a temporary file,
 * fsync it, rename it over the old one. A crash mid-write leaves the previous
 * database intact instead of a half-written file. Writes are queued, so an
 * older snapshot never lands after a newer one.
 */
export function atomicFileWriter(path: string): (content: Uint8Array) => Promise<void> {
  mkdirSync(dirname(path), { recursive: true });
  let queue: Promise<void> = Promise.resolve();
  let sequence = 0;
  return (content) => {
    const temporary = `${path}.${process.pid}.${sequence++}.tmp`;
    const write = async () => {
      try {
        const file = await open(temporary, 'w');
        try {
          await file.writeFile(content);
          await file.sync();
        } finally {
          await file.close();
        }
        await rename(temporary, path);
        // The rename itself is on disk only once the directory is.
        const directory = await open(dirname(path), 'r');
        try {
          await directory.sync();
        } finally {
          await directory.close();
        }
      } catch (error) {
        // Each failed save would otherwise leave a database-sized orphan behind.
        await rm(temporary, { force: true });
        if (isDiskUnavailable(error)) {
          const { code } = error as { code: string };
          throw new ServiceError(
            ErrorCode.DEPENDENCY_UNAVAILABLE,
            'The embedded database could not be written to disk.',
            { cause: error, details: { dependency: 'database', cause: `${code} writing ${path}` } },
          );
        }
        throw error;
      }
    };
    queue = queue.then(write, write);
    return queue;
  };
}
