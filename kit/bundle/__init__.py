"""The project's versioned DAG bundle: every deploy a commit of a git repository that Airflow
serves through its GitDagBundle, so every deploy is a DAG version (docs/dag-versions.md).

- ``config``: what Airflow is told (pure): the ``dag_bundle_config_list`` item, storage, git config.
- ``manifest``: which files a deploy commits, at which paths (pure).
- ``repo``: the bare repository (``<state dir>/bundle.git``) and commits to it (git).
- ``deploy``: a DAG file (and what it runs) from the working copy into a new commit.
"""
