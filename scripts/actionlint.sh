#!/usr/bin/env bash
# Lints the GitHub Actions workflows with actionlint (its pinned version, installed once from
# the Go module proxy into the user's cache; it runs shellcheck on run: blocks where one is on PATH).
set -euo pipefail
cd "$(dirname "$0")/.."
version=v1.7.12
bin="${XDG_CACHE_HOME:-$HOME/.cache}/gaia-database/actionlint-$version"
[ -x "$bin/actionlint" ] || GOBIN="$bin" go install "github.com/rhysd/actionlint/cmd/actionlint@$version"
"$bin/actionlint" -no-color .github/workflows/*.yml
echo "actionlint $version: .github/workflows clean"
