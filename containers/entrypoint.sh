#!/usr/bin/env bash
# What apache/airflow's /entrypoint does for the Compose stack: wait until the metadata database
# answers, then run the command — `bash`/`python`/a path as given, anything else as `airflow ...`.
set -euo pipefail

wait_for_database() {
  local tries="${CONNECTION_CHECK_MAX_COUNT:-20}" pause="${CONNECTION_CHECK_SLEEP_TIME:-3}"
  [ "$tries" -gt 0 ] && [ -n "${AIRFLOW__DATABASE__SQL_ALCHEMY_CONN:-}" ] || return 0
  for ((i = 1; i <= tries; i++)); do
    airflow db check >/dev/null 2>&1 && return 0
    echo "waiting for the metadata database ($i/$tries)" >&2
    sleep "$pause"
  done
  echo "the metadata database did not answer: airflow db check" >&2
  airflow db check
}

case "${1:-}" in
  bash | sh | /*) exec "$@" ;;
esac
wait_for_database
case "${1:-}" in
  python | airflow) exec "$@" ;;
  *) exec airflow "$@" ;;
esac
