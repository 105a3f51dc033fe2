#!/bin/sh
# On the first start (no meta.db yet) with INFLUXDB_DB set, creates that database on a
# server listening on loopback only, stops it, then runs the server for real as PID 1.
set -eu
[ $# -eq 0 ] || [ "${1#-}" != "$1" ] && set -- influxd "$@"
if [ "$1" = influxd ] && [ -n "${INFLUXDB_DB:-}" ] && [ ! -e /var/lib/influxdb/meta/meta.db ]; then
  INFLUXDB_HTTP_BIND_ADDRESS=127.0.0.1:8086 "$@" &
  pid=$!
  tries=0
  until curl -sf http://127.0.0.1:8086/ping >/dev/null 2>&1; do
    kill -0 "$pid" 2>/dev/null || { echo "influxd exited before INFLUXDB_DB could be created" >&2; exit 1; }
    tries=$((tries + 1))
    [ "$tries" -lt 300 ] || { echo "influxd did not answer on 127.0.0.1:8086 within 60 s" >&2; exit 1; }
    sleep 0.2
  done
  db=$(printf '%s' "$INFLUXDB_DB" | sed 's/\\/\\\\/g; s/"/\\"/g')
  curl -sf -XPOST http://127.0.0.1:8086/query --data-urlencode "q=CREATE DATABASE \"$db\"" >/dev/null
  echo "created database $INFLUXDB_DB" >&2
  kill "$pid"
  wait "$pid" || true
fi
exec "$@"
