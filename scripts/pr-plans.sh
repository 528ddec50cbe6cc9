#!/usr/bin/env bash
# The offline plan of every stack diffed against a base revision's committed plan, as markdown
# for the pull-request comment (scripts/pr-plans.ts says what it writes and the step outputs).
#   bash scripts/pr-plans.sh <base-ref> <out.md>
set -euo pipefail
cd "$(dirname "$0")/.."
exec node_modules/.bin/tsx scripts/pr-plans.ts "$@"
