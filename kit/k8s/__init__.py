"""Values for the official Apache Airflow Helm chart, made from the kit's own files (pure).

``kit k8s values`` (kit/cli/k8s_commands.py) reads ``config/airflow.cfg`` and the options, and this
package turns them into the chart's values.yaml, the MLflow manifest and the ``kubectl create
secret`` recipe: no I/O here, so every rule is tested without a cluster (docs/scale-out.md).
"""
