import { statfs } from 'node:fs/promises';
import type { DependencyCheck } from '../health.options.js';

/** Free space on the file system holding `path`; down below `minFreeRatio` (0..1). */
export function diskSpaceCheck(
  path: string,
  minFreeRatio = 0.05,
  required = true,
): DependencyCheck {
  return {
    name: 'disk',
    required,
    check: async () => {
      const stats = await statfs(path);
      const freeRatio = stats.bavail / stats.blocks;
      if (freeRatio < minFreeRatio) {
        return { up: false, reason: `only ${(freeRatio * 100).toFixed(1)}% free` };
      }
      return { up: true, details: { freeBytes: stats.bavail * stats.bsize } };
    },
  };
}
