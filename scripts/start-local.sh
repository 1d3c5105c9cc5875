#!/usr/bin/env bash
# Installs nothing by itself: run after `npm ci`. Creates .env from .env.example if missing, makes
# sure the local PostgreSQL runs and the database exists, migrates it, builds and starts the service.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f .env ] || cp .env.example .env
set -a; . ./.env; set +a
bash scripts/ensure-postgres.sh
db=$(node -e 'console.log(new URL(process.env.DATABASE_URL).pathname.slice(1))')
admin=$(node -e 'const u=new URL(process.env.DATABASE_URL); u.pathname="/postgres"; console.log(u.toString())')
psql "$admin" -tAc "SELECT 1 FROM pg_database WHERE datname='$db'" | grep -q 1 || psql "$admin" -c "CREATE DATABASE \"$db\"" >/dev/null
npm run --silent db:migrate
npm run --silent build
exec node dist/main.bundle.mjs
