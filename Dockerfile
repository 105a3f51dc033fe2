# syntax=docker/dockerfile:1
# influx-backup: one program per role, each with its production dependencies only.
#
#   docker build -t influx-backup .                       # every program (the last stage)
#   docker build --target worker -t influx-backup-worker .  # one role: planner, worker, dashboard
#   docker run --rm -v "$PWD/config:/app/config" influx-backup \
#     node apps/cli/dist/main.js status --config config/docker.yaml
#
# Node.js 24, an LTS line. The build stage and the images share one base, so the
# native msgpackr-extract binary pnpm picks matches the image's platform and libc.
ARG NODE_IMAGE=node:24-trixie-slim

FROM ${NODE_IMAGE} AS build
ENV TURBO_TELEMETRY_DISABLED=1 PNPM_HOME=/pnpm PATH=/pnpm:$PATH
RUN npm install -g pnpm@12.4.2
WORKDIR /src
# Manifests first, so the dependency layer is rebuilt only when they change.
COPY package.json pnpm-lock.yaml pnpm-workspace.yaml turbo.json tsconfig.base.json .npmrc ./
COPY apps/cli/package.json apps/cli/
COPY apps/planner/package.json apps/planner/
COPY apps/worker/package.json apps/worker/
COPY apps/dashboard/package.json apps/dashboard/
COPY packages/config/package.json packages/config/
COPY packages/core/package.json packages/core/
COPY packages/dashboard/package.json packages/dashboard/
COPY packages/errors/package.json packages/errors/
COPY packages/influx/package.json packages/influx/
COPY packages/logger/package.json packages/logger/
COPY packages/monitoring/package.json packages/monitoring/
COPY packages/process/package.json packages/process/
COPY packages/queue/package.json packages/queue/
COPY packages/runtime/package.json packages/runtime/
COPY packages/testkit/package.json packages/testkit/
COPY test/package.json test/
RUN pnpm install --frozen-lockfile
COPY . .
RUN pnpm build
# pnpm deploy copies one app with its production dependencies (the workspace packages
# it uses included, as file: dependencies) into a folder of its own with its own
# node_modules: no devDependencies, no TypeScript, no test servers. Since pnpm 12.2
# it needs neither injectWorkspacePackages nor --legacy.
RUN for app in cli planner worker dashboard; do \
      pnpm --filter "@influx-backup/${app}-app" --prod deploy "/deploy/apps/${app}" || exit 1; \
    done

FROM ${NODE_IMAGE} AS base
ENV NODE_ENV=production
WORKDIR /app
# Logs go to stdout/stderr; a file handler, if configured, writes under /app/logs.
# The configuration is mounted at /app/config (see docker-compose.yaml).
RUN mkdir -p /app/logs /app/config && chown node:node /app/logs
USER node

# The worker and the planner have no HEALTHCHECK: they serve nothing a probe could ask,
# a stopped one exits (and `restart:` brings it back), a hung worker's chunks go to
# the others when its job locks lapse, and each worker's heartbeat in Redis is in
# `status` and /metrics (influx_backup_worker_last_seen_age_seconds) for alerting.
# A probe that only asked Redis would restart healthy workers whenever Redis is down.
FROM base AS planner
COPY --from=build --chown=node:node /deploy/apps/planner /app/apps/planner
CMD ["node", "apps/planner/dist/main.js", "--config", "config/docker.yaml"]

FROM base AS worker
COPY --from=build --chown=node:node /deploy/apps/worker /app/apps/worker
# SIGTERM lets a worker finish or hand back its chunks; give it time (compose: stop_grace_period).
CMD ["node", "apps/worker/dist/main.js", "--config", "config/docker.yaml"]

FROM base AS dashboard
COPY --from=build --chown=node:node /deploy/apps/dashboard /app/apps/dashboard
EXPOSE 3000
# /health needs no credentials: 200 while Redis answers, 503 otherwise. HEALTH_URL
# follows dashboard.host and dashboard.port when they are not 0.0.0.0:3000.
ENV HEALTH_URL=http://127.0.0.1:3000/health
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch(process.env.HEALTH_URL, { signal: AbortSignal.timeout(4000) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "apps/dashboard/dist/main.js", "--config", "config/docker.yaml"]

# The default target: every program, for `docker run IMAGE node apps/ROLE/dist/main.js ...`
# and the CLI (status, verify, config, plan ...).
FROM base AS all
COPY --from=build --chown=node:node /deploy/apps /app/apps
CMD ["node", "apps/cli/dist/main.js", "--help"]
