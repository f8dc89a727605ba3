#!/usr/bin/env bash
# Rehearse the README's promise on a fresh Debian: `make demo` reaches a champion (a) as a normal
# user with Debian's python3 and no uv, (b) as root with the project in /root (a 0700 folder).
#
#   sudo scripts/rehearse-fresh-debian.sh            # both scenarios; prints PASS/FAIL and times
#   sudo scripts/rehearse-fresh-debian.sh user       # only (a);  `root` for only (b)
#   sudo scripts/rehearse-fresh-debian.sh image      # only build the image
#
# Each scenario runs in its own new container made from a Debian bookworm root filesystem built here
# with mmdebstrap (minbase + python3, git, make, curl, ca-certificates: no python3-venv, no pip, no
# uv), and clones the project's committed HEAD from a git bundle. The container has its own network
# namespace (slirp4netns: outgoing traffic, and no clash with ports in use on this machine) and
# podman's default capabilities, as `docker run`/`podman run` give a root user. The host's CA bundle
# is mounted in: where outgoing HTTPS is inspected by a proxy with its own CA, nothing else works.
# Needs root and the container engine (scripts/container-engine.sh install). Logs go to $WORK.
set -euo pipefail
# All in one function: bash has read it whole before it runs, so editing this file during a
# rehearsal (20-40 min) does not change the one under way.
main() {
cd "$(dirname "$0")/.."
WORK=${KIT_REHEARSAL_DIR:-/var/tmp/kit-rehearsal}
IMAGE=localhost/kit-fresh-debian:bookworm
SCENARIOS=("$@")
[ ${#SCENARIOS[@]} -gt 0 ] || SCENARIOS=(user root)
CA=/etc/ssl/certs/ca-certificates.crt

[ "$(id -u)" = 0 ] || { echo "rehearse: run as root (it builds a root filesystem and runs podman)" >&2; exit 2; }
scripts/container-engine.sh install
mkdir -p "$WORK"

# -- the image: built once per day (the Debian archive moves on) ----------------------------------
tar="$WORK/rootfs-$(date +%Y%m%d).tar"
if ! podman image exists "$IMAGE" || [ ! -f "$tar" ]; then
  start=$(date +%s)
  echo "rehearse: building a fresh Debian bookworm root filesystem (mmdebstrap)"
  mmdebstrap --quiet --variant=minbase --include=ca-certificates,python3,git,make,curl bookworm "$tar" \
    "deb http://deb.debian.org/debian bookworm main" \
    "deb http://deb.debian.org/debian bookworm-updates main" \
    "deb http://deb.debian.org/debian-security bookworm-security main"
  podman rmi -f "$IMAGE" >/dev/null 2>&1 || true
  podman import --quiet --change 'CMD ["/bin/bash"]' "$tar" "$IMAGE" >/dev/null
  echo "rehearse: image $IMAGE built in $(($(date +%s) - start)) s"
fi

[ "${SCENARIOS[*]}" = image ] && exit 0

# -- the project, as committed -------------------------------------------------------------------
git bundle create "$WORK/project.bundle" HEAD >/dev/null 2>&1
echo "rehearse: project at $(git rev-parse --short HEAD) ($(git log -1 --format=%s | cut -c1-70))"

run_in_fresh_container() {  # NAME SCRIPT [podman options]: run SCRIPT (bash) as root in a new container
  podman run --rm --name "kit-rehearsal-$1" --network=slirp4netns "${@:3}" \
    -v "$WORK/project.bundle:/src/project.bundle:ro" -v "$CA:$CA:ro" \
    -e SSL_CERT_FILE="$CA" -e PYTHONDONTWRITEBYTECODE=1 \
    "$IMAGE" bash -euo pipefail -c "$2"
}

# Set-up (scripts/bootstrap.sh, through make) and the demo, each timed.
TIMED_DEMO='cat >/usr/local/bin/timed-demo <<"EOS"
#!/bin/bash
set -euo pipefail
s=$(date +%s); make .venv/.installed; echo "TIME set-up $(($(date +%s) - s)) s"
s=$(date +%s); make demo; echo "TIME demo $(($(date +%s) - s)) s"
EOS
chmod 755 /usr/local/bin/timed-demo'
# (a) a normal user, Debian's python3, no uv on the PATH, the project in the user's home.
USER_SCRIPT=$TIMED_DEMO'
useradd --create-home --shell /bin/bash dev
su dev -c "set -e; command -v uv && exit 3; cd ~ && git -c advice.detachedHead=false clone -q /src/project.bundle project \
  && cd project && /usr/local/bin/timed-demo"'
# (b) root, the project in /root (mode 0700). PostgreSQL runs as a system user the kit makes, who
# reaches its data in /root/project/.kit with CAP_DAC_READ_SEARCH: the container gets it
# (--cap-add), as docs/stacks.md tells. Then, with that capability dropped from the bounding set (a
# container's default set), `kit up` must stop before starting anything, naming the folder and the fix.
ROOT_SCRIPT=$TIMED_DEMO'
test "$(stat -c %a /root)" = 700
cd /root && git -c advice.detachedHead=false clone -q /src/project.bundle project && cd project && /usr/local/bin/timed-demo
.venv/bin/kit down
if setpriv --bounding-set=-dac_read_search --inh-caps=-dac_read_search -- .venv/bin/kit up \
    >/tmp/no-cap.log 2>&1; then echo "NO-CAP: kit up started without the capability"; exit 4; fi
grep -q "cap-add=DAC_READ_SEARCH" /tmp/no-cap.log && grep -q "folder /root does not" /tmp/no-cap.log
if grep -qx postgres /proc/[0-9]*/comm; then echo "NO-CAP: a postgres is running"; exit 5; fi
echo "NO-CAP: kit up stopped before starting anything: $(grep -m1 -o "PostgreSQL runs as.*" /tmp/no-cap.log | cut -c1-160)"'
ROOT_OPTIONS=(--cap-add=DAC_READ_SEARCH)
status=0
for scenario in "${SCENARIOS[@]}"; do
  case "$scenario" in
    user) script=$USER_SCRIPT options=() ;;
    root) script=$ROOT_SCRIPT options=("${ROOT_OPTIONS[@]}") ;;
    *) echo "rehearse: unknown scenario '$scenario' (user or root)" >&2; exit 2 ;;
  esac
  log="$WORK/$scenario.log"
  echo "rehearse: $scenario: started (load: $(cut -d' ' -f1-3 /proc/loadavg))"
  start=$(date +%s)
  if run_in_fresh_container "$scenario" "$script" "${options[@]}" >"$log" 2>&1 \
    && grep -q "Champion:" "$log"; then
    result=PASS
  else
    result=FAIL
    status=1
  fi
  echo "rehearse: $scenario: $result in $(($(date +%s) - start)) s (log: $log; load: $(cut -d' ' -f1-3 /proc/loadavg))"
  grep -E "^(TIME|embedded stack healthy|Run state|Champion|Smoke test|NO-CAP)" "$log" | sed 's/^/    /' || tail -n 15 "$log" | sed 's/^/    /'
done
exit $status
}
main "$@"
