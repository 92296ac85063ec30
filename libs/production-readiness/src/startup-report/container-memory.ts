import { totalmem } from 'node:os';

/**
 * The memory limit of the container (cgroup) the process runs in, in bytes;
 * undefined when there is none. Node reads the cgroup v1 or v2 limit; with no
 * limit it answers 0 or a huge number (2^63 on cgroup v1, 2^64 from libuv),
 * and a limit above the machine's memory constrains nothing.
 */
export function containerMemoryLimitBytes(): number | undefined {
  const limit = process.constrainedMemory?.();
  if (!limit || !Number.isFinite(limit) || limit >= totalmem()) return undefined;
  return limit;
}
