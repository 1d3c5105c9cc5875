# syntax=docker/dockerfile:1
# Build stage: full install, Prisma client generation, TypeScript build.
FROM node:22-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY prisma ./prisma
COPY prisma.config.ts tsconfig.json tsconfig.build.json ./
RUN npm ci --no-audit --no-fund
COPY src ./src
RUN npm run build

# Runtime stage: production dependencies only, non-root. Kubernetes probes replace HEALTHCHECK.
FROM node:22-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json prisma.config.ts ./
COPY prisma ./prisma
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npx prisma generate && npm cache clean --force
COPY --from=build /app/dist ./dist
USER node
EXPOSE 3000
HEALTHCHECK NONE
# Migrations are a separate command (a Kubernetes Job / init container / compose service):
#   docker run … npm run db:migrate
CMD ["node", "--enable-source-maps", "dist/main.js"]
