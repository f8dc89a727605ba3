"""The schedule builder (common cases -> a cron or preset) and the next run times (pure).

Airflow 3 runs a cron schedule at the cron times themselves (``CronTriggerTimetable``), from the
start date on, so the next runs are simply the next cron times not before ``start_date``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter

Mode = Literal[
    "none", "every_minutes", "hourly", "daily", "weekly", "monthly", "preset", "interval", "cron"
]

MODES: dict[str, str] = {
    "none": "No schedule (manual runs)",
    "every_minutes": "Every N minutes",
    "hourly": "Hourly",
    "daily": "Daily",
    "weekly": "Weekly",
    "monthly": "Monthly",
    "interval": "Every fixed interval (hours)",
    "preset": "Airflow preset",
    "cron": "Custom cron",
}
PRESETS = ("@once", "@continuous", "@hourly", "@daily", "@weekly", "@monthly", "@yearly")
PRESET_CRON = {
    "@hourly": "0 * * * *",
    "@daily": "0 0 * * *",
    "@weekly": "0 0 * * 0",
    "@monthly": "0 0 1 * *",
    "@quarterly": "0 0 1 */3 *",
    "@yearly": "0 0 1 1 *",
}
WEEKDAYS = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")


@dataclass(frozen=True)
class ScheduleChoice:
    """What the builder's controls hold. Fields not used by ``mode`` are kept but ignored."""

    mode: Mode = "none"
    minute: int = 0
    hour: int = 0
    weekday: int = 1  # 0 = Sunday, as in cron
    day: int = 1
    every: int = 15  # minutes for every_minutes, hours for interval
    preset: str = "@daily"
    cron: str = ""


def schedule_from_choice(choice: ScheduleChoice) -> Any:
    """The spec's ``schedule`` value: None, a preset, a cron string, or ``{"every": ...}``."""
    minute, hour = choice.minute, choice.hour
    match choice.mode:
        case "none":
            return None
        case "every_minutes":
            return f"*/{choice.every} * * * *"
        case "hourly":
            return f"{minute} * * * *"
        case "daily":
            return f"{minute} {hour} * * *"
        case "weekly":
            return f"{minute} {hour} * * {choice.weekday}"
        case "monthly":
            return f"{minute} {hour} {choice.day} * *"
        case "preset":
            return choice.preset
        case "interval":
            return {"every": f"PT{choice.every}H"}
        case _:
            return choice.cron.strip()


_NUM = r"(\d{1,2})"


def choice_from_schedule(schedule: Any, base: ScheduleChoice | None = None) -> ScheduleChoice:
    """The builder state that shows ``schedule``: a common case when it is one, else custom cron."""
    base = base or ScheduleChoice()
    if schedule is None:
        return replace(base, mode="none")
    if isinstance(schedule, dict) and "every" in schedule:
        hours = _hours(schedule["every"])
        if hours is not None:
            return replace(base, mode="interval", every=hours)
        return replace(base, mode="cron", cron=str(schedule))
    if not isinstance(schedule, str):
        return replace(base, mode="cron", cron=str(schedule))
    text = " ".join(schedule.split())
    if text.startswith("@"):
        return replace(base, mode="preset", preset=text)
    if found := re.fullmatch(r"\*/" + _NUM + r" \* \* \* \*", text):
        return replace(base, mode="every_minutes", every=int(found[1]))
    if found := re.fullmatch(_NUM + r" \* \* \* \*", text):
        return replace(base, mode="hourly", minute=int(found[1]))
    if found := re.fullmatch(_NUM + " " + _NUM + r" \* \* \*", text):
        return replace(base, mode="daily", minute=int(found[1]), hour=int(found[2]))
    if found := re.fullmatch(_NUM + " " + _NUM + r" \* \* ([0-6])", text):
        return replace(
            base, mode="weekly", minute=int(found[1]), hour=int(found[2]), weekday=int(found[3])
        )
    if found := re.fullmatch(_NUM + " " + _NUM + " " + _NUM + r" \* \*", text):
        return replace(
            base, mode="monthly", minute=int(found[1]), hour=int(found[2]), day=int(found[3])
        )
    return replace(base, mode="cron", cron=text)


def _hours(every: Any) -> int | None:
    if isinstance(every, timedelta):
        seconds = every.total_seconds()
    elif isinstance(every, str) and (found := re.fullmatch(r"PT(\d+)H", every)):
        seconds = int(found[1]) * 3600
    else:
        return None
    return int(seconds // 3600) if seconds > 0 and seconds % 3600 == 0 else None


def describe(schedule: Any) -> str:
    """A short sentence for the schedule, e.g. 'every day at 03:00'."""
    choice = choice_from_schedule(schedule)
    at = f"{choice.hour:02d}:{choice.minute:02d}"
    match choice.mode:
        case "none":
            return "no schedule: runs only when triggered"
        case "every_minutes":
            return f"every {choice.every} minutes"
        case "hourly":
            return f"every hour at minute {choice.minute}"
        case "daily":
            return f"every day at {at}"
        case "weekly":
            return f"every {WEEKDAYS[choice.weekday]} at {at}"
        case "monthly":
            return f"on day {choice.day} of every month at {at}"
        case "interval":
            return f"every {choice.every} hours from the start date"
        case "preset":
            return {
                "@once": "once, at the start date",
                "@continuous": "continuously: a new run as soon as one ends",
            }.get(choice.preset, f"{choice.preset} (Airflow preset)")
        case _:
            return f"cron {choice.cron!r}"


def next_runs(
    schedule: Any,
    start_date: date | datetime | str | None,
    timezone: str = "UTC",
    *,
    now: datetime | None = None,
    count: int = 5,
) -> list[datetime]:
    """The next ``count`` run times (aware, in ``timezone``) from ``now`` on, never before the
    start date. Empty for no schedule, ``@continuous``, or an invalid schedule/start date."""
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        return []
    now = (now or datetime.now(zone)).astimezone(zone)
    start = _start(start_date, zone)
    if start is None or schedule is None:
        return []
    if isinstance(schedule, dict) and "every" in schedule:
        hours = _hours(schedule["every"])
        if hours is None:
            return []
        step = timedelta(hours=hours)
        first = start if start >= now else start + step * -(-(now - start) // step)
        return [first + step * i for i in range(count)]
    if not isinstance(schedule, str):
        return []
    if schedule == "@once":
        return [start] if start >= now else []
    cron = PRESET_CRON.get(schedule, schedule)
    if not croniter.is_valid(cron) or len(cron.split()) != 5:
        return []
    # Strictly after 'base': one second earlier so that a run exactly at the start date counts.
    base = max(now, start) - timedelta(seconds=1)
    times = croniter(cron, base)
    return [times.get_next(datetime) for _ in range(count)]


def _start(value: date | datetime | str | None, zone: ZoneInfo) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = (
                date.fromisoformat(value.strip())
                if len(value.strip()) == 10
                else datetime.fromisoformat(value.strip())
            )
        except ValueError:
            return None
    if not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    return value.replace(tzinfo=zone) if value.tzinfo is None else value.astimezone(zone)


def format_runs(runs: list[datetime], schedule: Any) -> str:
    """The 'next runs' line shown under the builder."""
    if schedule is None:
        return "No schedule: trigger runs by hand (Deploy & run) or through the API."
    if schedule == "@continuous":
        return "Continuous: a new run starts as soon as the previous one ends."
    if not runs:
        return "No upcoming runs (check the schedule and the start date)."
    return "Next runs: " + ", ".join(r.strftime("%Y-%m-%d %H:%M %Z") for r in runs)
