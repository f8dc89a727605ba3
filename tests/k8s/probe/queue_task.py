"""Inside the image: what the scheduler and KubernetesExecutor do before a task pod starts. A run
of the probe DAG is created, its task queued (try 1), and the pod's workload made with Airflow's
own ExecuteTask.make and the executor's token generator; written as JSON (the pod's args) to
the file named by the third argument (Airflow logs to standard output)."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

from airflow.executors.base_executor import BaseExecutor
from airflow.executors.workloads import ExecuteTask
from airflow.models import DagModel, TaskInstance
from airflow.models.serialized_dag import SerializedDagModel
from airflow.utils.session import create_session
from airflow.utils.state import DagRunState, TaskInstanceState
from airflow.utils.types import DagRunTriggeredByType, DagRunType

dag_id, task_id, out = sys.argv[1], sys.argv[2], Path(sys.argv[3])
with create_session() as session:
    dag = SerializedDagModel.get_dag(dag_id, session=session)
    now = datetime.now(UTC)
    run = dag.create_dagrun(
        run_id="k8s_probe_run",
        logical_date=now,
        data_interval=(now, now),
        run_after=now,
        run_type=DagRunType.MANUAL,
        triggered_by=DagRunTriggeredByType.CLI,
        state=DagRunState.RUNNING,
        session=session,
    )
    ti = session.get(TaskInstance, run.get_task_instance(task_id, session=session).id)
    ti.state = TaskInstanceState.QUEUED
    ti.try_number = 1
    ti.dag_model = session.get(DagModel, dag_id)
    session.flush()
    workload = ExecuteTask.make(ti, generator=BaseExecutor(parallelism=1).jwt_generator)
    session.commit()
out.write_text(workload.model_dump_json())
