// What the benchmarks read of the machine they run on, and how they pin
// their processes to its cores: one place for every bench that reports it.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** Whether `taskset` (util-linux) is there to pin processes to cores. */
export function hasTaskset() {
  try {
    execFileSync('taskset', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** The CPU's model name from /proc/cpuinfo, or 'unknown'. */
export function cpuModelName() {
  try {
    return (
      readFileSync('/proc/cpuinfo', 'utf8')
        .split('\n')
        .find((line) => line.startsWith('model name'))
        ?.split(':')[1]
        ?.trim() ?? 'unknown'
    );
  } catch {
    return 'unknown';
  }
}
