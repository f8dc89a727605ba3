"""Run Airflow's own `airflow kubernetes generate-dag-yaml` (providers-cncf-kubernetes) for one
DAG of a bundle, without a database: a subprocess of tests/k8s/test_task_pod.py.

    python tests/k8s/generate_pod.py DAG_ID BUNDLE_NAME OUTPUT_DIR

The environment carries the Airflow configuration (AIRFLOW_HOME, the bundle list, the pod
template file, the worker image). The command's function is called past its `action_cli`
wrapper, whose only work here would be the database migration check and action log; the pod
needs no database. Its `-B/--bundle-name` is an appended list that the command also uses as
the workload's bundle name, a string (Airflow 3.3.2, provider 10.25.0: a list fails pydantic's
check of BundleInfo.name), so the name is given as a string that iterates as a list of itself.
"""

from __future__ import annotations

import argparse
import sys


class OneBundle(str):
    """A bundle name that is also the one-element list of names the command iterates."""

    def __iter__(self):  # type: ignore[override]
        yield str(self)


def main(dag_id: str, bundle: str, output: str) -> None:
    from airflow.providers.cncf.kubernetes.cli.kubernetes_command import generate_pod_yaml
    from airflow.utils.timezone import parse

    args = argparse.Namespace(
        dag_id=dag_id,
        logical_date=parse("2026-01-01T00:00:00+00:00"),
        bundle_name=OneBundle(bundle),
        output_path=output,
        team=None,
        verbose=False,
    )
    generate_pod_yaml.__wrapped__(args)


if __name__ == "__main__":
    main(*sys.argv[1:4])
