"""The kit's AirflowPlugins: an "Output notebook" tab on Airflow's task instance page, and the
seed's basic auth on the API for scripts (kit.airflow_plugin.basic_auth).

Airflow loads plugins in every process, task processes included (for macros), so this module
stays light: the FastAPI app, which imports Airflow's API security and nbconvert, is built only
when the api-server reads ``fastapi_apps``.
"""

from __future__ import annotations

import functools
from typing import Any

from airflow.plugins_manager import AirflowPlugin

from kit.airflow_plugin.basic_auth import BasicAuthToBearer

URL_PREFIX = "/output-notebooks"
URL_ROUTE = "output-notebook"

# Airflow 3.3's UI fills {DAG_ID}, {RUN_ID}, {TASK_ID} (URI-encoded) and {MAP_INDEX} into the
# href of a view whose destination is not "nav"; {MAP_INDEX} only on a mapped task instance's
# page (elsewhere it stays as written: the app reads it as -1). There is no {TRY_NUMBER}: the
# viewer reads the page's ?try_number= itself and offers every try (see pages.py).
# Relative, without a leading slash: the UI's <base href> is Airflow's base_url, so the frame
# finds the app under a base_url with a path prefix too.
VIEW_HREF = (
    URL_PREFIX.lstrip("/")
    + "/view?dag_id={DAG_ID}&run_id={RUN_ID}&task_id={TASK_ID}&map_index={MAP_INDEX}"
)

OUTPUT_NOTEBOOK_VIEW: dict[str, Any] = {
    "name": "Output notebook",
    "href": VIEW_HREF,
    "destination": "task_instance",
    "url_route": URL_ROUTE,
}


@functools.cache
def _app() -> Any:
    from kit.airflow_plugin.app import create_app

    return create_app()


class OutputNotebookPlugin(AirflowPlugin):
    """Serves each notebook task try's output notebook, rendered, inside Airflow's UI."""

    name = "kit_output_notebooks"
    external_views = [OUTPUT_NOTEBOOK_VIEW]

    @property
    def fastapi_apps(self) -> list[dict[str, Any]]:  # type: ignore[override]
        """The app, built on first use (only the api-server mounts it)."""
        return [{"app": _app(), "url_prefix": URL_PREFIX, "name": "kit output notebooks"}]


class BasicAuthPlugin(AirflowPlugin):
    """`curl -u user:password` on the API, as the seed's `auth_backends = basic_auth` allowed: the
    api-server swaps a valid login for that user's token (kit.airflow_plugin.basic_auth)."""

    name = "kit_basic_auth"
    fastapi_root_middlewares = [{"middleware": BasicAuthToBearer, "name": "kit basic auth"}]


@functools.cache
def _git_app() -> Any:
    from kit.airflow_plugin.git_http import create_app

    return create_app()


class BundleGitPlugin(AirflowPlugin):
    """The project's bundle repository, read-only, for Edge workers on other machines (they
    fetch DAGs and notebooks with their worker token; kit.airflow_plugin.git_http)."""

    name = "kit_bundle_git"

    @property
    def fastapi_apps(self) -> list[dict[str, Any]]:  # type: ignore[override]
        """The app, built on first use (only the api-server mounts it)."""
        from kit.airflow_plugin.git_http import URL_PREFIX as GIT_PREFIX

        return [{"app": _git_app(), "url_prefix": GIT_PREFIX, "name": "kit bundle git"}]
