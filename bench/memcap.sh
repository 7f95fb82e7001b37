#!/bin/sh
# Runs one command in a fresh memory cgroup limited to LIMIT (e.g. 4G), after dropping the page
# cache, and reports the group's peak usage and any OOM kill. Needs root and the memory controller
# (cgroup v1 at /sys/fs/cgroup/memory, or v2 at /sys/fs/cgroup). Only the command is in the group,
# never this shell.
#   bench/memcap.sh 4G ./build/moeinfer bench -m dsv2lite-q4_0.gguf -p 8 -n 32 -r 1
set -eu
if [ $# -lt 2 ]; then
  echo "usage: $0 LIMIT COMMAND [ARGS...]   (LIMIT: bytes, or with K/M/G)" >&2
  exit 2
fi
limit=$1
shift
name=moeinfer-memcap-$$
if [ -d /sys/fs/cgroup/memory ]; then
  dir=/sys/fs/cgroup/memory/$name
  mkdir "$dir"
  echo "$limit" > "$dir/memory.limit_in_bytes"
  [ -f "$dir/memory.memsw.limit_in_bytes" ] && echo "$limit" > "$dir/memory.memsw.limit_in_bytes" || true
  peak_file=$dir/memory.max_usage_in_bytes
  limit_file=$dir/memory.limit_in_bytes
  version=v1
else
  dir=/sys/fs/cgroup/$name
  mkdir "$dir"
  echo "$limit" > "$dir/memory.max"
  echo 0 > "$dir/memory.swap.max" 2>/dev/null || true
  peak_file=$dir/memory.peak
  limit_file=$dir/memory.max
  version=v2
fi
sync
echo 1 > /proc/sys/vm/drop_caches
status=0
sh -c 'echo $$ > "$1/cgroup.procs"; shift; exec "$@"' memcap "$dir" "$@" || status=$?
peak=$(cat "$peak_file" 2>/dev/null || echo "?")
oom=0
if [ $version = v1 ]; then
  oom=$(awk '/oom_kill /{print $2}' "$dir/memory.oom_control" 2>/dev/null || echo 0)
else
  oom=$(awk '/oom_kill /{print $2}' "$dir/memory.events" 2>/dev/null || echo 0)
fi
echo "memcap: cgroup $version limit $(cat "$limit_file") bytes, peak $peak bytes, oom kills ${oom:-0}, exit status $status" >&2
rmdir "$dir" 2>/dev/null || true
exit $status
