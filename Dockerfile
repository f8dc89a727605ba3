# The image of the Compose stack (docker-compose.airflow.yml): Airflow 3.3.2 + the task dependencies
# + the kit, every version pinned by requirements.lock so containers run what the tests ran.
# The tag must match the apache-airflow pin of requirements.lock (tests/compose checks it).
# Where no registry is reachable, build on a stand-in made from Debian and PyPI instead
# (scripts/build-images.sh; Compose passes KIT_AIRFLOW_BASE_IMAGE here).
ARG AIRFLOW_BASE_IMAGE=apache/airflow:3.3.2-python3.11
FROM ${AIRFLOW_BASE_IMAGE}

# The profiles need providers that the regular (non-slim) apache/airflow image already ships:
# celery (celery), amazon (remote-logs), sendgrid and smtp (email), postgres (psycopg2 for Airflow and
# MLflow). Checked here so that a slimmer base fails the build, not the first task at run time.
RUN python -c "import airflow.providers.celery, airflow.providers.amazon, \
airflow.providers.sendgrid, airflow.providers.smtp, airflow.providers.postgres, psycopg2"

# Airflow reads the project's DAGs from a git repository (the kit's versioned bundle, kit/bundle):
# the official image ships git; a base without it fails here, not at the first DAG parse.
RUN git --version

# requirements.lock is compiled for this Airflow version (uv pip compile ... x86_64-manylinux_2_28);
# as a constraint file it pins every package installed below and their dependencies.
COPY requirements.lock /opt/kit/requirements.lock

# Task dependencies first: this layer changes only when the lock changes.
# apache-airflow is named so pip may never move Airflow away from the image's version.
RUN pip install --no-cache-dir --constraint /opt/kit/requirements.lock \
        apache-airflow==3.3.2 \
        papermill \
        ipykernel \
        "mlflow[auth]" \
        scikit-learn \
    && pip check

# The kit itself (DAGs import it), with the rest of its dependencies, pinned by the same lock
# (FAB's auth manager among them: apache-airflow-providers-fab at the lock's version, whatever the
# base image ships). Owned by airflow: pip builds it in place and the image runs pip as that user.
COPY --chown=airflow:0 pyproject.toml /opt/kit/src/pyproject.toml
COPY --chown=airflow:0 kit /opt/kit/src/kit
RUN pip install --no-cache-dir --constraint /opt/kit/requirements.lock /opt/kit/src \
    && pip check \
    && python -c "import kit, papermill, mlflow, sklearn, \
airflow.providers.fab.auth_manager.fab_auth_manager"
