#!/usr/bin/env bash
# The Debian packages the test suite runs for real, installed only when missing (a no-op on a
# set-up machine): PostgreSQL (the production metadata database, for the PostgreSQL end-to-end
# run), Redis (Celery's broker in the production-shaped stack) and Chromium (driven headless by
# Playwright in the browser tests).
set -euo pipefail

missing=()
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || missing+=(postgresql)
[ -x /usr/bin/redis-server ] || missing+=(redis-server)
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ ${#missing[@]} -eq 0 ] && exit 0

echo "setup-system: installing ${missing[*]} from Debian's packages"
sudo=()
[ "$(id -u)" -eq 0 ] || sudo=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
