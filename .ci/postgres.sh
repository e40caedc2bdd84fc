#!/usr/bin/env bash
# Sourced by .ci/run before `make test`: provide a throwaway PostgreSQL server on loopback and
# export PATROL_TEST_POSTGRES_URL for the storage/API tests (tests/api run on SQLite and on it).
#
# - installs Debian's `postgresql` package when no server binaries are present (no prompts);
# - initialises a cluster in a temporary folder, owned by user `postgres` when run as root;
# - starts it on 127.0.0.1 on a free port (fsync off: test data only) and creates a database;
# - stops the server and removes the folder when the calling shell exits.
# Idempotent: when PATROL_TEST_POSTGRES_URL already answers, nothing is done.

_patrol_pg_main() {
  local bindir version datadir port runas url
  if [ -n "${PATROL_TEST_POSTGRES_URL:-}" ] && [ -n "${PATROL_PG_PORT:-}" ] \
     && command -v pg_isready >/dev/null 2>&1 \
     && pg_isready -q -h 127.0.0.1 -p "$PATROL_PG_PORT" 2>/dev/null; then
    echo "postgres.sh: reusing $PATROL_TEST_POSTGRES_URL"
    return 0
  fi
  if ! ls -d /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    if [ "$(id -u)" != "0" ]; then
      echo "postgres.sh: PostgreSQL is not installed and this is not root; skipping" >&2
      return 0
    fi
    echo "postgres.sh: installing postgresql from Debian's packages"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq </dev/null >/dev/null
    apt-get install -y -qq --no-install-recommends postgresql </dev/null >/dev/null
  fi
  version=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
  bindir="/usr/lib/postgresql/$version/bin"
  datadir=$(mktemp -d /tmp/patrol-pg.XXXXXX)
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
  if [ "$(id -u)" = "0" ]; then
    chown postgres:postgres "$datadir"
    runas=(runuser -u postgres --)
  else
    runas=()
  fi
  "${runas[@]}" "$bindir/initdb" -D "$datadir/data" -U postgres -A trust -E UTF8 \
    --no-sync >"$datadir/initdb.log" 2>&1 || { cat "$datadir/initdb.log" >&2; return 1; }
  "${runas[@]}" "$bindir/pg_ctl" -D "$datadir/data" -l "$datadir/server.log" -w -t 60 \
    -o "-p $port -k $datadir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
    start >/dev/null || { cat "$datadir/server.log" >&2; return 1; }
  "$bindir/createdb" -h 127.0.0.1 -p "$port" -U postgres patrol_test
  url="postgresql+psycopg://postgres@127.0.0.1:$port/patrol_test"
  export PATROL_TEST_POSTGRES_URL="$url"
  export PATROL_PG_PORT="$port"
  export PATROL_PG_DIR="$datadir"
  export PATROL_PG_BIN="$bindir"
  echo "postgres.sh: PostgreSQL $version on 127.0.0.1:$port ($datadir)"
}

_patrol_pg_stop() {
  if [ -n "${PATROL_PG_DIR:-}" ] && [ -d "$PATROL_PG_DIR/data" ]; then
    if [ "$(id -u)" = "0" ]; then
      runuser -u postgres -- "$PATROL_PG_BIN/pg_ctl" -D "$PATROL_PG_DIR/data" -m fast -w stop \
        >/dev/null 2>&1 || true
    else
      "$PATROL_PG_BIN/pg_ctl" -D "$PATROL_PG_DIR/data" -m fast -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$PATROL_PG_DIR"
  fi
}

_patrol_pg_main
if [ -n "${PATROL_PG_DIR:-}" ]; then
  trap _patrol_pg_stop EXIT
fi
