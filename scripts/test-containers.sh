#!/usr/bin/env bash
# pnpm test:containers: gets Docker or podman ready (scripts/container-engine.sh), then
# runs test/containers: every Dockerfile target built and run, and docker-compose.yaml
# brought up and down. Exits non-zero when a check fails or no engine can run here.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s)
engine_env=$(bash scripts/container-engine.sh)
eval "$engine_env"
printf '==> container engine ready in %ss: %s\n' "$(($(date +%s) - started))" "$CONTAINER_ENGINE" >&2
exec node scripts/run-tests.mjs test/containers
