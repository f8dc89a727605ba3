"""Every program the stacks and the container engine run, and the Debian package that provides it:
one list, read by the engine's start-up check (``kit.stack.podman``) and by the test that each one
comes from a package our scripts install (tests/stack/test_fresh_machine.py).

Programs of Debian's Essential or priority-required packages (coreutils, util-linux, dpkg, apt,
passwd, ...) are on every Debian system and are not listed; the test accepts them by their
package's own fields. Programs from the venv (requirements.lock) are not listed either."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

ENGINE_SCRIPT = "scripts/container-engine.sh"
SYSTEM_DEPS_SCRIPT = "scripts/install-system-deps.sh"

# Where podman looks for its helpers (netavark, aardvark-dns) besides the PATH
# (containers.conf's helper_binaries_dir); and where root's programs are when PATH lacks them.
HELPER_DIRS = ("/usr/local/libexec/podman", "/usr/local/lib/podman", "/usr/libexec/podman",
               "/usr/lib/podman")  # fmt: skip
SBIN_DIRS = ("/usr/local/sbin", "/usr/sbin", "/sbin")


@dataclass(frozen=True)
class Program:
    """An executable, its Debian package, the script that installs that package (None: a
    prerequisite the user brings, or ``optional``), and who runs it (the error names them)."""

    name: str
    package: str
    script: str | None
    needed_by: str
    optional: bool = False  # used when present, never required

    def find(self) -> str | None:
        """Its path, on the PATH or where its callers look for it; None when it is missing."""
        found = shutil.which(self.name)
        if found:
            return found
        for folder in (*HELPER_DIRS, *SBIN_DIRS):
            path = Path(folder) / self.name
            if path.is_file() and os.access(path, os.X_OK):
                return str(path)
        return None

    def missing_message(self) -> str:
        """What to say when the program is missing: who needs it and which package has it."""
        how = f" ({self.script} install)" if self.script == ENGINE_SCRIPT else (
            f" ({self.script})" if self.script else ""
        )  # fmt: skip
        return f"{self.needed_by} needs {self.name}: install the package {self.package}{how}"


# The container engine (rootful podman driven through its Docker-compatible API).
ENGINE = (
    Program("podman", "podman", ENGINE_SCRIPT, "the Compose stack on podman"),
    Program("conmon", "conmon", ENGINE_SCRIPT, "podman"),
    Program("runc", "runc", ENGINE_SCRIPT, "podman"),  # containers.conf: runtime = "runc"
    Program("netavark", "netavark", ENGINE_SCRIPT, "podman"),
    Program("aardvark-dns", "aardvark-dns", ENGINE_SCRIPT, "netavark"),
    # Debian's netavark 1.4 runs these to set up every bridge network (its iptables driver).
    Program("iptables", "iptables", ENGINE_SCRIPT, "netavark"),
    Program("ip6tables", "iptables", ENGINE_SCRIPT, "netavark"),
)
# Only podman run by a user other than root needs these; the check asks for them then.
ROOTLESS = (
    Program("newuidmap", "uidmap", ENGINE_SCRIPT, "rootless podman"),
    Program("newgidmap", "uidmap", ENGINE_SCRIPT, "rootless podman"),
    Program("slirp4netns", "slirp4netns", ENGINE_SCRIPT, "rootless podman"),
    Program("fuse-overlayfs", "fuse-overlayfs", ENGINE_SCRIPT, "rootless podman"),
)
OTHERS = (
    Program("docker-compose", "docker-compose", SYSTEM_DEPS_SCRIPT, "the Compose stack"),
    Program("mmdebstrap", "mmdebstrap", ENGINE_SCRIPT, "scripts/build-images.sh"),
    Program("redis-server", "redis-server", SYSTEM_DEPS_SCRIPT, "`kit up --celery`"),
    Program("dot", "graphviz", SYSTEM_DEPS_SCRIPT, "DAG previews"),
    Program("chromium", "chromium", SYSTEM_DEPS_SCRIPT, "the designer's browser test"),
    # Deploys are commits to the project's bundle repository, which Airflow reads (kit.bundle).
    Program("git", "git", SYSTEM_DEPS_SCRIPT, "every stack's DAG bundle (kit.bundle)"),
    # A prerequisite too: the README's two commands are make targets.
    Program("make", "make", None, "the README's commands (`make demo`, `make test`)"),
    # Docker's own client, where Docker is the engine: the kit then prefers its Compose plugin.
    # The kit speaks to the engine itself (kit.stack.engine_api), so podman needs no `docker`.
    Program("docker", "docker-ce-cli", None, "the Compose v2 plugin (optional)", optional=True),
)
PROGRAMS: tuple[Program, ...] = (*ENGINE, *ROOTLESS, *OTHERS)


def by_name(name: str) -> Program | None:
    """The program called ``name``; None for one the kit does not list."""
    return next((p for p in PROGRAMS if p.name == name), None)


def missing_engine_programs(*, rootless: bool | None = None) -> list[str]:
    """What the container engine lacks, one message per program naming its package."""
    if rootless is None:
        rootless = os.geteuid() != 0
    wanted = (*ENGINE, *(ROOTLESS if rootless else ()))
    return [p.missing_message() for p in wanted if p.find() is None]
