import { mkdirSync } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';

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
      } catch (error) {
        // Each failed save would otherwise leave a database-sized orphan behind.
        await rm(temporary, { force: true });
        throw error;
      }
    };
    queue = queue.then(write, write);
    return queue;
  };
}
