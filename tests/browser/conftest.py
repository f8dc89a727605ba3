"""A real JupyterLab on loopback and Debian's chromium driven by Playwright."""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from kit.stack.ports import free_ports

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = REPO / ".venv" / "bin"
CHROMIUM = Path("/usr/bin/chromium")
OUTPUT = REPO / "test-output" / "browser"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def launch(playwright, chromium: Path, profile: Path, width: int, height: int):
    """Headless Debian chromium with its own profile folder: a Playwright browser context."""
    return playwright.chromium.launch_persistent_context(
        str(profile),
        executable_path=str(chromium),
        headless=True,
        args=CHROMIUM_FLAGS,
        viewport={"width": width, "height": height},
    )


@pytest.fixture(scope="session")
def chromium() -> Path:
    """Debian's chromium, installed with apt when missing (as root); fails otherwise."""
    if not CHROMIUM.exists():
        if os.geteuid() != 0 or shutil.which("apt-get") is None:
            pytest.fail("chromium is missing: run `sudo apt-get install -y chromium`")
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "chromium"],
            check=True,
            env=env,
        )
    assert CHROMIUM.exists(), "apt-get did not install /usr/bin/chromium"
    return CHROMIUM


@pytest.fixture(scope="session")
def output_dir() -> Path:
    OUTPUT.mkdir(parents=True, exist_ok=True)
    return OUTPUT


@dataclass(frozen=True)
class Lab:
    url: str
    token: str
    root: Path  # the server's root folder
    project: Path  # KIT_PROJECT_DIR of the kernels
    log: Path

    def tree(self, path: Path) -> str:
        """The JupyterLab URL that opens ``path`` (a file under ``root``)."""
        return f"{self.url}/lab/tree/{path.relative_to(self.root).as_posix()}?token={self.token}"

    def log_tail(self, lines: int = 60) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no server log)"


@pytest.fixture(scope="session")
def lab(stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """``jupyter lab`` on a free loopback port with a token; kernels see the session stack.

    The project is a temporary copy with the designer notebook and the example notebook at
    their repo paths (the stack's workers resolve notebooks against the repo); the designer
    exports into the stack's dags folder. The server's whole process group is stopped after.
    """
    base = tmp_path_factory.mktemp("lab")
    project = base / "project"
    (project / "notebooks" / "examples").mkdir(parents=True)
    (project / "config").mkdir()
    shutil.copy(REPO / "notebooks" / "designer.ipynb", project / "notebooks" / "designer.ipynb")
    shutil.copy(
        REPO / "notebooks" / "examples" / "square.ipynb",
        project / "notebooks" / "examples" / "square.ipynb",
    )
    (project / "config" / "airflow.cfg").symlink_to(REPO / "config" / "airflow.cfg")
    env = {
        "KIT_STATE_DIR": str(stack.settings.state_dir),
        "KIT_PROJECT_DIR": str(project),
        "KIT_DAGS_DIR": str(stack.settings.dags_dir),
    }
    with serve_lab(base, project, env, cwd=project / "notebooks") as running:
        yield running


@pytest.fixture(scope="session")
def bare_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """``jupyter lab`` as ``lab``, without a stack: for widgets that need only a kernel."""
    base = tmp_path_factory.mktemp("bare-lab")
    project = base / "project"
    (project / "notebooks").mkdir(parents=True)
    env = {
        "KIT_STATE_DIR": str(base / "state"),
        "KIT_PROJECT_DIR": str(project),
        "KIT_DAGS_DIR": str(project / "dags"),
    }
    with serve_lab(base, project, env, cwd=project) as running:
        yield running


@contextlib.contextmanager
def serve_lab(base: Path, project: Path, kit_env: dict[str, str], *, cwd: Path) -> Iterator[Lab]:
    """Run ``jupyter lab`` (its own Jupyter folders under ``base``, kernels with ``kit_env``)
    until the block ends; then stop its whole process group."""
    jupyter_home = base / "jupyter"
    for sub in ("config", "data", "runtime", "workspaces", "settings"):
        (jupyter_home / sub).mkdir(parents=True)
    port = free_ports(1)[0]
    token = secrets.token_hex(16)
    log = base / "jupyter.log"
    env = {
        **os.environ,
        **kit_env,
        # A Jupyter of its own: no user settings, workspaces or running-server files shared.
        "JUPYTER_CONFIG_DIR": str(jupyter_home / "config"),
        "JUPYTER_RUNTIME_DIR": str(jupyter_home / "runtime"),
        "JUPYTERLAB_WORKSPACES_DIR": str(jupyter_home / "workspaces"),
        "JUPYTERLAB_SETTINGS_DIR": str(jupyter_home / "settings"),
        "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    command = [
        str(VENV_BIN / "jupyter"),
        "lab",
        "--no-browser",
        "--ip=127.0.0.1",
        f"--port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        # The whole file system: the run view's link to an output notebook (under the session
        # stack's artifacts/, outside this project) must open in JupyterLab as well.
        "--ServerApp.root_dir=/",
        "--LabApp.news_url=",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        # make lab's settings overrides: no "Jupyter news?" toast over the page.
        f"--LabApp.app_settings_dir={REPO / 'config' / 'jupyterlab'}",
    ]
    if os.geteuid() == 0:  # containers and CI run as root; the server only listens on loopback
        command.append("--allow-root")
    with log.open("w") as out:
        server = subprocess.Popen(
            command,
            cwd=cwd,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: kernels included, stopped together
        )
    url = f"http://127.0.0.1:{port}"
    running = Lab(url, token, Path("/"), project, log)
    try:
        deadline = time.monotonic() + 120
        while True:
            if server.poll() is not None:
                pytest.fail(f"jupyter lab exited ({server.returncode}):\n{running.log_tail()}")
            try:
                if httpx.get(f"{url}/api/status", params={"token": token}, timeout=2).is_success:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"jupyter lab did not answer in 120 s:\n{running.log_tail()}")
            time.sleep(0.5)
        yield running
    finally:
        _stop_group(server)


def _stop_group(server: subprocess.Popen) -> None:
    try:
        os.killpg(server.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=10)
    # Kernels are in the same group; make sure none outlived the server.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(server.pid, signal.SIGKILL)


def run_notebook_in_lab(page: Page, lab: Lab, notebook: Path, shown: str) -> None:
    """Open ``notebook`` in JupyterLab, wait for its kernel (accepting the kernel dialog if
    JupyterLab asks), run all cells, and wait until the element ``shown`` is visible."""
    # ``reset``: a fresh workspace; the lab is shared, and it would otherwise reopen the
    # notebooks an earlier test left open beside this one.
    page.goto(lab.tree(notebook) + "&reset")
    expect(page.locator(".jp-NotebookPanel")).to_be_visible(timeout=120_000)
    idle = page.get_by_role("button", name=re.compile(r"Python 3.*\| Idle"))
    deadline = time.monotonic() + 180
    while True:
        dialog = page.locator(".jp-Dialog button.jp-mod-accept")
        if dialog.count() and dialog.first.is_visible():
            dialog.first.click()
        if idle.count():
            break
        if time.monotonic() > deadline:
            raise AssertionError("the kernel did not become idle within 180 s")
        page.wait_for_timeout(500)
    page.locator(".lm-MenuBar-item", has_text="Run").first.click()
    page.locator(".lm-Menu-itemLabel").get_by_text("Run All Cells", exact=True).click()
    # The "Jupyter news?" toast would cover the lower right of the page (the lab's settings
    # normally turn it off).
    no_news = page.locator(".jp-Notification-Toast").get_by_role("button", name="No")
    if no_news.count():
        no_news.first.click()
    expect(page.locator(shown)).to_be_visible(timeout=180_000)


# ms: what a widget, or a kernel starting on a busy machine, may take to answer.
UI_TIMEOUT = 60_000


def new_page(browser, console: list[str]) -> Page:
    """A page with the tests' patience (``UI_TIMEOUT``) whose console messages go to
    ``console``, for the failure report."""
    page = browser.new_page()
    page.set_default_timeout(UI_TIMEOUT)
    page.on("console", lambda m: console.append(f"{m.type}: {m.text}"))
    return page
