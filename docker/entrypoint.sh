#!/bin/sh
# Sizes the V8 heap from the container's memory limit (cgroup v2, else v1)
# unless NODE_OPTIONS already sets --max-old-space-size, then runs Node.
# V8 otherwise sizes its heap from the machine's memory and the kernel kills
# the container (OOMKilled) before V8 collects garbage hard.
set -eu

HEAP_SHARE_PERCENT=75

memory_limit_bytes() {
  if [ -r /sys/fs/cgroup/memory.max ]; then
    cat /sys/fs/cgroup/memory.max
  elif [ -r /sys/fs/cgroup/memory/memory.limit_in_bytes ]; then
    cat /sys/fs/cgroup/memory/memory.limit_in_bytes
  else
    echo max
  fi
}

case "${NODE_OPTIONS:-}" in
  *--max-old-space-size*) ;;
  *)
    limit=$(memory_limit_bytes)
    # "max" (v2) or a huge number (v1, no limit): leave V8's default.
    if [ "$limit" != max ] && [ "$limit" -lt 1099511627776 ]; then
      heap_mib=$((limit / 1048576 * HEAP_SHARE_PERCENT / 100))
      NODE_OPTIONS="${NODE_OPTIONS:+$NODE_OPTIONS }--max-old-space-size=$heap_mib"
      export NODE_OPTIONS
    fi
    ;;
esac

exec node "$@"
