# influx-backup: one image for every role (planner, worker, dashboard, and the CLI).
#   docker build -t influx-backup .
#   docker run --rm -v "$PWD/config:/app/config" influx-backup status
FROM node:20-bookworm-slim AS build
ENV TURBO_TELEMETRY_DISABLED=1 PNPM_HOME=/pnpm PATH=/pnpm:$PATH
RUN npm install -g pnpm@12.4.2
WORKDIR /app
# Manifests first, so the dependency layer is rebuilt only when they change.
COPY package.json pnpm-lock.yaml pnpm-workspace.yaml turbo.json tsconfig.base.json .npmrc ./
COPY apps/cli/package.json apps/cli/
COPY apps/planner/package.json apps/planner/
COPY apps/worker/package.json apps/worker/
COPY apps/dashboard/package.json apps/dashboard/
COPY packages/config/package.json packages/config/
COPY packages/core/package.json packages/core/
COPY packages/influx/package.json packages/influx/
COPY packages/logger/package.json packages/logger/
COPY packages/queue/package.json packages/queue/
COPY packages/runtime/package.json packages/runtime/
COPY packages/testkit/package.json packages/testkit/
COPY test/package.json test/
RUN pnpm install --frozen-lockfile
COPY . .
RUN pnpm build

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app /app
# Logs go to stdout/stderr; a file handler, if configured, writes under /app/logs.
RUN mkdir -p /app/logs && chown node:node /app/logs
USER node
ENTRYPOINT ["node", "apps/cli/dist/main.js"]
CMD ["worker", "--config", "config/docker.yaml"]
