"""The servers some shapes of the native stack need besides Airflow and MLflow.

PostgreSQL (the metadata database of the ``postgres`` and ``celery`` shapes, and MLflow's backend
store there), Redis (the Celery broker) and the Celery workers. Each module knows how to prepare,
start (the command line), probe and stop one of them; ``kit.stack.embedded`` runs them.
"""
