"""The project's bundle repository: a bare git repository (``<state dir>/bundle.git``) that only
the kit writes, one commit per deploy. The user's own ``.git`` (if any) is never touched.

Commits are made with git's plumbing on a private index (read the branch's tree, add the files,
write a tree, commit it) and published with ``update-ref NEW OLD``, a compare-and-swap: two
deploys at once both land, one on top of the other, and none is lost. A deploy that changes
nothing makes no commit.
"""

from __future__ import annotations

import getpass
import os
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path

from kit.bundle.config import TRACKING_REF

REPO_DIR_NAME = "bundle.git"
REF = f"refs/heads/{TRACKING_REF}"
ZERO = "0" * 40
CAS_ATTEMPTS = 10


class BundleError(RuntimeError):
    """A git command on the bundle repository failed (its stderr is in the message)."""


def repo_path(state_dir: Path) -> Path:
    """Where the kit keeps a stack's bundle repository."""
    return state_dir / REPO_DIR_NAME


class BundleRepo:
    """A bare repository with one branch, ``main``, that Airflow's GitDagBundle tracks."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"BundleRepo({str(self.path)!r})"

    # -- git ------------------------------------------------------------------------------------
    def _git(
        self, *args: str, data: bytes | None = None, env: Mapping[str, str] | None = None
    ) -> str:
        """Run ``git --git-dir=<repo> ARGS``; its stdout (stripped), BundleError on failure."""
        full_env = {**os.environ, **_IDENTITY, **(env or {})}
        full_env.pop("GIT_DIR", None)
        full_env.pop("GIT_WORK_TREE", None)
        done = subprocess.run(
            ["git", f"--git-dir={self.path}", *args],
            input=data,
            capture_output=True,
            env=full_env,
            check=False,
            timeout=120,
        )
        if done.returncode != 0:
            error = done.stderr.decode(errors="replace").strip()
            raise BundleError(f"git {args[0]} in {self.path} failed: {error}")
        return done.stdout.decode(errors="replace").strip()

    # -- reading --------------------------------------------------------------------------------
    def exists(self) -> bool:
        """Whether the repository was made (``init``)."""
        return (self.path / "HEAD").is_file() and (self.path / "objects").is_dir()

    def head(self) -> str | None:
        """The commit ``main`` points at; None before the first commit."""
        try:
            return self._git("rev-parse", "--verify", "--quiet", f"{REF}^{{commit}}") or None
        except BundleError:
            return None

    def read(self, commit: str, path: str) -> bytes:
        """The bytes of ``path`` at ``commit``; BundleError if it is not there."""
        full_env = {**os.environ, **_IDENTITY}
        done = subprocess.run(
            ["git", f"--git-dir={self.path}", "cat-file", "blob", f"{commit}:{path}"],
            capture_output=True,
            env=full_env,
            check=False,
            timeout=60,
        )
        if done.returncode != 0:
            raise BundleError(f"{path} is not in commit {commit[:12]} of {self.path}")
        return done.stdout

    def files(self, commit: str) -> list[str]:
        """Every path in ``commit``."""
        listing = self._git("ls-tree", "-r", "--name-only", commit)
        return listing.splitlines() if listing else []

    def log(self, limit: int = 20) -> list[tuple[str, str]]:
        """(sha, subject) of the latest commits of ``main``, newest first."""
        if self.head() is None:
            return []
        out = self._git("log", f"-{limit}", "--format=%H %s", REF)
        return [tuple(line.split(" ", 1)) for line in out.splitlines()]  # type: ignore[misc]

    # -- writing --------------------------------------------------------------------------------
    def init(self) -> bool:
        """Make the bare repository if it is not there; True when it was made now."""
        if self.exists():
            return False
        self.path.parent.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(
            ["git", "init", "--quiet", "--bare", f"--initial-branch={TRACKING_REF}", self.path],
            capture_output=True,
            check=False,
            timeout=60,
        )
        if done.returncode != 0:
            raise BundleError(f"git init {self.path} failed: {done.stderr.decode().strip()}")
        return True

    def commit(self, files: Mapping[str, bytes], message: str) -> str | None:
        """Commit ``files`` (bundle path -> bytes) on top of ``main``, keeping every other path;
        the new commit, or None when nothing changed (no empty versions)."""
        if not files:
            raise ValueError("nothing to commit: give at least one file")
        for path in files:
            if path.startswith("/") or ".." in path.split("/") or not path:
                raise ValueError(f"bundle path {path!r} must be relative, inside the bundle")
        blobs = {
            path: self._git("hash-object", "-w", "--stdin", data=data)
            for path, data in files.items()
        }
        index_lines = "".join(f"100644 {sha}\t{path}\n" for path, sha in sorted(blobs.items()))
        with tempfile.TemporaryDirectory(prefix="kit-index-", dir=self.path) as tmp:
            env = {"GIT_INDEX_FILE": str(Path(tmp) / "index")}
            for _attempt in range(CAS_ATTEMPTS):
                old = self.head()
                if old is None:
                    self._git("read-tree", "--empty", env=env)
                else:
                    self._git("read-tree", old, env=env)
                self._git("update-index", "--index-info", data=index_lines.encode(), env=env)
                tree = self._git("write-tree", env=env)
                if old is not None and tree == self._git("rev-parse", f"{old}^{{tree}}"):
                    return None
                parents = ["-p", old] if old is not None else []
                new = self._git("commit-tree", tree, *parents, "-m", message)
                try:
                    self._git("update-ref", "-m", "kit deploy", REF, new, old or ZERO)
                except BundleError:
                    continue  # another deploy moved main meanwhile: again, on top of it
                self._publish()
                return new
        raise BundleError(
            f"could not commit to {self.path}: main moved {CAS_ATTEMPTS} times meanwhile"
        )

    def _publish(self) -> None:
        """Refresh the info files a dumb-HTTP reader of the repository needs."""
        self._git("update-server-info")


# Commits name the kit (and the user who deployed) without needing a git identity configured.
def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name anywhere (a container's arbitrary uid)
        return "kit"


_USER = _user()
_IDENTITY = {
    "GIT_AUTHOR_NAME": f"{_USER} (kit deploy)",
    "GIT_AUTHOR_EMAIL": f"{_USER}@localhost",
    "GIT_COMMITTER_NAME": "kit",
    "GIT_COMMITTER_EMAIL": "kit@localhost",
}
