"""A throwaway PostgreSQL server: Debian's binaries on 127.0.0.1, a free port, a temp directory.

The demo's OrdersPg sample needs a real database. ``running()`` runs ``initdb`` and ``postgres``
(``postgresql`` package; ``scripts/ensure-db-servers`` installs it) with the data directory and
the Unix socket in a temporary directory, listening on 127.0.0.1 only, and stops the server by
its own pid at the end. PostgreSQL refuses to run as root: under root it runs as the
``postgres`` user the Debian package creates (``setpriv`` execs in place, so the pid is the
server's). The tests' session server (tests/db_servers.py) is this one too.
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

#: where Debian puts the server binaries (not on PATH): /usr/lib/postgresql/<major>/bin
DEBIAN_BIN = "/usr/lib/postgresql/*/bin"
INSTALL_HINT = "scripts/ensure-db-servers installs it"


class PostgresUnavailable(Exception):
    """PostgreSQL is not installed, or its server did not start (the message says which)."""


@dataclass(frozen=True)
class Postgres:
    host: str
    port: int
    user: str
    password: str
    database: str

    def environment(self, database: Optional[str] = None) -> dict[str, str]:
        """libpq's ``PG*`` variables for a client of ``database`` (default: the server's)."""
        return {"PGHOST": self.host, "PGPORT": str(self.port), "PGUSER": self.user,
                "PGPASSWORD": self.password, "PGDATABASE": database or self.database}


def find_initdb(search: str = DEBIAN_BIN) -> Optional[str]:
    """``initdb`` on PATH or in Debian's versioned directory (the newest), else None."""
    found = shutil.which("initdb")
    if found:
        return found
    matches = sorted(glob.glob(os.path.join(search, "initdb")))
    return matches[-1] if matches else None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, proc: subprocess.Popen[bytes], log: Path, what: str) -> None:
    """Until something listens on ``port``; raises with the log's tail if ``proc`` dies first."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise PostgresUnavailable(f"{what} exited: {_tail(log)}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise PostgresUnavailable(f"{what} did not listen on {port}: {_tail(log)}")


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def as_postgres(argv: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return argv
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        raise PostgresUnavailable("running as root needs setpriv (util-linux) to drop to postgres")
    return [setpriv, "--reuid=postgres", "--regid=postgres", "--init-groups", *argv]


@contextmanager
def running(initdb: Optional[str] = None, user: str = "app",
            password: str = "pg-local-password") -> Iterator[Postgres]:
    """A PostgreSQL server for as long as the block runs."""
    initdb = initdb or find_initdb()
    if initdb is None:
        raise PostgresUnavailable(f"PostgreSQL is not installed ({INSTALL_HINT})")
    server_binary = str(Path(initdb).resolve().parent / "postgres")
    root = Path(tempfile.mkdtemp(prefix="lt-pg-"))
    try:
        data = root / "data"
        password_file = root / "pw"
        password_file.write_text(password + "\n")
        if os.geteuid() == 0:
            shutil.chown(root, "postgres", "postgres")
            shutil.chown(password_file, "postgres", "postgres")
        done = subprocess.run(
            as_postgres([initdb, "-D", str(data), "-U", user, "-A", "scram-sha-256",
                         f"--pwfile={password_file}", "--no-sync"]),
            capture_output=True, timeout=120,
        )
        if done.returncode != 0:
            tail = (done.stdout + done.stderr).decode(errors="replace")[-2000:]
            raise PostgresUnavailable(f"initdb failed ({done.returncode}): {tail}")
        port = free_port()
        log = root / "postgres.log"
        with open(log, "wb") as out:
            proc = subprocess.Popen(
                as_postgres([server_binary, "-D", str(data), "-p", str(port), "-h", "127.0.0.1",
                             "-k", str(root), "-c", "fsync=off", "-c", "max_connections=50"]),
                stdout=out, stderr=subprocess.STDOUT,
            )
        try:
            wait_for_port(port, proc, log, "postgres")
            server = Postgres("127.0.0.1", port, user, password, "postgres")
            _wait_until_ready(server)
            yield server
        finally:
            stop(proc)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def create_database(server: Postgres, name: str, sql: str = "") -> None:
    """A new database ``name`` on ``server``, with ``sql`` (a schema and its data) run in it."""
    import psycopg2

    admin = psycopg2.connect(**_args(server, server.database))
    try:
        admin.autocommit = True
        with admin.cursor() as cur:
            cur.execute(f'CREATE DATABASE "{name}"')
    finally:
        admin.close()
    if sql:
        conn = psycopg2.connect(**_args(server, name))
        try:
            with conn, conn.cursor() as cur:
                cur.execute(sql)
        finally:
            conn.close()


def _args(server: Postgres, database: str) -> dict[str, object]:
    return {"host": server.host, "port": server.port, "user": server.user,
            "password": server.password, "dbname": database, "connect_timeout": 5}


def _wait_until_ready(server: Postgres) -> None:
    """Until a client can log in (the port opens before authentication works)."""
    import psycopg2

    deadline = time.monotonic() + 60
    while True:
        try:
            psycopg2.connect(**_args(server, server.database)).close()
            return
        except psycopg2.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def _tail(log: Path) -> str:
    try:
        return log.read_text(errors="replace")[-2000:]
    except OSError:
        return "(no log)"
