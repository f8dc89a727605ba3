"""The stack panel: status of each component, up/down with progress, links, credentials, and who
is logged in."""

from __future__ import annotations

import contextlib
import html
from dataclasses import dataclass
from typing import Any

import ipywidgets as widgets

from kit.widgets.background import poll_every, run_later


def status_rows(status: Any) -> list[tuple[str, str, str]]:
    """(component, state, detail) for a ``StackStatus`` (pure)."""
    rows = []
    for comp in status.components:
        if not comp.running:
            state = "stopped"
        elif comp.healthy is None:
            state = "running"
        else:
            state = "healthy" if comp.healthy else "unhealthy"
        rows.append((comp.name, state, comp.detail or (f"pid {comp.pid}" if comp.pid else "")))
    return rows


def healthy_fraction(status: Any) -> float:
    """The share of components that run and are not unhealthy, 0.0 to 1.0."""
    comps = list(status.components)
    if not comps:
        return 0.0
    return sum(bool(c.running and c.healthy is not False) for c in comps) / len(comps)


def read_password(endpoints: Any) -> str | None:
    """The admin password from the stack's password file (shown only on request)."""
    from kit.stack import StackError

    try:
        return endpoints.password()
    except (StackError, AttributeError):
        return None


@dataclass(frozen=True)
class Identity:
    """Who the panel's login is, as Airflow answered (or why it did not)."""

    username: str
    roles: tuple[str, ...] | None = None  # None: not readable by that user
    error: str | None = None  # the login failed: why


def identity_html(identity: Identity | None) -> str:
    """The panel's "logged in as" line (pure)."""
    if identity is None:
        return ""
    name = f"<code>{html.escape(identity.username)}</code>"
    if identity.error:
        why = html.escape(identity.error)
        return f"<span style='color:#c62828'>Not logged in as {name}: {why}</span>"
    roles = f" ({html.escape(', '.join(identity.roles))})" if identity.roles else ""
    return (
        f"<span data-logged-in='{html.escape(identity.username)}'>Logged in as {name}{roles}</span>"
    )


def look_up_identity(endpoints: Any, user: str | None, password: str | None) -> Identity:
    """Log in to the stack as ``user`` (default: its admin) and ask Airflow who that is; its roles
    as the admin reads them."""
    from kit.client import AirflowClient, ClientError, login
    from kit.client.users import Users
    from kit.stack import StackError

    name = user or endpoints.username
    try:
        state_dir = endpoints.password_file.parent  # the admin's file is in the state folder
        name, secret = login(state_dir, endpoints.username, endpoints.password, user, password)
        me = Users(AirflowClient(endpoints.airflow_url, name, secret, timeout=10.0)).me()
    except (ClientError, StackError, AttributeError) as exc:
        return Identity(name, error=str(exc))
    try:
        admin = AirflowClient(
            endpoints.airflow_url, endpoints.username, endpoints.password(), timeout=10.0
        )
        roles: tuple[str, ...] | None = Users(admin).get(me).roles
    except (ClientError, StackError):
        roles = None
    return Identity(me, roles)


def mlflow_login_html(endpoints: Any, *, show: bool) -> str:
    """MLflow's own login (the browser asks for it at the MLflow UI), when MLflow has logins;
    its password only when ``show``."""
    from kit.stack import StackError

    user = getattr(endpoints, "mlflow_username", None)
    if not user:
        return ""
    secret = f"password in <code>{html.escape(str(endpoints.mlflow_password_file))}</code>"
    if show:
        with contextlib.suppress(StackError):
            secret = f"password <code>{html.escape(endpoints.mlflow_password())}</code>"
    return f"<br>MLflow login: user <code>{html.escape(user)}</code>, {secret}"


class StackPanel:
    """``StackPanel()`` in a notebook: is the stack up, start/stop it, where are the UIs."""

    def __init__(
        self,
        stack: Any = None,
        *,
        user: str | None = None,
        password: str | None = None,
        background: bool | None = None,
        timeout: float = 600.0,
    ) -> None:
        if stack is None:
            from kit.stack import get_stack

            stack = get_stack()
        self.stack = stack
        # Whom the panel logs in as (kit.client.connect's rules): the stack's admin by default.
        self.user, self._password = user, password
        self.identity: Identity | None = None  # looked up once per running stack
        self.whoami = widgets.HTML()
        self.whoami.add_class("kit-stack-login")
        self.background = background
        self.timeout = timeout
        self.summary = widgets.HTML()
        self.summary.add_class("kit-stack-summary")
        self.table = widgets.HTML()
        self.links = widgets.HTML()
        self.links.add_class("kit-stack-links")
        self.credentials = widgets.HTML()
        self.up_button = widgets.Button(description="Up", icon="play", button_style="success")
        self.down_button = widgets.Button(description="Down", icon="stop", button_style="danger")
        self.refresh_button = widgets.Button(description="Refresh", icon="refresh")
        self.password_button = widgets.ToggleButton(description="show password", icon="key")
        self.progress = widgets.FloatProgress(value=0.0, min=0.0, max=1.0, description="")
        self.progress.layout.display = "none"
        self.message = widgets.HTML()
        self.up_button.on_click(lambda _b: self.up())
        self.down_button.on_click(lambda _b: self.down())
        self.refresh_button.on_click(lambda _b: self.refresh())
        self.password_button.observe(lambda _c: self.refresh(), "value")
        self.widget = widgets.VBox(
            [
                widgets.HTML("<h3 style='margin:4px 0'>Airflow + MLflow stack</h3>"),
                self.summary,
                widgets.HBox([self.up_button, self.down_button, self.refresh_button]),
                self.progress,
                self.message,
                self.table,
                self.links,
                self.whoami,
                widgets.HBox([self.credentials, self.password_button]),
            ]
        )
        self.widget.add_class("kit-stack-panel")
        self._busy = False
        self.refresh()

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)

    def refresh(self) -> Any:
        """Read the status and show it (logging in while the stack runs, once it worked, to say
        who is logged in); returns the ``StackStatus``."""
        status = self.stack.status()
        known = self.identity is not None and self.identity.error is None
        if status.running and status.endpoints is not None and not known:
            self.identity = look_up_identity(status.endpoints, self.user, self._password)
        elif not status.running:
            self.identity = None
        self.show(status)
        return status

    def show(self, status: Any) -> bool:
        """Show a stack status (summary, components, links, login); True while Up/Down runs."""
        running = bool(status.running)
        healthy = bool(status.healthy)
        word = "healthy" if healthy else ("running, not all healthy" if running else "down")
        colour = "#2e7d32" if healthy else ("#ef6c00" if running else "#757575")
        self.summary.value = (
            f"<span data-stack-state='{'up' if running else 'down'}' style='color:{colour};"
            f"font-weight:bold'>{status.kind} stack: {word}</span>"
        )
        rows = "".join(
            f"<tr><td>{html.escape(name)}</td><td>{html.escape(state)}</td>"
            f"<td>{html.escape(detail)}</td></tr>"
            for name, state, detail in status_rows(status)
        )
        self.table.value = (
            f"<table><tr><th>component</th><th>state</th><th></th></tr>{rows}</table>"
            if rows
            else ""
        )
        endpoints = status.endpoints
        if endpoints is not None and running:
            self.links.value = (
                f"Airflow UI: <a href='{html.escape(endpoints.airflow_url)}' target='_blank'>"
                f"{html.escape(endpoints.airflow_url)}</a> · MLflow UI: "
                f"<a href='{html.escape(endpoints.mlflow_url)}' target='_blank'>"
                f"{html.escape(endpoints.mlflow_url)}</a>"
            )
            password = read_password(endpoints) if self.password_button.value else None
            secret = (
                f"password <code>{html.escape(password)}</code>"
                if password
                else f"password in <code>{html.escape(str(endpoints.password_file))}</code>"
            )
            self.credentials.value = (
                f"Admin login: user <code>{html.escape(endpoints.username)}</code>, {secret}"
                + mlflow_login_html(endpoints, show=bool(self.password_button.value))
            )
            self.whoami.value = identity_html(self.identity)
        else:
            self.links.value = "<i>Start the stack to get the Airflow and MLflow UIs.</i>"
            self.credentials.value = ""
            self.whoami.value = ""
        self.up_button.disabled = self._busy or healthy
        self.down_button.disabled = self._busy or not running
        if not self._busy:
            self.progress.value = healthy_fraction(status) if running else 0.0
        return self._busy

    def _begin(self, text: str) -> None:
        self._busy = True
        self.up_button.disabled = self.down_button.disabled = True
        self.progress.layout.display = None
        self.progress.bar_style = "info"
        self.message.value = f"<i>{html.escape(text)}</i>"

    def _end(self, text: str, ok: bool) -> None:
        self._busy = False
        self.progress.bar_style = "success" if ok else "danger"
        colour = "#2e7d32" if ok else "#c62828"
        self.message.value = (
            f"<span style='color:{colour};white-space:pre-wrap'>{html.escape(text)}</span>"
        )
        self.refresh()

    def _watch_progress(self) -> None:
        """While starting: the share of healthy components, polled on the kernel's loop."""

        def show(status: Any) -> bool:
            self.progress.value = healthy_fraction(status)
            return self._busy

        poll_every(1.0, self.stack.status, show)

    def up(self) -> None:
        """Start the stack (returns at once in a notebook; the bar fills as components come up)."""
        self._begin("starting the stack … (the first start takes a minute or two)")
        self._watch_progress()
        run_later(
            lambda: self.stack.up(timeout=self.timeout, progress=False),
            lambda endpoints: self._end(f"Stack up: Airflow at {endpoints.airflow_url}", True),
            lambda exc, _t: self._end(f"Could not start the stack: {exc}", False),
            background=self.background,
        )

    def down(self) -> None:
        """Stop every process of the stack."""
        self._begin("stopping the stack …")
        run_later(
            lambda: self.stack.down(),
            lambda _r: self._end("Stack stopped.", True),
            lambda exc, _t: self._end(f"Could not stop the stack: {exc}", False),
            background=self.background,
        )
