#!/usr/bin/env bash
# A container engine for the Compose stack where there is no Docker: Debian's podman, driven by
# Debian's docker-compose through podman's Docker-compatible socket. Used by the Compose tests
# (tests/compose/) and by anyone who has podman rather than Docker (docs/compose.md, "With podman").
#
#   scripts/container-engine.sh install   # as root: podman, runc, docker-compose, mmdebstrap + config
#   scripts/container-engine.sh start DIR # podman's API socket at DIR/podman.sock; prints DOCKER_HOST
#   scripts/container-engine.sh stop DIR  # (both need the venv: scripts/bootstrap.sh)
#
# Two limits of hosts like CI's (checked with podman 4.3): crun cannot set the default rlimits and
# does not support hybrid cgroups, so containers get lower default ulimits and run with runc and
# cgroupfs. Without systemd, podman runs no health checks by itself: `start` also runs a loop that
# asks for them, every 2 s while a container starts and then at its check's interval (what systemd's
# timers do elsewhere; kit/stack/podman.py).
set -euo pipefail

CONF=/etc/containers/containers.conf
# netavark + aardvark-dns: containers find each other by service name (only recommended by podman).
# iptables: Debian's netavark 1.4 runs `iptables`/`ip6tables` to set up every bridge network; podman
# only suggests it, so --no-install-recommends left it out and `compose up` failed on fresh machines.
PACKAGES=(podman runc conmon netavark aardvark-dns iptables docker-compose mmdebstrap uidmap slirp4netns fuse-overlayfs)

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

# start/stop: kit.stack.podman owns the socket (the kit starts it itself for `kit up --stack compose`);
# it checks that every program the engine runs is there first, naming the package of each missing one.
podman_service() {
  root=$(cd "$(dirname "$0")/.." && pwd)
  "${PYTHON:-$root/.venv/bin/python}" -m kit.stack.podman "$1" "${2:?usage: $0 $1 DIR}"
}

case "${1:-}" in
  install) install_engine ;;
  start | stop) podman_service "$1" "${2:-}" ;;
  *) echo "usage: $0 install | start DIR | stop DIR" >&2; exit 2 ;;
esac
