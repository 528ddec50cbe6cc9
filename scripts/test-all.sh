#!/usr/bin/env bash
# The full tier, what CI runs (bash .ci/run): `npm test`, then what needs more than Node and the
# machine's PostgreSQL and Redis or takes minutes:
#   - test/cli: the tests that run the real Pulumi CLI (built once by scripts/pulumi-cli.sh);
#   - test/walkthroughs: the README's "add a migration / a stack / a service" followed in a copy
#     of the project, then the tests that depend on what was added;
#   - the rotation drill under load (npm run drill:rotation), the restore drill (npm run
#     drill:restore), the stack-file fuzzer at 200 edits a base, and actionlint on the workflows.
# Prints each tier's tests and wall time at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
reports=$(mktemp -d)
trap 'rm -rf "$reports"' EXIT
summary=()
tier() { # <name> <command...>: runs it, keeping its wall time
  local name=$1 started=$SECONDS
  shift
  echo "== $name"
  "$@"
  summary+=("$(printf '%-42s %4d s' "$name" $((SECONDS - started)))")
}
tests() { # <json report>: "<passed> of <total> tests"
  node -e 'const r = require(process.argv[1]); console.log(`${r.numPassedTests} of ${r.numTotalTests} tests`)' "$1"
}

tier "npm test" npm test -- --reporter=default --reporter=json --outputFile.json="$reports/fast.json"
summary[-1]+="  $(tests "$reports/fast.json")"
tier "the Pulumi CLI" bash scripts/pulumi-cli.sh
tier "test/cli and test/walkthroughs" node_modules/.bin/vitest run test/cli test/walkthroughs --reporter=default --reporter=json --outputFile.json="$reports/full.json"
summary[-1]+="  $(tests "$reports/full.json")"
tier "the rotation drill" npm run -s drill:rotation
tier "the restore drill" npm run -s drill:restore
tier "the stack-file fuzzer, 200 edits a base" env GAIA_FUZZ_RUNS=200 node_modules/.bin/vitest run test/graph/stackfile-fuzz.test.ts
tier "actionlint" bash scripts/actionlint.sh

echo
echo "== the full tier"
printf '%s\n' "${summary[@]}"
