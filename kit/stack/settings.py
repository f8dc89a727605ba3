"""The settings of a stack: folders and ports, from arguments, the environment, or defaults."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from kit.paths import project_dir as find_project_dir

# Environment variable that overrides each port; named in the error when that port is busy.
PORT_SETTINGS = {
    "airflow_port": ("KIT_AIRFLOW_PORT", 8080, "Airflow api-server"),
    "mlflow_port": ("KIT_MLFLOW_PORT", 5000, "MLflow tracking server"),
    "scheduler_health_port": ("KIT_SCHEDULER_HEALTH_PORT", 8974, "scheduler health check"),
    "worker_log_port": ("KIT_WORKER_LOG_PORT", 8793, "task log server"),
    "trigger_log_port": ("KIT_TRIGGER_LOG_PORT", 8794, "triggerer log server"),
}


@dataclass(frozen=True)
class StackSettings:
    """Everything that says where a stack lives and listens. Pure data."""

    project_dir: Path
    state_dir: Path
    dags_dir: Path
    host: str = "127.0.0.1"
    airflow_port: int = 8080
    mlflow_port: int = 5000
    scheduler_health_port: int = 8974
    worker_log_port: int = 8793
    trigger_log_port: int = 8794
    # Fewer pre-forked LocalExecutor workers than the seed's parallelism=32 can be asked for
    # (tests); None keeps config/airflow.cfg's value.
    parallelism: int | None = None
    extra_env: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls, **overrides: object) -> StackSettings:
        """Defaults, then KIT_* environment variables, then explicit (non-None) overrides."""
        root = Path(os.environ.get("KIT_PROJECT_DIR") or find_project_dir()).resolve()
        values: dict[str, object] = {
            "project_dir": root,
            "state_dir": Path(os.environ.get("KIT_STATE_DIR") or root / ".kit").resolve(),
            "dags_dir": Path(os.environ.get("KIT_DAGS_DIR") or root / "dags").resolve(),
        }
        for name, (env, default, _) in PORT_SETTINGS.items():
            values[name] = int(os.environ.get(env, default))
        if host := os.environ.get("KIT_BIND_HOST"):
            values["host"] = host
        values.update({k: v for k, v in overrides.items() if v is not None})
        for key in ("project_dir", "state_dir", "dags_dir"):
            values[key] = Path(values[key]).resolve()  # type: ignore[arg-type]
        return cls(**values)  # type: ignore[arg-type]

    def with_ports(self, **ports: int) -> StackSettings:
        return replace(self, **ports)

    @property
    def config_file(self) -> Path:
        return self.project_dir / "config" / "airflow.cfg"

    @property
    def airflow_home(self) -> Path:
        return self.state_dir / "airflow"

    @property
    def logs_dir(self) -> Path:
        return self.state_dir / "logs"

    @property
    def run_dir(self) -> Path:
        return self.state_dir / "run"

    @property
    def secrets_file(self) -> Path:
        return self.state_dir / "secrets.json"

    @property
    def passwords_file(self) -> Path:
        return self.state_dir / "passwords.json"

    @property
    def mlflow_dir(self) -> Path:
        return self.state_dir / "mlflow"

    @property
    def artifacts_dir(self) -> Path:
        return self.project_dir / "artifacts"

    @property
    def airflow_url(self) -> str:
        return f"http://{self.host}:{self.airflow_port}"

    @property
    def mlflow_url(self) -> str:
        return f"http://{self.host}:{self.mlflow_port}"

    def ports(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name in PORT_SETTINGS}
