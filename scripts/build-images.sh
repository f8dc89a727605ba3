#!/usr/bin/env bash
# Build, with podman, the images the Compose stack needs where no image registry is reachable:
# stand-ins for apache/airflow, postgres:15, redis:7.2 and mailpit made from Debian packages and PyPI
# (containers/), then the kit's own image (Dockerfile) on top of the Airflow stand-in.
#
#   scripts/build-images.sh            # prints the KIT_*_IMAGE variables that point Compose at them
#
# Builds use the host's network: the containers of the stack need none beyond their own network,
# and on hosts like CI's, podman's bridge (netavark) gives containers no way out.
#
# Cached: each image is tagged with a hash of what it is built from (the Debian sources, the
# container files, requirements.lock, the kit's sources), and an image that exists is not built
# again. A cold build takes ~6-8 min on 2 cores; a warm run, a second.
set -euo pipefail
cd "$(dirname "$0")/.."

CA_BUNDLE=${KIT_CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}
SUITE=bookworm
MIRROR=${KIT_DEBIAN_MIRROR:-http://deb.debian.org/debian}
SECURITY=${KIT_DEBIAN_SECURITY:-http://deb.debian.org/debian-security}

hash_of() { cat "$@" | sha256sum | cut -c1-12; }
exists() { podman image exists "$1"; }
log() { echo "build-images: $*" >&2; }

context=$(mktemp -d)
trap 'rm -rf "$context"' EXIT
cp containers/* "$context/"
cp requirements.lock "$context/"
cp "$CA_BUNDLE" "$context/ca-certificates.crt"

# 1. Debian's minimal root file system, from the same archive apt uses here.
debian_tag=$(echo "$SUITE $MIRROR $SECURITY" | sha256sum | cut -c1-12)
DEBIAN_IMAGE=localhost/kit-debian:$SUITE-$debian_tag
if ! exists "$DEBIAN_IMAGE"; then
  log "debian $SUITE root file system (mmdebstrap, ~1 min)"
  mmdebstrap --quiet --variant=minbase --include=ca-certificates "$SUITE" "$context/rootfs.tar" \
    "deb $MIRROR $SUITE main" "deb $MIRROR $SUITE-updates main" "deb $SECURITY $SUITE-security main"
  podman import --quiet --change 'CMD ["/bin/bash"]' "$context/rootfs.tar" "$DEBIAN_IMAGE" >/dev/null
  rm -f "$context/rootfs.tar"
fi

build() {  # build IMAGE CONTAINERFILE
  log "$1"
  podman build --quiet --network host --build-arg "DEBIAN_IMAGE=$DEBIAN_IMAGE" -f "$context/$2" -t "$1" "$context" >/dev/null
}

base_tag=$(hash_of containers/airflow-base.Containerfile containers/entrypoint.sh requirements.lock)
AIRFLOW_BASE=localhost/kit-airflow-base:3.3.2-$base_tag
exists "$AIRFLOW_BASE" || build "$AIRFLOW_BASE" airflow-base.Containerfile

pg_tag=$(hash_of containers/postgres.Containerfile containers/postgres-entrypoint.sh)
POSTGRES=localhost/kit-postgres:15-$pg_tag
exists "$POSTGRES" || build "$POSTGRES" postgres.Containerfile

redis_tag=$(hash_of containers/redis.Containerfile)
REDIS=localhost/kit-redis:7-$redis_tag
exists "$REDIS" || build "$REDIS" redis.Containerfile

mail_tag=$(hash_of containers/mailcatcher.Containerfile containers/mailcatcher.py)
MAILPIT=localhost/kit-mailcatcher:1-$mail_tag
exists "$MAILPIT" || build "$MAILPIT" mailcatcher.Containerfile

# An S3 server for the remote-logs profile (moto; the tests start it through an override file).
s3_tag=$(hash_of containers/s3.Containerfile containers/s3-serve.sh requirements.lock)
S3=localhost/kit-s3:moto-$s3_tag
exists "$S3" || build "$S3" s3.Containerfile

# 2. The kit's image, from its own Dockerfile, exactly as Compose builds it on the official base.
kit_tag=$(hash_of Dockerfile requirements.lock pyproject.toml <(find kit -name '*.py' -o -name '*.j2' -o -name '*.js' -o -name '*.css' | sort | xargs cat) <(echo "$AIRFLOW_BASE"))
KIT_IMAGE=localhost/airflow-notebook-kit:3.3.2-$kit_tag
if ! exists "$KIT_IMAGE"; then
  log "$KIT_IMAGE"
  podman build --quiet --network host --build-arg "AIRFLOW_BASE_IMAGE=$AIRFLOW_BASE" -t "$KIT_IMAGE" . >/dev/null
fi

cat <<EOF
KIT_AIRFLOW_BASE_IMAGE=$AIRFLOW_BASE
AIRFLOW_IMAGE_NAME=$KIT_IMAGE
KIT_POSTGRES_IMAGE=$POSTGRES
KIT_REDIS_IMAGE=$REDIS
KIT_MAILPIT_IMAGE=$MAILPIT
KIT_S3_IMAGE=$S3
EOF
