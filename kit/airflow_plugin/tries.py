"""Which try the view shows and lists, and whether a try is over. Pure."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

# A try is over in these task instance states: it will not write its notebook again. Airflow keeps
# the try number when a task goes up for retry and counts it up when the next try is scheduled.
TRY_OVER_STATES = frozenset(
    {"success", "failed", "skipped", "upstream_failed", "removed", "up_for_retry"}
)


@dataclass(frozen=True)
class TryStatus:
    """What Airflow's database says about a task instance: its current try and state."""

    current_try: int
    state: str | None


def try_over(status: TryStatus | None, try_number: int) -> bool:
    """Whether try ``try_number`` has ended; unknown (no task instance found) counts as not."""
    if status is None:
        return False
    if try_number < status.current_try:
        return True
    return try_number == status.current_try and status.state in TRY_OVER_STATES


def shown_try(asked: int | None, status: TryStatus | None, on_disk: Iterable[int]) -> int | None:
    """The try to show: the one asked for, else the task instance's current one, else the
    newest with a notebook on disk; None when there is nothing to show."""
    if asked is not None:
        return asked
    if status is not None and status.current_try >= 1:
        return status.current_try
    return max(on_disk, default=None)


def listed_tries(
    status: TryStatus | None, on_disk: Iterable[int], shown: int | None = None
) -> list[int]:
    """Every try to offer: all Airflow has counted so far, any found on disk and the one shown,
    oldest first."""
    counted = range(1, status.current_try + 1) if status is not None else range(0)
    extra = () if shown is None else (shown,)
    return sorted({*counted, *on_disk, *extra})
