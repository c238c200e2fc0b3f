#!/bin/sh
# Prepares a fresh machine for `npm start` and `npm test`: dependencies from the
# lockfile (which also brings the pinned Node LTS), the compiled gateway, and
# Redis from Debian's packages when no REDIS_URL is given and redis-server is missing.
set -eu
cd "$(dirname "$0")/.."

if [ ! -x node_modules/.bin/node ] || [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: installing dependencies from package-lock.json"
  npm ci --no-audit --no-fund
fi

# npm start and the bench run the gateway compiled (Node's type stripping costs
# each process about 25 MB); a build is made whenever the sources have none yet
# (a few seconds), also for the tests, whose npm start then runs what a deployment's would.
node_modules/.bin/node scripts/build-gateway.ts

# The suite always starts Redis servers of its own (a cluster, a Redis it stops
# on purpose), so tests need redis-server and redis-cli even with REDIS_URL.
if { [ -z "${REDIS_URL:-}" ] || [ "${1:-}" = "--for-tests" ]; } && ! { command -v redis-server >/dev/null 2>&1 && command -v redis-cli >/dev/null 2>&1; }; then
  echo "setup: installing redis-server from Debian's packages"
  if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq redis-server redis-tools >/dev/null
fi

# The dashboard's end-to-end tests drive Debian's Chromium with playwright-core
# (which never downloads a browser of its own).
# (and a Chinese font, so that the zh-CN pages render in screenshots).
if [ "${1:-}" = "--for-tests" ] && ! { command -v chromium >/dev/null 2>&1 && [ -e /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ]; }; then
  echo "setup: installing chromium and a Chinese font from Debian's packages"
  if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium fonts-wqy-microhei >/dev/null
fi
