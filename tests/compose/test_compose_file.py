"""docker-compose.airflow.yml: valid for the real docker-compose, shaped as the project needs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from kit.stack import secret_map
from kit.stack.compose import ComposeStack
from kit.stack.compose_env import BIND_MOUNTED_DIRS, ensure_host_dirs, read_env_file
from kit.stack.compose_project import COMPOSE_FILE, PROFILE_SWITCHES

from .conftest import REPO, airflow_cfg, clean_env, compose_model, lock_pins, run_config

SERVICES = compose_model()["services"]
PROFILES = sorted({p for svc in SERVICES.values() for p in svc.get("profiles", [])})
# Every service running the kit's Airflow image with Airflow's environment.
AIRFLOW_SERVICES = sorted(
    n for n, s in SERVICES.items() if "AIRFLOW_CONFIG" in s.get("environment", {})
)
LONG_RUNNING_AIRFLOW = [n for n in AIRFLOW_SERVICES if SERVICES[n].get("restart") == "always"]
ENV_KEY = re.compile(r"^AIRFLOW__([A-Z0-9_]+?)__([A-Z0-9_]+)$")
# Variables a profile flips; their default must be exactly the value of airflow.cfg.
CFG_SWITCHES = {"KIT_EXECUTOR", "KIT_REMOTE_LOGGING", "KIT_EMAIL_BACKEND", "KIT_EMAIL_CONN_ID"}
SWITCH_TARGETS = {
    "KIT_EXECUTOR": "AIRFLOW__CORE__EXECUTOR",
    "KIT_REMOTE_LOGGING": "AIRFLOW__LOGGING__REMOTE_LOGGING",
}


def resolved(docker_compose: str, folder: Path, *args: str, **env: str) -> dict:
    done = run_config(docker_compose, folder, *args, env=clean_env(**env))
    assert done.returncode == 0, done.stderr
    return yaml.safe_load(done.stdout)


# ---------------------------------------------------------------- validity with the real tool


def test_default_stack_is_valid(docker_compose: str, project: Path) -> None:
    config = resolved(docker_compose, project)
    expected = {
        "postgres",
        "airflow-init",
        "airflow-apiserver",
        "airflow-scheduler",
        "airflow-dag-processor",
        "airflow-triggerer",
        "mlflow",
    }
    assert expected <= set(config["services"])
    assert set(config["volumes"]) == {"postgres-db-volume", "mlflow-artifacts"}


@pytest.mark.parametrize("profile", ["celery", "remote-logs", "email"])
def test_every_profile_is_valid(docker_compose: str, project: Path, profile: str) -> None:
    assert profile in PROFILES
    # Both ways docker-compose 1.29 takes a profile, and with the switches the kit sets for it.
    switches = PROFILE_SWITCHES[profile]
    by_flag = resolved(docker_compose, project, "--profile", profile, **switches)
    by_env = resolved(docker_compose, project, COMPOSE_PROFILES=profile, **switches)
    members = {n for n, s in SERVICES.items() if profile in s.get("profiles", [])}
    assert members, f"profile {profile} adds no service"
    assert members <= set(by_flag["services"]) and members <= set(by_env["services"])
    scheduler_env = by_flag["services"]["airflow-scheduler"]["environment"]
    for variable, value in switches.items():
        assert scheduler_env[SWITCH_TARGETS[variable]] == value


def test_all_profiles_together_are_valid(docker_compose: str, project: Path) -> None:
    switches = {k: v for p in PROFILES for k, v in PROFILE_SWITCHES[p].items()}
    config = resolved(
        docker_compose, project, *sum((["--profile", p] for p in PROFILES), []), **switches
    )
    assert {"redis", "airflow-worker", "remote-logs-check", "mailpit"} <= set(config["services"])


def test_missing_env_is_a_clear_error(docker_compose: str, project: Path) -> None:
    (project / ".env").unlink()
    done = run_config(docker_compose, project)
    assert done.returncode != 0
    assert "is not set; run `kit up --stack compose`" in done.stderr


def test_missing_fernet_key_is_a_clear_error(docker_compose: str, project: Path) -> None:
    env_file = project / ".env"
    kept = [ln for ln in env_file.read_text().splitlines() if not ln.startswith("KIT_FERNET_KEY=")]
    env_file.write_text("\n".join(kept) + "\n")
    done = run_config(docker_compose, project)
    assert done.returncode != 0
    assert "KIT_FERNET_KEY is not set" in done.stderr


def test_secrets_reach_every_airflow_process(docker_compose: str, project: Path) -> None:
    config = resolved(docker_compose, project)
    env_file = read_env_file(project / ".env")
    for name in AIRFLOW_SERVICES:
        env = config["services"][name]["environment"]
        assert env["AIRFLOW__CORE__FERNET_KEY"] == env_file["KIT_FERNET_KEY"], name
        assert env["AIRFLOW__API_AUTH__JWT_SECRET"] == env_file["KIT_JWT_SECRET"], name
        assert env["AIRFLOW__API__SECRET_KEY"] == env_file["KIT_API_SECRET_KEY"], name
        password = env_file["KIT_AIRFLOW_DB_PASSWORD"]
        assert (
            env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
            == f"postgresql+psycopg2://airflow:{password}@postgres/airflow"
        ), name
        assert (
            env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"]
            == "http://airflow-apiserver:8080/execution/"
        )
        assert env["AIRFLOW_CONFIG"] == "/opt/airflow/config/airflow.cfg"
    superuser = env_file["POSTGRES_PASSWORD"]
    assert config["services"]["postgres"]["environment"]["POSTGRES_PASSWORD"] == superuser
    assert superuser != password
    mlflow_url = config["services"]["mlflow"]["environment"]["MLFLOW_BACKEND_STORE_URI"]
    assert mlflow_url == (
        f"postgresql+psycopg2://mlflow:{env_file['KIT_MLFLOW_DB_PASSWORD']}@postgres/mlflow"
    )


def all_profiles_config(docker_compose: str, project: Path) -> dict:
    switches = {k: v for p in PROFILES for k, v in PROFILE_SWITCHES[p].items()}
    profiles = sum((["--profile", p] for p in PROFILES), [])
    return resolved(docker_compose, project, *profiles, **switches)


def test_each_service_holds_only_the_secrets_it_needs(docker_compose: str, project: Path) -> None:
    """Which service holds which secret, against kit.stack.secret_map (docs/security.md)."""
    config = all_profiles_config(docker_compose, project)
    env_file = read_env_file(project / ".env")
    values = {sid: env_file[key] for sid, key in secret_map.COMPOSE_ENV_KEYS.items()}
    problems: list[str] = []
    held: dict[str, set[str]] = {}
    for name, svc in config["services"].items():
        places = [(f"env {k}", str(v)) for k, v in (svc.get("environment") or {}).items()]
        command = svc.get("command") or []
        places += [(f"command[{i}]", str(arg)) for i, arg in enumerate(command)]
        entry = secret_map.holder("compose", name)
        problems += [str(f) for f in secret_map.findings(name, places, values, entry.secrets)]
        held[name] = {sid for sid in values if any(values[sid] in text for _, text in places)}
        assert "env_file" not in svc, f"{name}: env_file hands it every key of .env"
    assert not problems, "\n".join(problems)
    # Where task code runs: neither the admin's nor the superuser's password.
    for name in ("airflow-scheduler", "airflow-worker", "airflow-triggerer"):
        assert not held[name] & {"admin-password", "postgres-superuser", "mlflow-db"}, name
        assert not held[name] & {"mlflow-admin", "mlflow-secret-key"}, name
    # The tasks' MLflow login only where tasks run.
    assert "mlflow-service" in held["airflow-scheduler"] & held["airflow-worker"]
    assert "mlflow-service" not in held["airflow-triggerer"] | held["airflow-dag-processor"]
    assert held["airflow-init"] >= {"admin-password", "postgres-superuser"}
    # MLflow: its database, and the accounts it makes at start (then runs without them).
    assert held["mlflow"] == {"mlflow-db", "mlflow-admin", "mlflow-service", "mlflow-secret-key"}
    assert held["airflow-apiserver"] == set(secret_map.AIRFLOW_COMPONENT)


# ---------------------------------------------------------------- one source of truth


def test_compose_repeats_no_setting_of_airflow_cfg() -> None:
    cfg = airflow_cfg()
    seen = 0
    for name, svc in SERVICES.items():
        for key, value in (svc.get("environment") or {}).items():
            match = ENV_KEY.match(key)
            if not match:
                continue
            section, option = match.group(1).lower(), match.group(2).lower()
            if not cfg.has_option(section, option):
                continue
            seen += 1
            # Only a profile switch may name a setting of airflow.cfg, defaulting to its value.
            switch = re.fullmatch(r"\$\{(KIT_[A-Z_]+):-(.*)\}", str(value))
            assert switch, f"{name}: {key}={value!r} repeats [{section}] {option} of airflow.cfg"
            assert switch.group(1) in CFG_SWITCHES, f"{name}: {key} uses {switch.group(1)}"
            assert switch.group(2) == cfg.get(section, option), (
                f"{name}: {key} defaults to {switch.group(2)!r}, "
                f"airflow.cfg says {cfg.get(section, option)!r}"
            )
    assert seen > 0  # the switches are there, so the loop above did check something


def test_unset_switches_resolve_to_airflow_cfg(docker_compose: str, project: Path) -> None:
    cfg = airflow_cfg()
    config = resolved(docker_compose, project)
    for name in AIRFLOW_SERVICES:
        for key, value in config["services"][name]["environment"].items():
            match = ENV_KEY.match(key)
            if match and cfg.has_option(match.group(1).lower(), match.group(2).lower()):
                assert value == cfg.get(match.group(1).lower(), match.group(2).lower()), key


def test_generated_env_holds_no_airflow_setting(project: Path) -> None:
    keys = read_env_file(project / ".env")
    assert keys and not [k for k in keys if k.startswith("AIRFLOW__")]


# ---------------------------------------------------------------- security


def test_published_ports_listen_on_loopback_by_default(docker_compose: str, project: Path) -> None:
    published = 0
    for name, svc in SERVICES.items():
        for port in svc.get("ports", []):
            published += 1
            assert str(port).startswith("${KIT_BIND_ADDRESS:-127.0.0.1}:"), (name, port)
    assert published >= 3  # api-server, mlflow, mailpit
    config = resolved(docker_compose, project, *sum((["--profile", p] for p in PROFILES), []))
    for name, svc in config["services"].items():
        for port in svc.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), (name, port)
    api = config["services"]["airflow-apiserver"]["ports"]
    assert api == ["127.0.0.1:8080:8080/tcp"]
    assert config["services"]["mlflow"]["ports"] == ["127.0.0.1:5000:5000/tcp"]
    # The database and the broker are reachable from the project's containers only.
    assert "ports" not in SERVICES["postgres"] and "ports" not in SERVICES["redis"]


def test_no_secret_literal_in_compose_file(project: Path) -> None:
    text = (REPO / COMPOSE_FILE).read_text()
    for literal in ("your-secret-key-here", "airflow:airflow@", "FERNET_KEY: ''", "sk_live", "SG."):
        assert literal not in text, literal
    # Every password in a URL is a variable.
    for url_password in re.findall(r"://[^:/\s@]+:([^@\s]+)@", text):
        assert url_password.startswith("${"), url_password
    # Every secret-like variable gets its value from a variable, never a literal.
    secret_name = re.compile(r"(PASSWORD|SECRET|_KEY)$")
    for name, svc in SERVICES.items():
        for key, value in (svc.get("environment") or {}).items():
            if secret_name.search(key):
                assert str(value).startswith("${"), f"{name}: {key} is a literal"
    # And none of this installation's real secrets ended up in the file.
    for key, value in read_env_file(project / ".env").items():
        if key.startswith(("KIT_", "POSTGRES_")):
            assert value not in text, key


def test_every_service_is_in_the_secret_map() -> None:
    placed = {h.name for h in secret_map.HOLDERS if h.stack == "compose"}
    assert set(SERVICES) <= placed, f"not in kit/stack/secret_map.py: {set(SERVICES) - placed}"


def test_the_admin_is_made_in_init_with_the_password_on_stdin() -> None:
    script = "\n".join(SERVICES["airflow-init"]["command"])
    assert "/entrypoint airflow db migrate" in script
    # The roles and databases before the migration, which logs in as the `airflow` role.
    assert script.index("-m kit.stack.db_roles") < script.index("airflow db migrate")
    # FAB's user, made after the migration; the password piped by a shell builtin, never in argv.
    made = next(line.strip() for line in script.splitlines() if "kit.stack.fab_admin" in line)
    assert made.startswith("printf '%s\\n' \"$${KIT_ADMIN_PASSWORD}\" | /entrypoint python -m")
    assert made.endswith("kit.stack.fab_admin admin")
    assert script.index("airflow db migrate") < script.index("kit.stack.fab_admin")
    # Only airflow-init holds the admin password; no service keeps a password file any more.
    holders = {n for n, s in SERVICES.items() if "KIT_ADMIN_PASSWORD" in s.get("environment", {})}
    assert holders == {"airflow-init"}
    assert "SIMPLE_AUTH_MANAGER" not in (REPO / COMPOSE_FILE).read_text()


# ---------------------------------------------------------------- shape


def test_every_airflow_service_shares_the_common_block() -> None:
    common = compose_model()["x-airflow-common"]
    assert common["user"] == "${AIRFLOW_UID:-50000}:0"
    # No env_file: it would hand every service every secret of .env (docs/security.md).
    assert "env_file" not in common
    assert len(LONG_RUNNING_AIRFLOW) >= 5
    for name in AIRFLOW_SERVICES:
        svc = SERVICES[name]
        assert "env_file" not in svc, name
        assert set(common["volumes"]) <= set(svc["volumes"]), name
        for key in common["environment"]:
            assert key in svc["environment"], (name, key)
        if name != "airflow-init":
            assert svc["user"] == common["user"], name
            deps = svc["depends_on"]
            assert deps["postgres"] == {"condition": "service_healthy"}, name
            assert deps["airflow-init"] == {"condition": "service_completed_successfully"}, name
    assert SERVICES["airflow-init"]["depends_on"]["postgres"] == {"condition": "service_healthy"}
    assert SERVICES["mlflow"]["depends_on"]["postgres"] == {"condition": "service_healthy"}


def test_commands_and_health_checks() -> None:
    commands = {name: SERVICES[name].get("command") for name in SERVICES}
    assert commands["airflow-apiserver"] == "api-server"
    assert commands["airflow-scheduler"] == ["python", "-m", "kit.stack.warm_start", "scheduler"]
    assert commands["airflow-dag-processor"] == "dag-processor"
    assert commands["airflow-triggerer"] == "triggerer"
    seed_timing = {"interval": "30s", "timeout": "10s", "retries": 5, "start_period": "30s"}
    api, scheduler = SERVICES["airflow-apiserver"], SERVICES["airflow-scheduler"]
    for svc in (api, scheduler):
        assert {k: svc["healthcheck"][k] for k in seed_timing} == seed_timing
    assert "http://localhost:8080/api/v2/monitor/health" in api["healthcheck"]["test"]
    assert "http://localhost:8974/health" in scheduler["healthcheck"]["test"]
    # The command-line checks keep the seed's interval, retries and start period; their timeout
    # leaves room for the command's imports on a busy machine.
    for name in ("airflow-dag-processor", "airflow-triggerer"):
        check = SERVICES[name]["healthcheck"]
        job = {"airflow-dag-processor": "DagProcessorJob", "airflow-triggerer": "TriggererJob"}
        # Airflow's `jobs check` of this container's own job, through the kit's lean import.
        assert check["test"][1] == (
            f'python -m kit.stack.job_check --job-type {job[name]} --hostname "$${{HOSTNAME}}"'
        ), name
        assert {k: check[k] for k in seed_timing} == {**seed_timing, "timeout": "60s"}, name
    postgres = SERVICES["postgres"]
    # The official image unless pointed at a stand-in (scripts/build-images.sh).
    assert postgres["image"] == "${KIT_POSTGRES_IMAGE:-postgres:15}"
    assert postgres["healthcheck"]["test"] == ["CMD", "pg_isready", "-U", "postgres"]
    assert postgres["environment"]["POSTGRES_USER"] == "postgres"  # the superuser, not airflow
    assert {k: postgres["healthcheck"][k] for k in ("interval", "retries", "start_period")} == {
        "interval": "10s",
        "retries": 5,
        "start_period": "5s",
    }
    assert "postgres-db-volume:/var/lib/postgresql/data" in postgres["volumes"]
    for name in LONG_RUNNING_AIRFLOW + ["mlflow", "postgres"]:
        assert "healthcheck" in SERVICES[name], name


def test_mlflow_uses_postgres_and_serves_artifacts() -> None:
    mlflow = SERVICES["mlflow"]
    assert "--serve-artifacts" in mlflow["command"]
    env = mlflow["environment"]
    assert env["MLFLOW_BACKEND_STORE_URI"].startswith(
        "postgresql+psycopg2://mlflow:${KIT_MLFLOW_DB"
    )
    assert env["MLFLOW_BACKEND_STORE_URI"].endswith("@postgres/mlflow")
    assert "mlflow-artifacts:/mlflow/artifacts" in mlflow["volumes"]
    # Tasks call it by its service name, which MLflow's host check must accept.
    assert "mlflow:*" in env["MLFLOW_SERVER_ALLOWED_HOSTS"].split(",")
    assert compose_model()["x-airflow-common"]["environment"]["MLFLOW_TRACKING_URI"] == (
        "http://mlflow:5000"
    )
    # Tasks' MLflow clients send no telemetry, as on the native stack (its race killed a notebook).
    assert compose_model()["x-airflow-common"]["environment"]["MLFLOW_DISABLE_TELEMETRY"] == "true"


def test_mlflow_has_logins_and_only_the_services_running_tasks_hold_the_service_account() -> None:
    mlflow = SERVICES["mlflow"]
    script = "\n".join(mlflow["entrypoint"])
    # The config file written from the environment, then the accounts and the basic-auth app
    # started without the two passwords in the server's environment.
    assert "python -m kit.stack.mlflow_server --write-config" in script
    assert "exec env -u KIT_MLFLOW_ADMIN_PASSWORD -u KIT_MLFLOW_SERVICE_PASSWORD" in script
    assert 'python -m kit.stack.mlflow_server "$$@"' in script
    env = mlflow["environment"]
    assert env["MLFLOW_AUTH_CONFIG_PATH"].startswith("/tmp/")  # in the container, no volume
    for key, source in (
        ("MLFLOW_FLASK_SERVER_SECRET_KEY", "KIT_MLFLOW_SECRET_KEY"),
        ("KIT_MLFLOW_ADMIN_PASSWORD", "KIT_MLFLOW_ADMIN_PASSWORD"),
        ("KIT_MLFLOW_SERVICE_PASSWORD", "KIT_MLFLOW_SERVICE_PASSWORD"),
    ):
        assert env[key].startswith(f"${{{source}:?"), key  # a missing one is an error
    holders = {
        name
        for name, svc in SERVICES.items()
        if "MLFLOW_TRACKING_PASSWORD" in (svc.get("environment") or {})
    }
    assert holders == {"airflow-scheduler", "airflow-worker"}
    for name in holders:
        task_env = SERVICES[name]["environment"]
        assert task_env["MLFLOW_TRACKING_USERNAME"] == "kit-tasks"
        assert task_env["MLFLOW_TRACKING_PASSWORD"].startswith("${KIT_MLFLOW_SERVICE_PASSWORD:?")


def test_celery_worker_is_scalable_and_checks_the_executor() -> None:
    worker = SERVICES["airflow-worker"]
    assert worker["profiles"] == ["celery"]
    assert "container_name" not in worker and "ports" not in worker  # --scale needs both absent
    assert "CeleryExecutor" in "\n".join(worker["command"])
    assert "exec python -m kit.stack.warm_start celery worker" in worker["command"][-1]
    assert worker["depends_on"]["redis"] == {"condition": "service_healthy"}
    common_env = compose_model()["x-airflow-common"]["environment"]
    assert common_env["AIRFLOW__CELERY__BROKER_URL"] == "redis://redis:6379/0"


def test_remote_logs_and_email_settings() -> None:
    env = compose_model()["x-airflow-common"]["environment"]
    assert (
        env["AIRFLOW__LOGGING__REMOTE_BASE_LOG_FOLDER"]
        == "${KIT_REMOTE_LOG_FOLDER:-s3://airflow-logs/}"
    )
    conn = env["AIRFLOW_CONN_" + env["AIRFLOW__LOGGING__REMOTE_LOG_CONN_ID"].upper()]
    assert '"conn_type": "aws"' in conn and "${KIT_S3_ENDPOINT_URL" in conn
    assert "sendgrid" in env["AIRFLOW_CONN_SENDGRID_DEFAULT"]
    text = (REPO / COMPOSE_FILE).read_text()
    assert "KIT_EMAIL_BACKEND=airflow.providers.sendgrid.utils.emailer.send_email" in text
    assert "_PIP_ADDITIONAL_REQUIREMENTS: ${_PIP_ADDITIONAL_REQUIREMENTS:-}" in text


def test_long_running_services_follow_profiles(tmp_path: Path) -> None:
    base = ComposeStack(REPO, tmp_path, profiles=(), cli=["docker-compose"]).long_running_services()
    celery = ComposeStack(REPO, tmp_path, profiles=["celery"], cli=["docker-compose"])
    assert "airflow-worker" not in base and "airflow-init" not in base
    assert {"airflow-worker", "redis"} <= set(celery.long_running_services())


# ---------------------------------------------------------------- files it refers to


# The bundle repository (kit.bundle): in the state folder, made by `kit up` (ensure_bundle)
# before the containers start, mounted read-only.
BUNDLE_MOUNT = "${KIT_BUNDLE_REPO:-./.kit/bundle.git}:/opt/airflow/bundle.git:ro"


def _host_paths() -> set[str]:
    prefix = "${AIRFLOW_PROJ_DIR:-.}/"
    paths = set()
    for svc in SERVICES.values():
        for volume in map(str, svc.get("volumes", [])):
            if volume == BUNDLE_MOUNT:
                continue
            if volume.startswith(prefix):
                paths.add(volume.removeprefix(prefix).split(":", 1)[0])
            else:
                source = volume.split(":", 1)[0]
                assert source in compose_model()["volumes"], f"{volume}: not under AIRFLOW_PROJ_DIR"
    return paths


def test_bind_mounts_exist_or_are_created_by_the_kit(tmp_path: Path) -> None:
    paths = _host_paths()
    assert paths == set(BIND_MOUNTED_DIRS)
    assert (REPO / "config" / "airflow.cfg").is_file()
    # logs/ is a run-time folder; everything else is part of the repository.
    assert {p for p in paths if not (REPO / p).is_dir()} <= {"logs"}
    created = ensure_host_dirs(tmp_path)
    assert {p.name for p in created} == paths and all((tmp_path / p).is_dir() for p in paths)
    assert ensure_host_dirs(tmp_path) == []


def test_build_files_exist() -> None:
    build = compose_model()["x-kit-image"]["build"]
    assert (REPO / build["context"] / build["dockerfile"]).is_file()
    image = compose_model()["x-kit-image"]["image"]
    assert image.endswith(":" + lock_pins()["apache-airflow"] + "}")
