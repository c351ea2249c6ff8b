"""Real PostgreSQL, MariaDB and Redis servers for the tests, one of each per test session.

Each runs from Debian's packages (``scripts/ensure-db-servers`` installs them) on 127.0.0.1 and
a free port, with its data in a temporary directory, and is stopped by its own pid. PostgreSQL
and MariaDB refuse to run as root: under root, PostgreSQL runs as the ``postgres`` user the
Debian package creates, and mariadbd is told ``--user=root`` explicitly. Tests fail (not skip)
when a server is not installed.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from lambda_trace.local import postgres
from lambda_trace.local.postgres import free_port

ENSURE = "scripts/ensure-db-servers"


@dataclass
class DBServer:
    system: str
    host: str
    port: int
    user: str
    password: str
    database: str

    @property
    def url(self) -> str:
        scheme = {"postgresql": "postgresql", "mysql": "mysql", "redis": "redis"}[self.system]
        return f"{scheme}://{self.user}:{self.password}@{self.host}:{self.port}/{self.database}"


def _binary(name: str, patterns: tuple[str, ...] = ()) -> str:
    found = shutil.which(name)
    for pattern in patterns:
        if found:
            break
        matches = sorted(glob.glob(pattern))
        found = matches[-1] if matches else None
    if not found:
        pytest.fail(f"{name} is not installed: run {ENSURE}", pytrace=False)
    return found


def _wait_for_port(port: int, proc: subprocess.Popen[bytes], log: Path, what: str) -> None:
    try:
        postgres.wait_for_port(port, proc, log, what)
    except postgres.PostgresUnavailable as exc:
        pytest.fail(str(exc))


_stop = postgres.stop


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[DBServer]:
    with running_postgres() as server:
        yield server


@pytest.fixture(scope="session")
def mariadb_server() -> Iterator[DBServer]:
    with running_mariadb() as server:
        yield server


@pytest.fixture(scope="session")
def redis_server() -> Iterator[DBServer]:
    with running_redis() as server:
        yield server


@contextmanager
def running_postgres() -> Iterator[DBServer]:
    """A PostgreSQL server for as long as the block runs (also used by benchmarks/): the
    package's own (lambda_trace.local.postgres, which the demo uses too)."""
    try:
        with postgres.running(password="pg-test-password") as server:
            yield DBServer("postgresql", server.host, server.port, server.user, server.password,
                           server.database)
    except postgres.PostgresUnavailable as exc:
        pytest.fail(f"{exc}: run {ENSURE}", pytrace=False)


def _wait_until_ready(ping: object) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            ping()  # type: ignore[operator]
            return
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


@contextmanager
def running_mariadb() -> Iterator[DBServer]:
    """A MariaDB server for as long as the block runs."""
    install = _binary("mariadb-install-db", ("/usr/bin/mysql_install_db",))
    mariadbd = _binary("mariadbd", ("/usr/sbin/mariadbd", "/usr/sbin/mysqld"))
    root = Path(tempfile.mkdtemp(prefix="lt-mariadb-"))
    data = root / "data"
    sock = root / "mysqld.sock"
    user_args = ["--user=root"] if os.geteuid() == 0 else []
    # No native AIO: several servers on one machine (parallel test sessions) can exhaust the
    # kernel's aio slots, and InnoDB's bootstrap then fails (io_setup EAGAIN).
    engine_args = ["--innodb-use-native-aio=0", "--innodb-buffer-pool-size=16M"]
    for attempt in range(3):
        done = subprocess.run(
            [install, "--no-defaults", f"--datadir={data}",
             "--auth-root-authentication-method=normal", "--skip-test-db", *user_args,
             *engine_args],
            capture_output=True, timeout=180,
        )
        if done.returncode == 0:
            break
        if attempt == 2:
            tail = (done.stdout + done.stderr).decode(errors="replace")[-2000:]
            raise RuntimeError(f"mariadb-install-db failed ({done.returncode}):\n{tail}")
        shutil.rmtree(data, ignore_errors=True)
        time.sleep(1)
    port = free_port()
    log = root / "mariadb.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [mariadbd, "--no-defaults", f"--datadir={data}", f"--port={port}",
             "--bind-address=127.0.0.1", f"--socket={sock}", f"--pid-file={root / 'pid'}",
             "--skip-log-bin", "--innodb-buffer-pool-size=16M", "--skip-name-resolve",
             "--innodb-use-native-aio=0",
             *user_args],
            stdout=out, stderr=subprocess.STDOUT,
        )
    try:
        _wait_for_port(port, proc, log, "mariadbd")
        server = DBServer("mysql", "127.0.0.1", port, "app", "maria-test-password", "app")
        _wait_until_ready(lambda: _mariadb_setup(sock, server))
        yield server
    finally:
        _stop(proc)
        shutil.rmtree(root, ignore_errors=True)


def _mariadb_setup(sock: Path, server: DBServer) -> None:
    import pymysql

    conn = pymysql.connect(unix_socket=str(sock), user="root", password="")
    try:
        with conn.cursor() as cur:
            cur.execute(f"CREATE DATABASE IF NOT EXISTS {server.database}")
            cur.execute(f"CREATE USER IF NOT EXISTS '{server.user}'@'%' "
                        f"IDENTIFIED BY '{server.password}'")
            cur.execute(f"GRANT ALL ON {server.database}.* TO '{server.user}'@'%'")
        conn.commit()
    finally:
        conn.close()


@contextmanager
def running_redis() -> Iterator[DBServer]:
    """A Redis server for as long as the block runs."""
    binary = _binary("redis-server")
    root = Path(tempfile.mkdtemp(prefix="lt-redis-"))
    port = free_port()
    password = "redis-test-password"
    log = root / "redis.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(root),
             "--save", "", "--appendonly", "no", "--requirepass", password, "--daemonize", "no"],
            stdout=out, stderr=subprocess.STDOUT,
        )
    try:
        _wait_for_port(port, proc, log, "redis-server")
        yield DBServer("redis", "127.0.0.1", port, "default", password, "0")
    finally:
        _stop(proc)
        shutil.rmtree(root, ignore_errors=True)
