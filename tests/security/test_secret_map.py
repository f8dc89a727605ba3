"""The map of which process holds which secret (pure), and docs/security.md showing it."""

from __future__ import annotations

from pathlib import Path

from kit.stack import secret_map
from kit.stack.secrets import StackSecrets

REPO = Path(__file__).resolve().parents[2]


def test_findings_name_process_place_and_secret() -> None:
    made = StackSecrets.generate()
    values = secret_map.secret_values(made)
    places = [
        ("env AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", f"postgresql://airflow:{made.airflow_db_password}@h/a"),
        ("env PASSWORD_OF_ALL", made.postgres_password),
        ("argv[2]", f"--password={made.admin_password}"),
        ("env PATH", "/usr/bin"),
    ]  # fmt: skip
    found = secret_map.findings("scheduler (pid 7)", places, values, {"airflow-db"})
    assert [(f.where, f.secret) for f in found] == [
        ("env PASSWORD_OF_ALL", "postgres-superuser"),
        ("argv[2]", "admin-password"),
    ]
    assert str(found[0]) == (
        "scheduler (pid 7): env PASSWORD_OF_ALL holds postgres-superuser "
        "(PostgreSQL's superuser `postgres`)"
    )


def test_every_secret_of_the_stack_is_mapped() -> None:
    fields = {field for field, _ in secret_map.SECRETS.values()}
    assert fields == set(StackSecrets.__dataclass_fields__)


def test_no_long_running_service_holds_the_superuser_or_admin_password() -> None:
    for entry in secret_map.HOLDERS:
        if entry.name in ("airflow-init", "postgres") and entry.stack == "compose":
            continue  # the one-shot set-up, and the server the image initialises
        assert not entry.secrets & {"postgres-superuser", "admin-password"}, entry.name
    # A notebook's kernel holds only the tasks' MLflow login, which it logs with.
    assert secret_map.holder("native", "kernel").secrets == secret_map.RUNS_TASKS
    assert secret_map.holder("native", "kernel-pool").secrets == frozenset()
    assert secret_map.holder("native", "celery-worker-2").name == "celery-worker"
    assert secret_map.holder("native", "something-new").secrets == frozenset()


def test_docs_security_shows_the_map() -> None:
    doc = (REPO / "docs" / "security.md").read_text()
    for stack in ("native", "compose"):
        assert secret_map.markdown_table(stack) in doc, (
            f"docs/security.md: paste the {stack} table again: "
            f"python -c 'from kit.stack.secret_map import markdown_table; "
            f'print(markdown_table("{stack}"))\''
        )
