#!/usr/bin/env bash
# Make sure the Postgres and Redis that the tests use are running (CI machines start them before a
# run, but one that stopped is started again here with the machine's own commands).
set -euo pipefail
PGHOST=127.0.0.1
if ! pg_isready -q -h "$PGHOST" -p 5432 2>/dev/null; then
  if command -v pg_ctlcluster >/dev/null; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
  fi
fi
if ! (exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null; then
  if command -v redis-server >/dev/null; then
    mkdir -p /var/lib/redis /var/log/redis
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
      --dir /var/lib/redis --logfile /var/log/redis/ci.log
  fi
fi
for _ in $(seq 1 50); do
  if pg_isready -q -h "$PGHOST" -p 5432 2>/dev/null && (exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null; then
    exit 0
  fi
  sleep 0.2
done
echo "Postgres (127.0.0.1:5432) or Redis (127.0.0.1:6379) is not reachable" >&2
exit 1
