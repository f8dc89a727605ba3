"""A Redis server of the kit's own, the Celery broker: loopback only, a password, no persistence.

Its configuration is generated into ``<state>/redis/redis.conf`` (mode 0600, since it holds the
``requirepass``) and passed as the only argument, so the password is never on a command line.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from urllib.parse import quote

from kit.stack.base import StackError
from kit.stack.health import Probe
from kit.stack.secrets import StackSecrets, write_private
from kit.stack.settings import StackSettings


class RedisServer:
    """The stack's Redis broker (Celery shape): its config, command and probe."""

    def __init__(self, settings: StackSettings, secrets: StackSecrets) -> None:
        self.settings = settings
        self._password = secrets.redis_password

    @property
    def config_file(self) -> Path:
        """The server's config file in its folder."""
        return self.settings.redis_dir / "redis.conf"

    def url(self, db: int = 0) -> str:
        """The broker URL with the password in it: environment only, never printed."""
        settings = self.settings
        return (
            f"redis://:{quote(self._password, safe='')}@{settings.host}:{settings.redis_port}/{db}"
        )

    def write_config(self) -> None:
        """Write its config (loopback, password, nothing kept on disk) to its private folder."""
        folder = self.settings.redis_dir
        folder.mkdir(parents=True, exist_ok=True)
        os.chmod(folder, 0o700)
        lines = [
            f"bind {self.settings.host}",
            f"port {self.settings.redis_port}",
            "protected-mode yes",
            f"requirepass {self._password}",
            "daemonize no",
            'logfile ""',  # stdout, which the kit sends to logs/redis.log
            f"dir {folder}",
            # A broker for one machine's task queue: nothing worth keeping across restarts.
            'save ""',
            "appendonly no",
        ]
        write_private(self.config_file, "\n".join(lines) + "\n")

    def command(self) -> list[str]:
        """The command line of redis-server; StackError naming the package when it is missing."""
        server = shutil.which("redis-server") or "/usr/bin/redis-server"
        if not Path(server).exists():
            raise StackError(
                "redis-server is not installed: install the Debian package redis-server "
                "(scripts/install-system-deps.sh does, as root)."
            )
        self.write_config()
        return [server, str(self.config_file)]

    def environment(self) -> dict[str, str]:
        """The few variables redis-server runs with."""
        keep = ("PATH", "LANG", "LC_ALL", "TZ")
        return {k: os.environ[k] for k in keep if k in os.environ}

    def probe(self) -> Probe:
        """A health probe: healthy when Redis answers a PING with the password."""

        def check() -> str | None:
            import redis

            client = redis.Redis(
                host=self.settings.host,
                port=self.settings.redis_port,
                password=self._password,
                socket_timeout=2,
                socket_connect_timeout=2,
            )
            try:
                return None if client.ping() else "no PONG"
            except redis.RedisError as exc:
                return f"not answering ({type(exc).__name__})"
            finally:
                client.close()

        return check
