#!/usr/bin/env bash
# The Pulumi CLI for the tests that run it (stack files as it writes them, the README's config
# commands, rotation's config bump): `pulumi` from PATH when there is one, otherwise the version
# pinned in tools/pulumi-cli/go.mod, built once from the Go module proxy into the user's cache
# (7 to 17 minutes and 2.7 GB of module cache on 2 cores the first time; seconds after), one
# build at a time (a lock beside the binary), with a progress line every 30 s.
# Prints the binary's path.
#   bash scripts/pulumi-cli.sh              build if needed
#   bash scripts/pulumi-cli.sh --installed  never build: fail, saying how, if it is not there
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -n "${GAIA_PULUMI_CLI:-}" ]; then echo "$GAIA_PULUMI_CLI"; exit 0; fi
if command -v pulumi >/dev/null 2>&1; then command -v pulumi; exit 0; fi
version=$(sed -n 's#^require github.com/pulumi/pulumi/pkg/v3 \(v[0-9.]*\)$#\1#p' tools/pulumi-cli/go.mod)
bin="${XDG_CACHE_HOME:-$HOME/.cache}/gaia-database/pulumi-$version/bin/pulumi"  # bin/ under a root, as the Automation API expects (PulumiCommand.get)
if [ ! -x "$bin" ]; then
  if [ "${1:-}" = "--installed" ]; then
    echo "no Pulumi CLI: put pulumi on PATH, or build it with: bash scripts/pulumi-cli.sh (7 to 17 minutes the first time)" >&2
    exit 1
  fi
  command -v go >/dev/null || { echo "no Pulumi CLI on PATH and no Go to build one: install pulumi (https://www.pulumi.com/docs/install/)" >&2; exit 1; }
  mkdir -p "$(dirname "$bin")"
  # One build at a time: a second caller waits for the first and then uses its binary.
  exec 9>"$(dirname "$bin")/build.lock"
  if ! flock -n 9; then
    echo "another build of the Pulumi CLI $version is running; waiting for it" >&2
    flock 9
  fi
  if [ ! -x "$bin" ]; then
    echo "building the Pulumi CLI $version from the Go module proxy (once; 7 to 17 minutes on 2 cores)" >&2
    started=$SECONDS
    # A progress line every 30 s, so that a long first build is not taken for a hang.
    # It is stopped with its sleep, which would otherwise hold a caller's pipe open for up to 30 s.
    (exec 9>&- >/dev/null; while sleep "${GAIA_BUILD_PROGRESS_SECONDS:-30}"; do echo "  still building the Pulumi CLI: $(((SECONDS - started) / 60)) min $(((SECONDS - started) % 60)) s so far" >&2; done) &
    ticker=$!
    trap 'pkill -P "$ticker" 2>/dev/null; kill "$ticker" 2>/dev/null || true' EXIT
    # A static binary, its version stamped where `pulumi version` reads it (sdk/go/common/version).
    (cd tools/pulumi-cli && CGO_ENABLED=0 go build -mod=mod -trimpath -tags osusergo,grpcnotrace \
      -ldflags "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$version" \
      -o "$bin.partial" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi)
    mv "$bin.partial" "$bin"
    echo "built the Pulumi CLI $version in $(((SECONDS - started) / 60)) min $(((SECONDS - started) % 60)) s: $bin" >&2
  fi
fi
echo "$bin"
