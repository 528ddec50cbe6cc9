#!/usr/bin/env bash
# Starts the machine's PostgreSQL and Redis when they are not running (CI, a fresh machine),
# and waits until both answer. Tests need the PostgreSQL on 127.0.0.1:5432 (trust auth) and
# the Redis on 127.0.0.1:6379; the password-checking PostgreSQL comes from embedded-postgres.
set -euo pipefail

if ! pg_isready -q -h 127.0.0.1 -p 5432; then
  echo "starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start
fi
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  echo "starting Redis"
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
fi
for _ in $(seq 1 60); do
  if pg_isready -q -h 127.0.0.1 -p 5432 && redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
    exit 0
  fi
  sleep 0.5
done
echo "PostgreSQL or Redis did not come up on 127.0.0.1 within 30 s" >&2
exit 1
