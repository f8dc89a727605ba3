"""The least-privilege roles' statements (pure); the live check is in test_secret_scan_live.py."""

from __future__ import annotations

from kit.stack.db_roles import statements

PASSWORDS = {"postgres": "su-pw", "airflow": "af-pw", "mlflow": "ml-pw"}


def test_a_fresh_cluster_gets_two_plain_roles_owning_their_databases() -> None:
    done = statements(PASSWORDS, {"postgres"}, {"postgres", "template1"}, bootstrap="postgres")
    texts = [t.format(*names) if "{}" in t else t for t, names, _ in done]
    assert texts[0].startswith("CREATE ROLE airflow WITH LOGIN NOSUPERUSER NOCREATEDB")
    assert "CREATE DATABASE airflow OWNER airflow ENCODING 'UTF8'" in texts
    assert "REVOKE ALL ON DATABASE airflow FROM PUBLIC" in texts
    assert "CREATE DATABASE mlflow OWNER mlflow ENCODING 'UTF8'" in texts
    assert "REVOKE ALL ON DATABASE mlflow FROM PUBLIC" in texts
    # Each role its own password; the superuser's is never given to one.
    given = {names[0]: pw for t, names, pw in done if pw is not None}
    assert given == {"airflow": "af-pw", "mlflow": "ml-pw"}


def test_an_older_state_is_moved_over_not_recreated() -> None:
    done = statements(
        PASSWORDS, {"postgres", "airflow", "mlflow"}, {"airflow", "mlflow"}, bootstrap="postgres"
    )
    texts = [t.format(*names) for t, names, _ in done]
    assert not any(t.startswith("CREATE") for t in texts)
    assert texts[0].startswith("ALTER ROLE airflow WITH LOGIN NOSUPERUSER")
    assert "ALTER DATABASE mlflow OWNER TO mlflow" in texts


def test_a_bootstrap_superuser_named_airflow_keeps_its_attributes() -> None:
    # A Compose volume from before the roles: PostgreSQL refuses to demote it.
    done = statements(PASSWORDS, {"airflow"}, {"airflow", "mlflow"}, bootstrap="airflow")
    first = done[0][0].format(*done[0][1])
    assert first == "ALTER ROLE airflow WITH LOGIN PASSWORD %s" and done[0][2] == "af-pw"
    mlflow = [t.format(*n) for t, n, _ in done if n[0] == "mlflow"]
    assert mlflow[0].startswith("CREATE ROLE mlflow WITH LOGIN NOSUPERUSER")
