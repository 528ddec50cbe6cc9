#!/usr/bin/env bash
# Regenerates test/fixtures/pulumi-cli: stack files written by the real Pulumi CLI, key by key
# with `pulumi config set` as a platform engineer would, and beside each what the engine hands
# the program for that stack (`pulumi config --json --show-secrets`). The tests read these
# (test/unit/stackfiles.test.ts, test/commands/pulumi-cli.test.ts); nothing else in the
# repository is touched. Needs the Pulumi CLI (bash scripts/pulumi-cli.sh builds it once).
#   bash scripts/cli-fixtures.sh
set -euo pipefail
cd "$(dirname "$0")/.."
out=test/fixtures/pulumi-cli
pulumi=$(bash scripts/pulumi-cli.sh)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
printf 'name: gaia-database\nruntime: nodejs\n' > "$work/Pulumi.yaml"
# A file backend and the passphrase secrets provider: no account, and a passphrase the tests know.
export PULUMI_BACKEND_URL="file://$work/state" PULUMI_CONFIG_PASSPHRASE=fixture-passphrase PULUMI_HOME="$work/home" PULUMI_SKIP_UPDATE_CHECK=true
mkdir -p "$work/state"
p() { "$pulumi" --non-interactive --cwd "$work" "$@"; }

# The README's local flow: the admin URL set with --secret --path (a `secure:` value nested in a block).
p stack init local
p config set -s local gaia:platform local
p config set -s local gaia:preset dev
p config set -s local gaia:adminEmail admin@gaia.local
p config set -s local --path gaia:backups.enabled false
p config set -s local --secret --path gaia:local.postgresUrl postgresql://postgres:fixture-pw-1@127.0.0.1:54329/postgres

# A cloud stack: top-level values as the CLI stores them (strings), typed values under --path,
# and one top-level secret.
p stack init staging
p config set -s staging gaia:platform aws
p config set -s staging gaia:region us-east-1
p config set -s staging gaia:replicas 1
p config set -s staging --secret gaia:adminEmail ops@gaia.example
p config set -s staging --path gaia:aws.vpcId vpc-0abc0000000000001
p config set -s staging --path 'gaia:aws.subnetIds[0]' subnet-0abc0000000000011
p config set -s staging --path 'gaia:aws.subnetIds[1]' subnet-0abc0000000000012
p config set -s staging --path 'gaia:aws.allowedSecurityGroupIds[0]' sg-0abc0000000000021
p config set -s staging --path gaia:pool.size 12
p config set -s staging gaia:deletionProtection true

version=$("$pulumi" version)
rm -rf "$out" && mkdir -p "$out"
for stack in local staging; do
  cp "$work/Pulumi.$stack.yaml" "$out/"
  p config -s "$stack" --json --show-secrets > "$out/$stack.config.json"
done
cat > "$out/README.md" <<MD
# Stack files written by the real Pulumi CLI

Written by \`pulumi\` $version with a file backend and the passphrase secrets provider
(\`PULUMI_CONFIG_PASSPHRASE=fixture-passphrase\`) by \`bash scripts/cli-fixtures.sh\`, which says
key by key what was set. Beside each stack file, \`<stack>.config.json\` is \`pulumi config --json
--show-secrets\`: what the engine hands the program for that stack. Do not edit: regenerate.
MD
echo "wrote $out with pulumi $version" >&2
