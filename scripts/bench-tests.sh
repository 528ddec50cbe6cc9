#!/usr/bin/env bash
# Benchmark: `npm test`'s wall time, with test files sharing their worker's modules (the
# configuration, vitest.config.mts `isolate: false`) and isolated (each file importing afresh),
# RUNS times each (default 1), alternating. Timings vary with the machine's load: a figure for
# the notes and the config's comment, never a test's threshold.
#
#   npm run bench:tests [-- runs]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-1}
time_of() {
  local start end
  start=$(date +%s.%N)
  if ! npm test -- "$@" > /dev/null 2>&1; then echo "npm test $* failed: run it to see why" >&2; exit 1; fi
  end=$(date +%s.%N)
  awk "BEGIN { printf \"%.0f\", $end - $start }"
}
for i in $(seq "$runs"); do
  echo "run $i: shared $(time_of) s, isolated $(time_of --isolate) s (load average: $(cut -d' ' -f1 /proc/loadavg))"
done
