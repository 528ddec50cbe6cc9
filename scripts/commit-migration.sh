#!/usr/bin/env bash
# Commits sql/migrations/current.sql as the next migration, with graphile-migrate's hash chain:
#   npm run migration:commit -- "add feature flags"
# graphile-migrate runs the new migration against a throw-away shadow database first, so it
# needs a PostgreSQL where it may create databases: GAIA_DEV_PG_URL (default: the machine's,
# postgresql://postgres@127.0.0.1:5432/postgres). Both temporary databases are dropped after.
set -euo pipefail
cd "$(dirname "$0")/.."
message="${1:?usage: npm run migration:commit -- \"what the migration does\"}"
root="${GAIA_DEV_PG_URL:-postgresql://postgres@127.0.0.1:5432/postgres}"
suffix="$$"
base="${root%/*}"
cleanup() { psql -q "$root" -c "drop database if exists gaia_migrate_$suffix" -c "drop database if exists gaia_migrate_${suffix}_shadow" >/dev/null; }
trap cleanup EXIT
psql -q "$root" -c "create database gaia_migrate_$suffix" >/dev/null
DATABASE_URL="$base/gaia_migrate_$suffix" \
SHADOW_DATABASE_URL="$base/gaia_migrate_${suffix}_shadow" \
ROOT_DATABASE_URL="$root" \
  node_modules/.bin/graphile-migrate commit --message "$message"
