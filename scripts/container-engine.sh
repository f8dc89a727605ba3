#!/usr/bin/env bash
# A container engine for the Compose stack where there is no Docker: Debian's podman, driven by
# Debian's docker-compose through podman's Docker-compatible socket. Used by the Compose tests
# (tests/compose/) and by anyone who has podman rather than Docker (docs/compose.md, "With podman").
#
#   scripts/container-engine.sh install   # as root: podman, runc, docker-compose, mmdebstrap + config
#   scripts/container-engine.sh start DIR # podman's API socket at DIR/podman.sock; prints DOCKER_HOST
#   scripts/container-engine.sh stop DIR
#
# Two limits of hosts like CI's (checked with podman 4.3): crun cannot set the default rlimits and
# does not support hybrid cgroups, so containers get lower default ulimits and run with runc and
# cgroupfs. Without systemd, podman runs no health checks by itself: `start` also runs a loop that
# asks for them every 2 s (what systemd's timers do elsewhere).
set -euo pipefail

CONF=/etc/containers/containers.conf
# netavark + aardvark-dns: containers find each other by service name (only recommended by podman).
PACKAGES=(podman runc netavark aardvark-dns docker-compose mmdebstrap uidmap slirp4netns fuse-overlayfs)

install_engine() {
  missing=()
  for pkg in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" != 0 ]; then
      echo "container engine: missing ${missing[*]}; install them as root (sudo $0 install)" >&2
      exit 1
    fi
    echo "container engine: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
  if [ "$(id -u)" = 0 ] && ! grep -q "kit: container engine v2" "$CONF" 2>/dev/null; then
    mkdir -p "$(dirname "$CONF")"
    [ -e "$CONF" ] && cp "$CONF" "$CONF.before-kit"
    cat >"$CONF" <<'EOF'
# kit: container engine v2 settings for hosts without systemd and with hybrid cgroups
# (scripts/container-engine.sh). crun fails there; higher ulimits than these are refused.
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"

[network]
network_backend = "netavark"
EOF
  fi
}

start_service() {
  dir=${1:?usage: $0 start DIR}
  mkdir -p "$dir"
  sock="$dir/podman.sock"
  if [ -S "$sock" ] && curl -fsS --unix-socket "$sock" http://d/_ping >/dev/null 2>&1; then
    echo "DOCKER_HOST=unix://$sock"
    return
  fi
  rm -f "$sock"
  setsid podman system service --time=0 "unix://$sock" >"$dir/podman-service.log" 2>&1 &
  echo $! >"$dir/podman-service.pid"
  for _ in $(seq 100); do
    curl -fsS --unix-socket "$sock" http://d/_ping >/dev/null 2>&1 && break
    sleep 0.1
  done
  curl -fsS --unix-socket "$sock" http://d/_ping >/dev/null
  # Health checks, as systemd would schedule them.
  setsid bash -c 'while true; do
      for c in $(podman ps -q --filter health=starting --filter health=healthy --filter health=unhealthy 2>/dev/null); do
        podman healthcheck run "$c" >/dev/null 2>&1 || true
      done
      sleep 2
    done' >/dev/null 2>&1 &
  echo $! >"$dir/podman-healthchecks.pid"
  echo "DOCKER_HOST=unix://$sock"
}

stop_service() {
  dir=${1:?usage: $0 stop DIR}
  for name in podman-healthchecks podman-service; do
    if [ -f "$dir/$name.pid" ]; then
      kill -- "-$(cat "$dir/$name.pid")" 2>/dev/null || kill "$(cat "$dir/$name.pid")" 2>/dev/null || true
      rm -f "$dir/$name.pid"
    fi
  done
  rm -f "$dir/podman.sock"
}

case "${1:-}" in
  install) install_engine ;;
  start) start_service "${2:-}" ;;
  stop) stop_service "${2:-}" ;;
  *) echo "usage: $0 install | start DIR | stop DIR" >&2; exit 2 ;;
esac
