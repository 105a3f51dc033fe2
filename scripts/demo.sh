#!/usr/bin/env bash
# The demo: installs what is missing, starts a local Redis and two local InfluxDB
# servers under .demo/, loads an IoT dataset, backs it up with two worker
# processes, verifies it value by value, serves the dashboard, and says where
# everything is.   bash scripts/demo.sh [stop]
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
WORK="$ROOT/.demo"
REDIS_PORT=16379
SRC_PORT=18186
DST_PORT=18187
DASHBOARD_PORT=3000
CLI="node $ROOT/apps/cli/dist/main.js"

stop_one() { # name: SIGTERM, then wait for it to exit
  local f="$WORK/$1.pid"
  [ -e "$f" ] || return 0
  local pid
  pid=$(cat "$f")
  if kill "$pid" 2>/dev/null; then
    for _ in $(seq 400); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    echo "stopped $1 (pid $pid)"
  fi
  rm -f "$f"
}

stop_all() {
  # The apps first (workers finish or hand back their chunks), then the servers.
  for name in worker-1 worker-2 dashboard influx-source influx-backup redis; do stop_one "$name"; done
}

if [ "${1:-}" = "stop" ]; then
  stop_all
  exit 0
fi

bash scripts/setup.sh
stop_all
rm -rf "$WORK"
mkdir -p "$WORK/redis" "$WORK/logs"

influx_conf() { # name http-port rpc-port
  mkdir -p "$WORK/$1"
  cat > "$WORK/$1/influxd.conf" <<CONF
reporting-disabled = true
bind-address = "127.0.0.1:$3"
[meta]
  dir = "$WORK/$1/meta"
[data]
  dir = "$WORK/$1/data"
  wal-dir = "$WORK/$1/wal"
  query-log-enabled = false
[monitor]
  store-enabled = false
[http]
  bind-address = "127.0.0.1:$2"
  log-enabled = false
[logging]
  level = "warn"
CONF
  nohup influxd -config "$WORK/$1/influxd.conf" >"$WORK/logs/$1.log" 2>&1 &
  echo $! >"$WORK/$1.pid"
}

echo "==> starting Redis on 127.0.0.1:$REDIS_PORT and InfluxDB on :$SRC_PORT (source) and :$DST_PORT (backup)"
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$WORK/redis" --appendonly yes \
  --maxmemory-policy noeviction --daemonize yes --pidfile "$WORK/redis.pid" --logfile "$WORK/logs/redis.log"
influx_conf influx-source "$SRC_PORT" 18188
influx_conf influx-backup "$DST_PORT" 18189
for port in $SRC_PORT $DST_PORT; do
  for _ in $(seq 100); do curl -sf -o /dev/null "http://127.0.0.1:$port/ping" && break; sleep 0.1; done
done

echo "==> loading the demo dataset"
node scripts/demo-load.mjs "http://127.0.0.1:$SRC_PORT" iot_demo

cat > "$WORK/demo.yaml" <<YAML
app_name: "influx-backup demo"
databases:
  source: { host: "127.0.0.1", port: $SRC_PORT, database: "iot_demo" }
  backup: { host: "127.0.0.1", port: $DST_PORT, database: "iot_demo_backup" }
processing: { max_workers: 4, batch_size: 5000, batch_interval: 0 }
backup:
  measurements:
    - name: "weather"
      start_time: "2020-01-01T00:00:00Z"
    - name: "power meters"
      fields: ["kwh", "pulses", "online"]
      start_time: "2020-01-01T00:00:00Z"
  time_chunks: { size: "6h", overlap: "5m" }
redis: { url: "redis://127.0.0.1:$REDIS_PORT/0", prefix: "demo" }
dashboard: { port: $DASHBOARD_PORT, username: "admin", password: "demo" }
logging:
  level: "INFO"
  handlers:
    file: { enabled: true, filename: "$WORK/logs/backup_{timestamp}.log" }
YAML

background() { # name command...
  local name=$1
  shift
  nohup "$@" >"$WORK/logs/$name.log" 2>&1 &
  echo $! >"$WORK/$name.pid"
}

echo "==> starting two workers and the dashboard"
background worker-1 $CLI worker --config "$WORK/demo.yaml"
background worker-2 $CLI worker --config "$WORK/demo.yaml"
background dashboard $CLI dashboard --config "$WORK/demo.yaml"

echo "==> planning the backup and waiting for the workers (influx-backup plan --wait)"
$CLI plan --wait --config "$WORK/demo.yaml"
echo "==> verifying value by value (influx-backup verify --deep)"
$CLI verify --deep --config "$WORK/demo.yaml"

cat <<DONE

The demo is running under $WORK:
  source InfluxDB   http://127.0.0.1:$SRC_PORT  (database iot_demo)
  backup InfluxDB   http://127.0.0.1:$DST_PORT  (database iot_demo_backup)
  Redis             redis://127.0.0.1:$REDIS_PORT  (prefix demo)
  workers           two processes, logs in $WORK/logs/worker-*.log
  dashboard         http://127.0.0.1:$DASHBOARD_PORT  (user admin, password demo)
  configuration     $WORK/demo.yaml
  logs              $WORK/logs/
Try:
  pnpm exec influx-backup status --config .demo/demo.yaml
  pnpm exec influx-backup plan --wait --config .demo/demo.yaml   (incremental: copies only what is new)
  pnpm exec influx-backup run --full --config .demo/demo.yaml    (everything again, in this process)
Stop everything:   bash scripts/demo.sh stop
DONE
