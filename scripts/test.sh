#!/usr/bin/env bash
# `npm test`: the ops scripts bundled, then the type check and every test that needs only Node and
# the machine's PostgreSQL and Redis, side by side: the tests wait on servers more than they
# compute, so the type check runs in their idle time. Arguments go to vitest.
set -uo pipefail
cd "$(dirname "$0")/.."
npm run -s build:ops || exit 1
typecheck=$(mktemp)
trap 'rm -f "$typecheck"' EXIT
node_modules/.bin/tsc --noEmit > "$typecheck" 2>&1 &
tsc_pid=$!
node_modules/.bin/vitest run --exclude 'test/cli/**' --exclude 'test/walkthroughs/**' "$@"
status=$?
if wait "$tsc_pid"; then
  echo "type check: no error"
else
  cat "$typecheck"
  echo "type check failed" >&2
  status=1
fi
exit "$status"
