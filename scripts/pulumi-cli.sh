#!/usr/bin/env bash
# The Pulumi CLI for the tests that run it (stack files as it writes them, the README's config
# commands, rotation's config bump): `pulumi` from PATH when there is one, otherwise the version
# pinned in tools/pulumi-cli/go.mod, built once from the Go module proxy into the user's cache
# (about 7 minutes and 2.7 GB of module cache on 2 cores the first time; seconds after).
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
    echo "no Pulumi CLI: put pulumi on PATH, or build it with: bash scripts/pulumi-cli.sh (about 7 minutes the first time)" >&2
    exit 1
  fi
  command -v go >/dev/null || { echo "no Pulumi CLI on PATH and no Go to build one: install pulumi (https://www.pulumi.com/docs/install/)" >&2; exit 1; }
  echo "building the Pulumi CLI $version from the Go module proxy (once; about 7 minutes)" >&2
  mkdir -p "$(dirname "$bin")"
  # A static binary, its version stamped where `pulumi version` reads it (sdk/go/common/version).
  (cd tools/pulumi-cli && CGO_ENABLED=0 go build -mod=mod -trimpath -tags osusergo,grpcnotrace \
    -ldflags "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$version" \
    -o "$bin.partial" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi)
  mv "$bin.partial" "$bin"
fi
echo "$bin"
