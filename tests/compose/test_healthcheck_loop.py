"""The health-check loop kit.stack.podman starts beside podman's API (no systemd runs the checks):
a container still starting is checked on every round, 2 s apart; a healthy one only at its own
check's interval, as systemd's timers would. Run for real with bash, against a stand-in `podman`
program that lists two containers and records each check asked of it (~7 s)."""

from __future__ import annotations

import os
import subprocess
import textwrap
from pathlib import Path

from kit.stack.podman import HEALTHCHECK_LOOP

FAKE_PODMAN = textwrap.dedent(
    """\
    #!/bin/bash
    # ps: the two containers (ids only with -q); inspect: their intervals; healthcheck: recorded.
    case "$1" in
      ps) if [[ " $* " == *" -q "* ]]; then printf '%s\\n' starter steady
          else printf '%s\\n' "starter Up 5 seconds (starting)" "steady Up 2 hours (healthy)"
          fi ;;
      inspect) [ "${@: -1}" = steady ] && echo 4 || echo 30 ;;
      healthcheck) echo "$EPOCHSECONDS ${@: -1}" >>"$CALLS" ;;
    esac
    """
)


def test_starting_containers_are_checked_every_round_healthy_ones_at_their_interval(
    tmp_path: Path,
) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "podman").write_text(FAKE_PODMAN)
    (bin_dir / "podman").chmod(0o755)
    calls = tmp_path / "calls"
    # The loop's own lock is machine-wide (one loop runs every container's checks): a lock of the
    # test's, so that a real loop running beside it does not keep this one waiting.
    loop = HEALTHCHECK_LOOP.replace("/tmp/kit-podman-healthchecks-", f"{tmp_path}/lock-")
    assert loop != HEALTHCHECK_LOOP
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "CALLS": str(calls)}
    proc = subprocess.Popen(["bash", "-c", loop], env=env, start_new_session=True)
    try:
        proc.wait(timeout=7.5)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, 9)
        proc.wait()
    else:
        raise AssertionError(f"the loop ended by itself (exit {proc.returncode})")
    checked: dict[str, list[int]] = {"starter": [], "steady": []}
    for line in calls.read_text().splitlines():
        at, name = line.split()
        checked[name].append(int(at))
    # Rounds 2 s apart in 7.5 s: the starting container at each of them.
    assert len(checked["starter"]) >= 3, checked
    # The healthy one at once, then not before its 4 s interval had passed: 2 checks, not 4.
    steady = checked["steady"]
    assert len(steady) == 2, checked
    assert steady[1] - steady[0] >= 4, checked
