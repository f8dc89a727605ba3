"""The kit's Airflow plugin: an "Output notebook" tab on the task instance page of Airflow's UI.

Registered through the ``airflow.plugins`` entry point (pyproject.toml), so it is active wherever
the kit is installed: the embedded stack and the Compose image. Every Airflow process loads
plugins (tasks too, for macros), so ``plugin`` imports nothing heavy; the FastAPI app
(``app``) is built only when the api-server asks for it. See docs/output-notebooks.md.

    locate     pure: request values -> a task instance, its try's file names, containment
    tries      pure: which try to show, which tries to list, whether a try is over
    pages      pure: the HTML pages (viewer, not found, bad request)
    files      I/O: the artifacts folder, paths resolved inside it, tries found on disk
    rendering  I/O: the kept HTML when current, else a render on request (kept only if safe)
    airflow_db I/O: the task instance's current try and state, from Airflow's database
    app        the FastAPI app (routes, Airflow's auth dependency)
    plugin     the AirflowPlugin subclass (the external view and the lazily built app)
"""
