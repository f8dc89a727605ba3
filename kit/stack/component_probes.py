"""How the native stack asks each of its components whether it is healthy."""

from __future__ import annotations

from collections.abc import Iterable

from kit.stack import health
from kit.stack.secrets import StackSecrets
from kit.stack.services import celery_workers
from kit.stack.services.postgres import PostgresServer
from kit.stack.services.redis import RedisServer
from kit.stack.settings import StackSettings

# Servers the others need before they start: started (and healthy) first, stopped last.
SERVICES = ("postgres", "redis")


def component_probes(
    settings: StackSettings,
    components: Iterable[str],
    secrets: StackSecrets | None,
    *,
    bootstrap: bool = False,
) -> dict[str, health.Probe]:
    """A probe per component (plus the api-server's metadatabase check). Without ``secrets``
    nothing can log in to the servers to ask. ``bootstrap``: PostgreSQL is asked as its
    superuser, since the ``airflow`` role may not exist yet."""
    probes: dict[str, health.Probe] = {}
    services: dict[str, health.Probe] = {}
    if secrets is not None:
        if settings.database == "postgres":
            user = "postgres" if bootstrap else "airflow"
            services["postgres"] = PostgresServer(settings, secrets).probe(user)
        if settings.executor == "celery":
            redis = RedisServer(settings, secrets)
            services["redis"] = redis.probe()
            services.update(celery_workers.ping_probes(redis.url(), settings.celery_worker_names()))
    for name in components:
        if name in SERVICES or name.startswith("celery-worker-"):
            probes[name] = services.get(name, lambda: "no secrets file")
    probes.update(health.airflow_probes(settings.airflow_url))
    probes["mlflow"] = health.mlflow_probe(settings.mlflow_url)
    probes["kernel-pool"] = health.kernel_pool_probe(settings.kernels_dir)
    return probes
