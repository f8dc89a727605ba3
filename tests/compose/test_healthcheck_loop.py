"""The health-check loop kit.stack.podman starts beside podman's API (no systemd runs the checks),
as Docker runs checks: every `interval` of the container's own check, every 2 s during its
`start_period`; each container's check on its own, so a slow one holds up no other, and never two
of one container at once. Run for real with bash, against a stand-in `podman` program that lists
four containers and records each check asked of it (~8 s)."""

from __future__ import annotations

import os
import subprocess
import textwrap
from pathlib import Path

from kit.stack.podman import HEALTHCHECK_LOOP

FAKE_PODMAN = textwrap.dedent(
    """\
    #!/bin/bash
    # ps: the containers; inspect: interval and start period (4 s and 10 s, or 30 s and 30 s),
    # when each started (`late` 100 s ago, the others now); healthcheck: recorded (`slow`: 6 s).
    for arg; do case "$arg" in starter | slow | late | steady) c=$arg ;; esac; done
    case "$1" in
      ps) if [[ " $* " == *" -q "* ]]; then printf '%s\\n' starter slow late steady
          else printf '%s\\n' "starter Up 1 s (starting)" "slow Up 1 s (starting)" \\
                              "late Up 2 min (starting)" "steady Up 2 hours (healthy)"
          fi ;;
      inspect) case "$*" in
                 *StartedAt*) ago=0; [ "$c" = late ] && ago=100; echo $((EPOCHSECONDS - ago)) ;;
                 *) case "$c" in late | steady) echo "4 10" ;; *) echo "30 30" ;; esac ;;
               esac ;;
      healthcheck) echo "$EPOCHSECONDS $c" >>"$CALLS"
                   [ "$c" = slow ] && sleep 6 ;;
    esac
    exit 0
    """
)


def test_checks_run_at_their_interval_every_2_s_while_starting_and_apart(tmp_path: Path) -> None:
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
    checked: dict[str, list[int]] = {"starter": [], "slow": [], "late": [], "steady": []}
    for line in calls.read_text().splitlines():
        at, name = line.split()
        checked[name].append(int(at))
    # In its start period: on every round, 2 s apart (whatever `slow` does meanwhile).
    assert len(checked["starter"]) >= 3, checked
    # Healthy, or starting past its start period: at once, then not before its 4 s interval had
    # passed (2 checks, not 4), so failures count no faster than Docker counts them.
    for name in ("steady", "late"):
        at = checked[name]
        assert len(at) == 2 and at[1] - at[0] >= 4, checked
    # The 6 s check is not begun again before it ended.
    slow = checked["slow"]
    assert slow and all(b - a >= 6 for a, b in zip(slow, slow[1:], strict=False)), checked
