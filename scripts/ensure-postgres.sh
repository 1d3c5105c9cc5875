#!/usr/bin/env bash
# Starts the machine's PostgreSQL cluster when it is installed locally but not running.
set -euo pipefail
host=${PGHOST:-127.0.0.1}
if pg_isready -q -h "$host" -p "${PGPORT:-5432}" 2>/dev/null; then exit 0; fi
if command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start
  for _ in $(seq 1 30); do pg_isready -q -h "$host" && exit 0; sleep 1; done
fi
echo "PostgreSQL is not reachable on $host" >&2
exit 1
