"""The lineage chain of a registered model version (pure): model version -> MLflow run -> task
try -> DAG run -> DAG version -> commit -> notebook -> parameters, each with a link.

Every read goes through ``Sources`` (injected: MLflow, Airflow's REST API, the bundle's git
repository in ``kit.lineage.sources``; fakes in tests). A link that cannot be followed is kept in
the chain with ``problem`` saying why ("unknown: ...") and the chain goes on where it can."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any


class Missing(LookupError):
    """A source has no answer for a link (not found, deleted, no access); the text says why."""


@dataclass(frozen=True)
class ModelRef:
    """``MODEL``, ``MODEL@ALIAS`` or ``MODEL/VERSION``."""

    name: str
    alias: str | None = None
    version: int | None = None

    def __str__(self) -> str:
        if self.alias:
            return f"{self.name}@{self.alias}"
        return f"{self.name}/{self.version}" if self.version is not None else self.name


_VERSION = re.compile(r"^(?P<name>.+)/(?P<version>[0-9]+)$")


def parse_ref(text: str) -> ModelRef:
    """``MODEL[@ALIAS|/VERSION]``; ValueError naming the form when it is none of them."""
    text = text.strip()
    if "@" in text:
        name, _, alias = text.rpartition("@")
        if name and alias:
            return ModelRef(name, alias=alias)
    elif match := _VERSION.match(text):
        return ModelRef(match["name"], version=int(match["version"]))
    elif text and not text.endswith("/"):
        return ModelRef(text)
    raise ValueError(
        f"model {text!r}: give MODEL, MODEL@ALIAS or MODEL/VERSION, "
        "e.g. breast_cancer_classifier@champion"
    )


@dataclass(frozen=True)
class Link:
    """One step of the chain: what it is, its identity, details, a URL; ``problem`` when it could
    not be followed ("unknown: why") or does not match what the run recorded."""

    kind: str
    label: str
    url: str | None = None
    facts: dict[str, str] = field(default_factory=dict)
    problem: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """The link for ``--json``."""
        return {
            "kind": self.kind,
            "label": self.label,
            "url": self.url,
            "facts": dict(self.facts),
            "problem": self.problem,
        }


@dataclass(frozen=True)
class Sources:
    """Where the chain reads each link; each raises ``Missing`` when it has no answer.

    - ``model_version(ref)`` -> {name, version, run_id, tags, aliases}
    - ``run(run_id)`` -> {run_id, experiment_id, status, name, tags}
    - ``task_try(dag_id, run_id, task_id, map_index, try_number)`` -> {state, hostname,
      dag_version: {id, version_number, bundle_name, bundle_version, bundle_url, created_at}|None}
    - ``dag_run(dag_id, run_id)`` -> {state, bundle_version, run_type, triggering_user_name}
    - ``commit(sha)`` -> {sha, author, date, subject}, or None when there is no local copy of
      the bundle's repository to ask
    - ``blob_sha256(sha, path)`` -> the sha256 of the file at ``path`` in commit ``sha``, or None
      when there is no local copy of the repository
    """

    model_version: Callable[[ModelRef], Mapping[str, Any]]
    run: Callable[[str], Mapping[str, Any]]
    task_try: Callable[[str, str, str, int, int], Mapping[str, Any]]
    dag_run: Callable[[str, str], Mapping[str, Any]]
    commit: Callable[[str], Mapping[str, Any] | None]
    blob_sha256: Callable[[str, str], str | None]
    mlflow_url: str
    airflow_url: str


@dataclass(frozen=True)
class Chain:
    """The links found, in order; complete when none has a problem. ``subject``: what the chain
    starts from (``MODEL@ALIAS``, ``MODEL/VERSION``, or ``run <id>``)."""

    subject: str
    links: tuple[Link, ...]

    @property
    def complete(self) -> bool:
        """True when every link was followed and matches."""
        return all(link.problem is None for link in self.links)

    def link(self, kind: str) -> Link | None:
        """The link of ``kind`` ("commit", "notebook", ...), if the chain has one."""
        return next((link for link in self.links if link.kind == kind), None)

    def as_dict(self) -> dict[str, Any]:
        """The chain for ``--json``."""
        return {
            "subject": self.subject,
            "complete": self.complete,
            "links": [link.as_dict() for link in self.links],
        }


KINDS = (
    "model version",
    "MLflow run",
    "task try",
    "DAG run",
    "DAG version",
    "commit",
    "notebook",
    "parameters",
)
# What a try's run must be tagged with to find its task try (kit.runtime.tracking).
TRY_TAGS = ("kit.dag_id", "kit.run_id", "kit.task_id", "kit.map_index", "kit.try_number")
NO_LINEAGE_TAGS = "made before the kit tagged lineage (issue 25), or not by a kit notebook task"


def unknown(kind: str, why: str) -> Link:
    """A link that could not be followed."""
    return Link(kind, "?", problem=f"unknown: {why}")


def model_url(mlflow_url: str, name: str, version: str) -> str:
    """The MLflow UI page of a registered model version."""
    return f"{mlflow_url.rstrip('/')}/#/models/{name}/versions/{version}"


def run_url(mlflow_url: str, experiment_id: str, run_id: str) -> str:
    """The MLflow UI page of a run."""
    return f"{mlflow_url.rstrip('/')}/#/experiments/{experiment_id}/runs/{run_id}"


def try_url(
    airflow_url: str, dag_id: str, run_id: str, task_id: str, map_index: int, try_number: int
) -> str:
    """The Airflow UI page of one try of a task instance."""
    mapped = f"/mapped/{map_index}" if map_index >= 0 else ""
    task = f"{airflow_url.rstrip('/')}/dags/{dag_id}/runs/{run_id}/tasks/{task_id}{mapped}"
    return f"{task}?try_number={try_number}"


def build(ref: ModelRef, sources: Sources) -> Chain:
    """Follow the chain from the model version ``ref`` names as far as it goes."""
    try:
        version = sources.model_version(ref)
    except Missing as exc:
        return Chain(str(ref), (unknown("model version", str(exc)),))
    first = _version_link(version, sources.mlflow_url)
    # The version's copy of the run's tags (made at registration) outlives the run; a version
    # registered before lineage tags has only its run's.
    copied = _kit_only(version.get("tags", {}))
    return Chain(str(ref), (first, *_from_run(str(version.get("run_id") or ""), copied, sources)))


def build_for_run(run_id: str, sources: Sources) -> Chain:
    """The chain of one notebook try's MLflow run (no model registered from it)."""
    return Chain(f"run {run_id}", tuple(_from_run(run_id, {}, sources)))


def _from_run(run_id: str, copied: Mapping[str, str], sources: Sources) -> list[Link]:
    """The MLflow run and everything after it; ``copied``: kit tags kept by a model version."""
    run, run_link = _run(run_id, sources)
    links = [run_link]
    tags = {**(run or {}).get("tags", {}), **copied}
    links.extend(_airflow_links(tags, sources))
    links.extend(_code_links(tags, links, run, sources))
    return links


def _kit_only(tags: Mapping[str, str]) -> dict[str, str]:
    return {key: value for key, value in tags.items() if key.startswith("kit.")}


def _version_link(version: Mapping[str, Any], mlflow_url: str) -> Link:
    name, number = str(version["name"]), str(version["version"])
    aliases = ", ".join(f"@{a}" for a in version.get("aliases", ()))
    facts = {"aliases": aliases} if aliases else {}
    by = {
        key.removeprefix("kit.registered_by."): value
        for key, value in version.get("tags", {}).items()
        if key.startswith("kit.registered_by.")
    }
    if by:
        facts["registered by"] = (
            f"{by.get('dag_id', '?')}/{by.get('run_id', '?')}/{by.get('task_id', '?')} "
            f"try {by.get('try_number', '?')}"
        )
    return Link("model version", f"{name} v{number}", model_url(mlflow_url, name, number), facts)


def _run(run_id: str, sources: Sources) -> tuple[Mapping[str, Any] | None, Link]:
    if not run_id:
        return None, unknown("MLflow run", "the model version names no source run")
    try:
        run = sources.run(str(run_id))
    except Missing as exc:
        return None, unknown("MLflow run", f"run {run_id}: {exc}")
    url = run_url(sources.mlflow_url, str(run["experiment_id"]), str(run_id))
    facts = {"status": str(run.get("status", ""))}
    return run, Link("MLflow run", f"{run.get('name') or run_id} ({run_id})", url, facts)


def _airflow_links(tags: Mapping[str, str], sources: Sources) -> list[Link]:
    """The task try, its DAG run and the DAG version the try ran."""
    absent = [tag for tag in TRY_TAGS if not tags.get(tag)]
    if absent:
        why = f"the run has no {', '.join(absent)} tag ({NO_LINEAGE_TAGS})"
        return [unknown(kind, why) for kind in ("task try", "DAG run", "DAG version")]
    dag_id, run_id, task_id = tags["kit.dag_id"], tags["kit.run_id"], tags["kit.task_id"]
    map_index, try_number = int(tags["kit.map_index"]), int(tags["kit.try_number"])
    label = task_id if map_index < 0 else f"{task_id}[{map_index}]"
    links: list[Link] = []
    dag_version: Mapping[str, Any] | None = None
    try:
        found = sources.task_try(dag_id, run_id, task_id, map_index, try_number)
    except Missing as exc:
        links.append(unknown("task try", f"{dag_id} {run_id} {label} try {try_number}: {exc}"))
    else:
        dag_version = found.get("dag_version")
        url = try_url(sources.airflow_url, dag_id, run_id, task_id, map_index, try_number)
        facts = {"state": str(found.get("state")), "host": str(found.get("hostname") or "")}
        links.append(Link("task try", f"{dag_id}.{label} try {try_number}", url, facts))
    try:
        dag_run = sources.dag_run(dag_id, run_id)
    except Missing as exc:
        links.append(unknown("DAG run", f"{dag_id} {run_id}: {exc}"))
    else:
        facts = {
            "state": str(dag_run.get("state")),
            "bundle": tags.get("kit.bundle.name", ""),
            "bundle version": str(dag_run.get("bundle_version") or ""),
            "run type": str(dag_run.get("run_type") or ""),
            "triggered by": str(dag_run.get("triggering_user_name") or ""),
        }
        url = f"{sources.airflow_url.rstrip('/')}/dags/{dag_id}/runs/{run_id}"
        links.append(Link("DAG run", f"{dag_id} {run_id}", url, facts))
    links.append(_dag_version_link(dag_id, dag_version, tags, links, sources.airflow_url))
    return links


def _dag_version_link(
    dag_id: str,
    dag_version: Mapping[str, Any] | None,
    tags: Mapping[str, str],
    links: list[Link],
    airflow_url: str,
) -> Link:
    if dag_version is None:
        why = "the task try was not found" if links[0].problem else "the try names no DAG version"
        return unknown("DAG version", why)
    number = dag_version.get("version_number")
    facts = {
        "id": str(dag_version.get("id", "")),
        "created": str(dag_version.get("created_at") or ""),
    }
    if dag_version.get("bundle_url"):
        facts["bundle url"] = str(dag_version["bundle_url"])
    problem = None
    tagged = tags.get("kit.dag_version_id", "")
    if tagged and tagged != facts["id"]:
        problem = (
            f"MISMATCH: the try's run was tagged DAG version {tagged}, Airflow says {facts['id']}"
        )
    url = f"{airflow_url.rstrip('/')}/dags/{dag_id}?version_number={number}"
    return Link("DAG version", f"{dag_id} v{number}", url, facts, problem)


def _commit_of(tags: Mapping[str, str], links: list[Link]) -> tuple[str, str | None]:
    """The commit the try ran: the DAG run's bundle_version (Airflow's record, authoritative),
    else the try's tag; and why there is none."""
    dag_run = next((link for link in links if link.kind == "DAG run"), None)
    recorded = dag_run.facts.get("bundle version", "") if dag_run and not dag_run.problem else ""
    tagged = tags.get("kit.bundle.version", "")
    if recorded or tagged:
        return recorded or tagged, None
    if "kit.bundle.version" not in tags:
        return "", f"the run has no kit.bundle.version tag ({NO_LINEAGE_TAGS})"
    bundle = tags.get("kit.bundle.name") or "?"
    return "", (
        f"the DAG run used bundle {bundle!r}, which is not versioned (no commit is recorded; "
        "the kit's git bundle records one per deploy)"
    )


def _code_links(
    tags: Mapping[str, str],
    links: list[Link],
    run: Mapping[str, Any] | None,
    sources: Sources,
) -> list[Link]:
    """The commit, the notebook (verified against the commit) and the parameters."""
    sha, why = _commit_of(tags, links)
    out: list[Link] = []
    commit: Mapping[str, Any] | None = None
    if why:
        out.append(unknown("commit", why))
    else:
        dag_version = next((link for link in links if link.kind == "DAG version"), None)
        url = (dag_version.facts.get("bundle url") if dag_version else None) or None
        problem = None
        tagged = tags.get("kit.bundle.version", "")
        if tagged and tagged != sha:
            problem = (
                f"MISMATCH: the DAG run records commit {sha}, the try's run was tagged {tagged}"
            )
        try:
            commit = sources.commit(sha)
        except Missing as exc:
            out.append(Link("commit", sha, url, problem=f"unknown: commit {sha}: {exc}"))
        else:
            facts = (
                {k: str(commit.get(k, "")) for k in ("author", "date", "subject")}
                if commit
                else {"repository": "no local copy of the bundle's repository: details not shown"}
            )
            out.append(Link("commit", sha, url, facts, problem))
    run_link = (
        run_url(sources.mlflow_url, str(run["experiment_id"]), str(run["run_id"]))
        if run and run.get("experiment_id") and run.get("run_id")
        else None
    )
    out.append(_notebook_link(tags, sha if not why else "", commit, run_link, sources))
    out.append(_parameters_link(tags, run_link))
    return out


def _notebook_link(
    tags: Mapping[str, str],
    sha: str,
    commit: Mapping[str, Any] | None,
    run_link: str | None,
    sources: Sources,
) -> Link:
    path, digest = tags.get("kit.notebook.path", ""), tags.get("kit.notebook.sha256", "")
    if not path or not digest:
        why = f"the run has no kit.notebook.path/sha256 tag ({NO_LINEAGE_TAGS})"
        return unknown("notebook", why)
    url = f"{run_link}/artifacts" if run_link else None
    facts = {"sha256": digest}
    if not sha:
        facts["verified"] = "no (no commit to check it against)"
        return Link("notebook", path, url, facts)
    try:
        actual = sources.blob_sha256(sha, path)
    except Missing as exc:
        return Link("notebook", path, url, facts, f"unknown: {path} in commit {sha[:12]}: {exc}")
    if actual is None:
        facts["verified"] = "no (no local copy of the bundle's repository)"
        return Link("notebook", path, url, facts)
    if actual != digest:
        problem = f"MISMATCH: {path} in commit {sha[:12]} has sha256 {actual}, the run ran {digest}"
        return Link("notebook", path, url, facts, problem)
    facts["verified"] = f"yes, same bytes as {path} in commit {sha[:12]}"
    return Link("notebook", path, url, facts)


def _parameters_link(tags: Mapping[str, str], run_link: str | None) -> Link:
    text = tags.get("kit.parameters")
    if text is None:
        return unknown("parameters", f"the run has no kit.parameters tag ({NO_LINEAGE_TAGS})")
    facts = {"json": text}
    if digest := tags.get("kit.parameters.sha256"):
        facts["sha256 of the whole text (truncated above)"] = digest
    try:
        count = len(json.loads(text))
    except ValueError:
        count = None
    label = f"{count} parameters" if count is not None else "parameters (truncated)"
    return Link("parameters", label, run_link, facts)
