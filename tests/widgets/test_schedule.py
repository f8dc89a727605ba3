"""The schedule builder and the next run times (pure)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from kit.widgets.schedule import (
    ScheduleChoice,
    choice_from_schedule,
    describe,
    format_runs,
    next_runs,
    schedule_from_choice,
)

NOW = datetime(2024, 5, 15, 12, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("choice", "schedule"),
    [
        (ScheduleChoice("none"), None),
        (ScheduleChoice("every_minutes", every=10), "*/10 * * * *"),
        (ScheduleChoice("hourly", minute=5), "5 * * * *"),
        (ScheduleChoice("daily", minute=30, hour=3), "30 3 * * *"),
        (ScheduleChoice("weekly", minute=0, hour=6, weekday=1), "0 6 * * 1"),
        (ScheduleChoice("monthly", minute=0, hour=2, day=15), "0 2 15 * *"),
        (ScheduleChoice("preset", preset="@weekly"), "@weekly"),
        (ScheduleChoice("interval", every=6), {"every": "PT6H"}),
        (ScheduleChoice("cron", cron="0 9-17 * * 1-5"), "0 9-17 * * 1-5"),
    ],
)
def test_builder_makes_the_schedule_and_reads_it_back(choice, schedule) -> None:
    assert schedule_from_choice(choice) == schedule
    back = choice_from_schedule(schedule)
    assert back.mode == choice.mode
    assert schedule_from_choice(back) == schedule


def test_next_five_runs_of_a_daily_cron() -> None:
    runs = next_runs("30 3 * * *", "2024-01-01", now=NOW)
    assert [r.isoformat() for r in runs] == [
        f"2024-05-{d}T03:30:00+00:00" for d in (16, 17, 18, 19, 20)
    ]


def test_runs_never_start_before_the_start_date_and_follow_the_time_zone() -> None:
    runs = next_runs("@daily", date(2024, 6, 1), "Europe/Paris", now=NOW)
    assert runs[0] == datetime(2024, 6, 1, tzinfo=ZoneInfo("Europe/Paris"))
    assert len(runs) == 5


def test_interval_once_and_no_schedule() -> None:
    runs = next_runs({"every": "PT6H"}, "2024-05-15", now=NOW)
    assert [r.hour for r in runs] == [18, 0, 6, 12, 18]
    assert next_runs("@once", "2024-06-01", now=NOW) == [datetime(2024, 6, 1, tzinfo=UTC)]
    assert next_runs("@once", "2024-01-01", now=NOW) == []
    assert next_runs(None, "2024-01-01", now=NOW) == []
    assert next_runs("not a cron", "2024-01-01", now=NOW) == []
    assert next_runs("@daily", None, now=NOW) == []


def test_texts_for_the_user() -> None:
    assert describe("0 3 * * *") == "every day at 03:00"
    assert describe("0 6 * * 1") == "every Monday at 06:00"
    assert "manual" in format_runs([], None) or "hand" in format_runs([], None)
    assert format_runs([], "0 3 * * *").startswith("No upcoming runs")
    assert format_runs([NOW], "@daily") == "Next runs: 2024-05-15 12:30 UTC"
