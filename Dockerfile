# syntax=docker/dockerfile:1
# The warren server as a container: built from this checkout into the same pack that
# `npm install -g` takes (npm run pack), installed into a slim image that runs as a
# non-root user. Build: docker build -t warren-server .   Run: see compose.yaml.

ARG NODE_IMAGE=node:24-bookworm-slim

FROM ${NODE_IMAGE} AS build
# better-sqlite3 compiles from source when no prebuilt binary can be downloaded.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN npm ci --no-audit --no-fund \
 && npm run pack \
 && npm install -g --prefix /opt/warren --no-audit --no-fund \
      --allow-scripts=better-sqlite3,bufferutil dist/packs/warren-server-*.tgz \
 && npm cache clean --force

FROM ${NODE_IMAGE}
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8080 \
    DATA_DIR=/var/lib/warren
# A fixed uid, so volume ownership survives image rebuilds.
RUN groupadd --system --gid 10001 warren \
 && useradd --system --uid 10001 --gid warren --home-dir /var/lib/warren --shell /usr/sbin/nologin warren \
 && install -d -o warren -g warren -m 700 /var/lib/warren
COPY --from=build /opt/warren /opt/warren
USER warren
WORKDIR /var/lib/warren
VOLUME ["/var/lib/warren"]
EXPOSE 8080
# /ready answers 200 only while the database (and Redis, when set) answers. node's own
# fetch: the slim image has no curl.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch(`http://127.0.0.1:${process.env.PORT}/ready`).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# SIGTERM starts the graceful stop (SHUTDOWN_TIMEOUT, 10 s by default); docker waits 10 s.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/opt/warren/bin/warren-server"]
