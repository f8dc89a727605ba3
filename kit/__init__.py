"""Airflow notebook kit: bring up Airflow 3, design pipelines, run notebooks as tasks.

Subpackages, one concern each:

- ``kit.stack``   bring the Airflow + MLflow stack up, watch it, take it down
- ``kit.client``  drive a running Airflow through its REST API
- ``kit.spec``    the pipeline model and its validation (pure)
- ``kit.codegen`` pipeline spec -> Airflow 3 DAG file (pure rendering, atomic export)
- ``kit.preview`` graph layout and SVG of a spec or any DAG file
- ``kit.cli``     the ``kit`` command
"""

__version__ = "0.1.0"
