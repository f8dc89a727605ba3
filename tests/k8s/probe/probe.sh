#!/usr/bin/env bash
# Inside the project's image (tests/k8s/test_image_live.py): a notebook task run by the command a
# KubernetesExecutor pod runs, against an Airflow of its own in this container (SQLite, an
# api-server on loopback), with the task's bundle mounted at /bundle. Writes its findings to /out.
set -euo pipefail
export AIRFLOW_HOME=/tmp/airflow-home
mkdir -p "$AIRFLOW_HOME"
export AIRFLOW__DATABASE__SQL_ALCHEMY_CONN="sqlite:///$AIRFLOW_HOME/airflow.db"
export AIRFLOW__CORE__LOAD_EXAMPLES=False AIRFLOW__CORE__EXECUTOR=LocalExecutor
export AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST='[{"name": "kit", "classpath": "airflow.dag_processing.bundles.local.LocalDagBundle", "kwargs": {"path": "/bundle"}}]'
AIRFLOW__API_AUTH__JWT_SECRET=$(python -c 'import secrets; print(secrets.token_urlsafe(32))')
export AIRFLOW__API_AUTH__JWT_SECRET
export AIRFLOW__CORE__EXECUTION_API_SERVER_URL=http://127.0.0.1:8080/execution/
stamp() { echo "$(date +%s) $*" >>/out/steps.log; }

stamp start
# What the image holds: the packages (compared with the lock by the test) and the lock itself.
pip list --format=json --disable-pip-version-check >/out/packages.json 2>/dev/null
cp /opt/kit/requirements.lock /out/image-requirements.lock
stamp packages
airflow db migrate >/out/migrate.log 2>&1
stamp migrated
airflow dags reserialize --bundle-name kit >/out/reserialize.log 2>&1
stamp serialized
python /probe/queue_task.py "$1" "$2" /out/workload.json >/out/queue.log 2>&1
stamp queued
airflow api-server --host 127.0.0.1 --port 8080 >/out/api-server.log 2>&1 &
api=$!
for _ in $(seq 1 120); do
  python -c 'import urllib.request as u; u.urlopen("http://127.0.0.1:8080/api/v2/monitor/health", timeout=2)' 2>/dev/null && break
  sleep 1
done
stamp api-server
# The pod's args, through the image's entrypoint (as the pod runs them: no command, only args).
set +e
/usr/bin/dumb-init -- /entrypoint python -m airflow.sdk.execution_time.execute_workload \
  --json-string "$(cat /out/workload.json)" >/out/task.log 2>&1
echo $? >/out/task.rc
set -e
stamp task
python - "$1" "$2" >/out/state.txt <<'PY'
import sys
from airflow.models import TaskInstance
from airflow.utils.session import create_session
with create_session() as session:
    ti = session.query(TaskInstance).filter_by(dag_id=sys.argv[1], task_id=sys.argv[2]).one()
    print(ti.state, ti.try_number)
PY
kill "$api"; wait "$api" 2>/dev/null || true
stamp done
