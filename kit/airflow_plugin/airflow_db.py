"""The task instance's current try and state, read from Airflow's database (api-server only)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kit.airflow_plugin.locate import TaskInstanceRef
from kit.airflow_plugin.tries import TryStatus

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


def try_status(session: Session, ref: TaskInstanceRef) -> TryStatus | None:
    """The task instance's try number and state; None if Airflow has no such task instance."""
    from airflow.models.taskinstance import TaskInstance as TI
    from sqlalchemy import select

    row = session.execute(
        select(TI.try_number, TI.state).where(
            TI.dag_id == ref.dag_id,
            TI.run_id == ref.run_id,
            TI.task_id == ref.task_id,
            TI.map_index == ref.map_index,
        )
    ).first()
    if row is None:
        return None
    state = row.state.value if hasattr(row.state, "value") else row.state
    return TryStatus(current_try=int(row.try_number or 0), state=state)
