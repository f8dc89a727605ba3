"""The Compose stack's images where no image registry answers: the stand-ins that
scripts/build-images.sh builds with podman (cached by content: a second build takes a second),
built with a progress display and recorded in the state folder so later commands use them too."""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from kit.stack.base import StackError

# Docker Hub, where the Compose file's official images come from. Any HTTP answer (401 without a
# token) means it answers; no answer in time means the stand-ins are needed.
REGISTRY_URL = "https://registry-1.docker.io/v2/"
REGISTRY_TIMEOUT = 5.0
BUILD_SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "build-images.sh"
IMAGES_FILE = "compose-images.env"
# The variables that point Compose at other images (docs/compose.md, "The image").
IMAGE_VARIABLES = ("KIT_AIRFLOW_BASE_IMAGE", "AIRFLOW_IMAGE_NAME", "KIT_POSTGRES_IMAGE",
                   "KIT_REDIS_IMAGE", "KIT_MAILPIT_IMAGE", "KIT_S3_IMAGE")  # fmt: skip
LOG_PREFIX = "build-images: "


def registry_answers(url: str = REGISTRY_URL, timeout: float = REGISTRY_TIMEOUT) -> bool:
    """True when the image registry answers at all (even 'unauthorized')."""
    try:
        with urllib.request.urlopen(url, timeout=timeout):  # noqa: S310 (a fixed https URL)
            return True
    except urllib.error.HTTPError:
        return True  # an answer, even "unauthorized"
    except (urllib.error.URLError, OSError):
        return False


def parse_variables(text: str) -> dict[str, str]:
    """``NAME=value`` lines (what build-images.sh prints) as a dict; other lines are ignored."""
    found = {}
    for line in text.splitlines():
        name, sep, value = line.strip().partition("=")
        if sep and name in IMAGE_VARIABLES and value:
            found[name] = value
    return found


def recorded(state_dir: Path) -> dict[str, str]:
    """The images the last build recorded in ``state_dir`` (empty when none was needed)."""
    path = Path(state_dir) / IMAGES_FILE
    return parse_variables(path.read_text()) if path.is_file() else {}


def build(
    state_dir: Path,
    *,
    progress: bool = True,
    script: Path = BUILD_SCRIPT,
    on_step: Callable[[str], None] | None = None,
) -> dict[str, str]:
    """Run ``script`` (each image it builds shown as a step), record its variables in
    ``state_dir`` and return them. StackError with the script's last words when it fails."""
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    if not script.is_file():
        raise StackError(
            f"no image registry answers and {script} (which builds stand-in images) is not "
            "there: set KIT_AIRFLOW_BASE_IMAGE, KIT_POSTGRES_IMAGE, ... to images your engine has"
        )
    started, lines = time.monotonic(), []
    with Progress(
        SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
        console=Console(stderr=True), transient=True, disable=not progress,
    ) as bar:  # fmt: skip
        task = bar.add_task("images: checking what is built already (cached by content)")
        proc = subprocess.Popen(
            [str(script)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            stdin=subprocess.DEVNULL,
        )  # fmt: skip
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line.rstrip("\n"))
            if line.startswith(LOG_PREFIX):
                step = line.removeprefix(LOG_PREFIX).strip()
                if on_step is not None:
                    on_step(step)
                bar.update(task, description=f"images: building {step}")
                if progress:
                    bar.console.print(f"  building {step}")
        code = proc.wait()
    if code != 0:
        tail = "\n".join(lines[-30:])
        raise StackError(f"building the stand-in images failed ({script}, exit {code}):\n{tail}")
    variables = parse_variables("\n".join(lines))
    missing = sorted(set(IMAGE_VARIABLES) - set(variables))
    if missing:
        raise StackError(f"{script} did not name the images {', '.join(missing)}")
    Path(state_dir).mkdir(parents=True, exist_ok=True)
    text = "".join(f"{k}={v}\n" for k, v in variables.items())
    (Path(state_dir) / IMAGES_FILE).write_text(text)
    if progress:
        print(f"  images ready ({time.monotonic() - started:.0f} s)", file=sys.stderr)
    return variables
