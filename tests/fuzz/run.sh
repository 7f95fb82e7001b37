#!/bin/sh
# Runs every harness of a -DMOEINFER_FUZZ=ON build for SECONDS each on a copy of its seed corpus
# (the repo's corpus is not written to). Exits non-zero on the first finding; the crashing input is
# left in the work directory (printed).
#   tests/fuzz/run.sh build-fuzz 60
set -eu
build=${1:?usage: run.sh BUILD_DIR SECONDS}
seconds=${2:-60}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d /tmp/moeinfer-fuzz.XXXXXX)
status=0
for name in gguf safetensors config_json tokenizer_json chat_template request; do
  mkdir -p "$work/$name/corpus" "$work/$name/artifacts"
  cp "$here/corpus/$name/"* "$work/$name/corpus/" 2>/dev/null || true
  echo "fuzz_$name: $seconds s"
  if ! "$build/tests/fuzz/fuzz_$name" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 \
      -malloc_limit_mb=4096 -max_len=262144 -print_final_stats=1 -artifact_prefix="$work/$name/artifacts/" \
      "$work/$name/corpus" > "$work/$name/log" 2>&1; then
    tail -n 60 "$work/$name/log"
    echo "fuzz_$name: FINDING, input in $work/$name/artifacts/" >&2
    status=1
    break
  fi
  grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "$work/$name/log" | tr '\n' ' '
  grep -E "cov: [0-9]+" "$work/$name/log" | tail -n 1
done
[ $status -eq 0 ] && rm -rf "$work"
exit $status
