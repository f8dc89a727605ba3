"""What an import refuses: one record per thing that would not carry over, and the error."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Refusal:
    """One thing that would not carry over into a spec: which task (None: the DAG itself),
    which operator class, where it is written (``file:line``) and why."""

    task_id: str | None
    operator: str
    where: str
    reason: str

    def __str__(self) -> str:
        what = f"task {self.task_id!r} ({self.operator})" if self.task_id else self.operator
        return f"{self.where}: {what}: {self.reason}"


class ImportRefused(Exception):
    """The DAG cannot be imported; ``refusals`` lists every reason at once."""

    def __init__(self, dag_id: str, refusals: list[Refusal]) -> None:
        self.dag_id = dag_id
        self.refusals = refusals
        lines = "\n".join(f"  {r}" for r in refusals)
        super().__init__(
            f"DAG {dag_id!r} cannot be imported ({len(refusals)} problem(s)):\n{lines}"
        )


class Refuse(Exception):
    """Raised by a converter: this task cannot be converted, for ``reasons``."""

    def __init__(self, *reasons: str) -> None:
        self.reasons = list(reasons)
        super().__init__("; ".join(reasons))
