"""A bundle holding one notebook task as the kit exports it, and the pod KubernetesExecutor
would start for it (shared by the offline pod test and the podman run)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from kit.codegen.render import render
from kit.k8s.pod_template import worker_pod_template
from kit.spec import spec_from_mapping

REPO = Path(__file__).resolve().parents[2]
GENERATOR = Path(__file__).with_name("generate_pod.py")
DAG_ID = "k8s_probe"
NOTEBOOK = "notebooks/examples/square.ipynb"
PROBE_SPEC = {
    "dag_id": DAG_ID,
    "description": "One notebook task, as a pod would run it.",
    "schedule": None,
    "start_date": "2024-01-01",
    "tasks": [
        {
            "id": "square",
            "kind": "notebook",
            "settings": {"notebook": NOTEBOOK, "parameters": {"x": 7, "label": "k8s"}},
        }
    ],
}


def make_bundle(root: Path) -> Path:
    """The bundle's root as the shared contract lays it out: dags/, pipelines/, the notebook at
    its project path and an .airflowignore."""
    (root / "dags").mkdir(parents=True)
    (root / "pipelines").mkdir()
    (root / "pipelines" / f"{DAG_ID}.yaml").write_text(yaml.safe_dump(PROBE_SPEC))
    (root / "dags" / f"{DAG_ID}.py").write_text(render(spec_from_mapping(PROBE_SPEC)))
    (root / NOTEBOOK).parent.mkdir(parents=True)
    shutil.copyfile(REPO / NOTEBOOK, root / NOTEBOOK)
    (root / ".airflowignore").write_text("notebooks/\npipelines/\n")
    return root


def generate_pod(values: dict, bundle: Path, work: Path) -> tuple[dict, float]:
    """The task pod from `airflow kubernetes generate-dag-yaml` (a subprocess), and its seconds."""
    import time

    template = work / "pod_template.yaml"
    template.write_text(yaml.safe_dump(worker_pod_template(values)))
    image = values["images"]["airflow"]
    local_bundle = {
        "name": "kit",
        "classpath": "airflow.dag_processing.bundles.local.LocalDagBundle",
        "kwargs": {"path": str(bundle)},
    }
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(work / "home"),
        "AIRFLOW__CORE__EXECUTOR": "KubernetesExecutor",
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        # Never opened: the command's function runs past its database check.
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{work / 'unused.db'}",
        "AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST": json.dumps([local_bundle]),
        "AIRFLOW__KUBERNETES_EXECUTOR__POD_TEMPLATE_FILE": str(template),
        # What the chart's own config sets from images.airflow.
        "AIRFLOW__KUBERNETES_EXECUTOR__WORKER_CONTAINER_REPOSITORY": image["repository"],
        "AIRFLOW__KUBERNETES_EXECUTOR__WORKER_CONTAINER_TAG": image["tag"],
        "AIRFLOW__KUBERNETES_EXECUTOR__NAMESPACE": "airflow",
        "PYTHONPATH": str(REPO),
    }
    (work / "home").mkdir(exist_ok=True)
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, str(GENERATOR), DAG_ID, "kit", str(work)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    seconds = time.monotonic() - started
    assert done.returncode == 0, done.stderr[-3000:]
    (pod_file,) = (work / "airflow_yaml_output").glob(f"{DAG_ID}_square_*.yml")
    return yaml.safe_load(pod_file.read_text()), seconds


PROBE = Path(__file__).with_name("probe")


def run_in_image(image: str, work: Path) -> dict:
    """The probe DAG's notebook task run in ``image`` by a pod's command (tests/k8s/probe/): under
    podman, no network, as the image's user; what it wrote to ``work/out``, and its seconds."""
    import time

    bundle = make_bundle(work / "bundle")
    out = work / "out"
    out.mkdir()
    for path in (work, *work.rglob("*")):  # the image's user (uid 50000) writes artifacts/ and out/
        path.chmod(0o777 if path.is_dir() else 0o666)
    name = f"kit-k8s-probe-{os.getpid()}"
    started = time.monotonic()
    done = subprocess.run(
        ["podman", "run", "--rm", "--network", "none", "--name", name,
         "-v", f"{bundle}:/bundle", "-v", f"{out}:/out", "-v", f"{PROBE}:/probe:ro",
         image, "bash", "/probe/probe.sh", DAG_ID, "square"],
        capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    return {
        "returncode": done.returncode,
        "stderr": done.stderr[-3000:],
        "seconds": time.monotonic() - started,
        "out": out,
        "bundle": bundle,
    }
