# The gateway's container image: docs/deployment.md.
#
#   docker build -t aileron-ts:0.1.0 .
#   docker run --rm -p 8080:8080 aileron-ts:0.1.0                        # the quickstart config baked in
#   docker run --rm -p 8080:8080 -v "$PWD/config:/etc/aileron:ro" aileron-ts:0.1.0   # your own
#
# Build stage: `npm pack` makes the package users install (its "prepare" script builds dist/ with this Node;
# no development dependency is needed for that), then scripts/install-packed.js installs it into /opt/aileron
# with production dependencies only, at the versions package-lock.json locks.
FROM node:24-slim AS build
WORKDIR /src
COPY package.json package-lock.json README.md ./
COPY bin/ bin/
COPY scripts/ scripts/
COPY src/ src/
COPY docs/ docs/
COPY examples/ examples/
RUN npm pack --pack-destination /tmp \
 && node scripts/install-packed.js /tmp/aileron-ts-*.tgz /opt/aileron

# Runtime stage: Node 24 and the installed package; no npm cache, no sources, no compiler.
FROM node:24-slim
ENV NODE_ENV=production
COPY --from=build /opt/aileron /opt/aileron
# The configuration directory (-f /etc/aileron/). Mount yours over it (a Kubernetes ConfigMap, a volume); the
# default is the quickstart: the gateway on :8080 and an echo upstream inside the same process.
COPY examples/quickstart/config.yaml /etc/aileron/gateway.yaml
WORKDIR /opt/aileron
# The node image's unprivileged user, by number so that Kubernetes' runAsNonRoot can verify it. The gateway
# writes nothing to its image: it runs with a read-only root file system.
USER 1000:1000
EXPOSE 8080
# SIGTERM drains (each HTTPServer's shutdownTimeout); SIGHUP reloads the configuration; a second SIGTERM exits.
STOPSIGNAL SIGTERM
# For Docker and Compose; Kubernetes uses the Deployment's probes instead. No curl in the slim image: Node asks.
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:8080/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# bin/aileron.js starts Node (PID 1, which handles SIGTERM and SIGHUP itself) with its memory options.
ENTRYPOINT ["/opt/aileron/node_modules/.bin/aileron"]
CMD ["-f", "/etc/aileron/"]
