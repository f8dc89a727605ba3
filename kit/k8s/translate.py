"""One airflow.cfg setting carried into the chart's ``config``: as it is, or translated with a note.

A laptop's settings can name things that mean something else inside a pod: a loopback host is
the pod itself, and a path of this machine does not exist in the image. Those are translated to
what the chart's pods have, and the note (a comment in values.yaml) keeps the original value:
nothing is dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePosixPath

# The chart's airflowHome: where the image's and the chart's paths live.
AIRFLOW_HOME = PurePosixPath("/opt/airflow")
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1", "[::1]")
PLACEHOLDER_HOST = "CHANGE-ME.svc.cluster.local"

# A loopback host as a whole value, or inside a URL (scheme://[user@]host[:port]...).
_LOOPBACK = re.compile(
    r"(?P<pre>^|://(?:[^@/]*@)?)(?P<host>127\.0\.0\.1|localhost|\[::1\]|::1)(?P<post>(?::\d+)?(?:/|$))"
)


@dataclass(frozen=True)
class Carried:
    """A setting as it goes into ``config.<section>.<key>``; ``note`` says why it differs or what
    to know about it in a cluster (None: carried as it is, nothing to say)."""

    value: str
    note: str | None = None

    @property
    def translated(self) -> bool:
        """Whether the value differs from airflow.cfg's (its note then names the original)."""
        return self.note is not None and self.note.startswith("translated")


def _loopback(value: str) -> str | None:
    """``value`` with its loopback host replaced, or None when it names none."""
    replaced, count = _LOOPBACK.subn(
        lambda m: f"{m.group('pre')}{PLACEHOLDER_HOST}{m.group('post')}", value
    )
    return replaced if count else None


def _is_local_path(value: str) -> bool:
    return value.startswith("/") and "\n" not in value and " " not in value


def carry(section: str, key: str, value: str) -> Carried:
    """How ``[section] key = value`` goes into the chart's config."""
    carried = _for_a_pod(value)
    if "{{" in carried.value:
        # The chart renders every config value with Helm's `tpl`: an Airflow template such as
        # log_filename_template's {{ ti.dag_id }} would be taken for Helm's. Escaped as the chart's
        # values.yaml advises, it renders back to airflow.cfg's text.
        escaped = carried.value.replace("{{", '{{ "{{" }}')
        why = "escaped for the chart's tpl rendering (it renders back to the original)"
        note = f"{carried.note}; {why}" if carried.note else f"translated: {value!r} {why}"
        return Carried(escaped, note)
    return carried


def _for_a_pod(value: str) -> Carried:
    if (replaced := _loopback(value)) is not None:
        return Carried(
            replaced,
            f"translated: airflow.cfg has {value!r}; a loopback host inside a pod is the pod "
            f"itself. Set the Kubernetes Service that serves it in place of {PLACEHOLDER_HOST}.",
        )
    if _is_local_path(value):
        path = PurePosixPath(value)
        if path == AIRFLOW_HOME or AIRFLOW_HOME in path.parents:
            return Carried(value, f"container path inside the chart's airflowHome ({AIRFLOW_HOME})")
        moved = str(AIRFLOW_HOME / path.name)
        return Carried(
            moved,
            f"translated: airflow.cfg has the local path {value!r}, which no pod has; the "
            f"chart's pods keep their files under airflowHome ({AIRFLOW_HOME}).",
        )
    return Carried(value)
