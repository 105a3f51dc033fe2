#!/usr/bin/env bash
# Installs what influx-backup needs on a Debian or Ubuntu machine with Node.js 20.19+
# (24 is the supported LTS line):
# pnpm, InfluxDB 1.x and Redis from Debian's packages, and the workspace's
# dependencies, then builds it. Safe to run again; it skips what is there.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '==> %s\n' "$*" >&2; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$node_major" -lt 20 ]; then
  echo "influx-backup needs Node.js 20 or newer (found: $(node --version 2>/dev/null || echo none))" >&2
  exit 1
fi
if [ "$node_major" -lt 22 ]; then
  say "Node.js $(node --version) is out of support upstream; influx-backup runs on it, but 24 is the supported line"
fi

missing=()
command -v influxd >/dev/null 2>&1 || missing+=(influxdb)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)  # the TLS tests make certificates
command -v promtool >/dev/null 2>&1 || missing+=(prometheus)  # promtool checks deploy/prometheus/alerts.yaml
command -v chromium >/dev/null 2>&1 || missing+=(chromium)  # the dashboard test renders its pages headless
if [ ${#missing[@]} -gt 0 ]; then
  say "installing ${missing[*]} (apt-get)"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if ! command -v pnpm >/dev/null 2>&1 || [ "$(pnpm --version)" != "12.4.2" ]; then
  say "installing pnpm 12.4.2 (npm)"
  as_root npm install -g pnpm@12.4.2 >/dev/null
fi

export TURBO_TELEMETRY_DISABLED=1
say "installing dependencies (pnpm install)"
pnpm install --frozen-lockfile >/dev/null
say "building (pnpm build)"
pnpm build >/dev/null
