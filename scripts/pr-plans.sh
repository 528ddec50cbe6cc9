#!/usr/bin/env bash
# The offline plan of every stack diffed against a base revision's committed plan, as markdown
# for the pull-request comment: bash scripts/pr-plans.sh <base-ref> <out.md>
# In GitHub Actions it also sets the step outputs `stacks` (JSON list of the stacks the change
# touches) and `refused` (true when one replaces or deletes a protected resource and
# ALLOW_REPLACE is not true). It exits 0 either way: the workflow decides after commenting.
set -euo pipefail
cd "$(dirname "$0")/.."
base="$1"
out="$2"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
touched=()
refused=false
flags=()
[ "${ALLOW_REPLACE:-false}" = true ] && flags+=(--allow-replace)
{
  echo "## Offline plans against ${base#origin/}"
  echo
} > "$out"
for file in Pulumi.*.yaml; do
  stack=${file#Pulumi.}
  stack=${stack%.yaml}
  # A stack new in this change has no base plan: everything in it is a creation.
  git show "$base:plans/$stack.txt" > "$work/$stack.txt" 2>/dev/null || : > "$work/$stack.txt"
  status=0
  npm run -s plan -- "$stack" --diff --base "$work/$stack.txt" "${flags[@]}" > "$work/$stack.diff" || status=$?
  if [ "$status" -ne 0 ] && ! grep -q '^refused: ' "$work/$stack.diff"; then
    cat "$work/$stack.diff" >&2
    exit "$status"
  fi
  if grep -q '^refused: ' "$work/$stack.diff" && [ "$status" -ne 0 ]; then refused=true; fi
  if grep -qx '  no change' "$work/$stack.diff"; then
    echo "- \`$stack\`: no change" >> "$out"
    continue
  fi
  touched+=("\"$stack\"")
  {
    echo "<details open><summary><code>$stack</code>: $(tail -n 1 "$work/$stack.diff" | sed 's/^refused: .*/refused: see below/')</summary>"
    echo
    echo '```'
    cat "$work/$stack.diff"
    echo '```'
    echo "</details>"
  } >> "$out"
done
stacks="[$(IFS=,; echo "${touched[*]}")]"
if [ -n "${GITHUB_OUTPUT:-}" ]; then
  echo "stacks=$stacks" >> "$GITHUB_OUTPUT"
  echo "refused=$refused" >> "$GITHUB_OUTPUT"
fi
echo "plans diffed: touched $stacks, refused $refused"
