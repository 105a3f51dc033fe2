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

# What `pnpm install` reads, and only that: the lockfile and the workspace's manifests,
# found here rather than listed, so a new package needs no line of its own. The install
# layer below is rebuilt only when one of them changes.
FROM ${NODE_IMAGE} AS manifests
WORKDIR /src
COPY . .
RUN find . -type f ! -name package.json ! -name pnpm-lock.yaml ! -name pnpm-workspace.yaml \
      ! -name .pnpmfile.mjs ! -name .npmrc -delete \
 && find . -mindepth 1 -type d -empty -delete

FROM ${NODE_IMAGE} AS build
ENV TURBO_TELEMETRY_DISABLED=1 PNPM_HOME=/pnpm PATH=/pnpm:$PATH
RUN npm install -g pnpm@12.4.2
WORKDIR /src
COPY --from=manifests /src ./
RUN pnpm install --frozen-lockfile
# .dockerignore leaves out what the build does not read (tests, docs, scripts, deploy/),
# so a commit that only touches those rebuilds nothing.
COPY . .
RUN pnpm build
# pnpm deploy copies one app with its production dependencies (the workspace packages
# it uses included, as file: dependencies) into a folder of its own with its own
# node_modules: no devDependencies, no TypeScript (.pnpmfile.mjs), no test servers.
# Since pnpm 12.2 it needs neither injectWorkspacePackages nor --legacy. What only an
# editor or a debugger reads (source maps, type declarations, Markdown) is left out of
# the dependencies: about a quarter of their size.
RUN for app in cli planner worker dashboard; do \
      pnpm --filter "@influx-backup/${app}-app" --prod deploy "/deploy/apps/${app}" || exit 1; \
    done \
 && find /deploy -path '*/node_modules/*' -type f \
      \( -name '*.map' -o -name '*.d.ts' -o -name '*.d.mts' -o -name '*.d.cts' -o -name '*.md' \) -delete

FROM ${NODE_IMAGE} AS base
ENV NODE_ENV=production
WORKDIR /app
# Logs go to stdout/stderr; a file handler, if configured, writes under /app/logs.
# The configuration is mounted at /app/config (see docker-compose.yaml).
# The programs belong to root and only the log folder to `node`, the user they run as.
RUN mkdir -p /app/logs /app/config && chown node:node /app/logs
USER node

# The worker and the planner have no HEALTHCHECK: they serve nothing a probe could ask,
# a stopped one exits (and `restart:` brings it back), a hung worker's chunks go to
# the others when its job locks lapse, and each worker's heartbeat in Redis is in
# `status` and /metrics (influx_backup_worker_last_seen_age_seconds) for alerting.
# A probe that only asked Redis would restart healthy workers whenever Redis is down.
FROM base AS planner
COPY --from=build /deploy/apps/planner /app/apps/planner
CMD ["node", "apps/planner/dist/main.js", "--config", "config/docker.yaml"]

FROM base AS worker
COPY --from=build /deploy/apps/worker /app/apps/worker
# SIGTERM lets a worker finish or hand back its chunks; give it time (compose: stop_grace_period).
CMD ["node", "apps/worker/dist/main.js", "--config", "config/docker.yaml"]

FROM base AS dashboard
COPY --from=build /deploy/apps/dashboard /app/apps/dashboard
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
COPY --from=build /deploy/apps /app/apps
CMD ["node", "apps/cli/dist/main.js", "--help"]
