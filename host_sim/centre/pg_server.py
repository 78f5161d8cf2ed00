"""A PostgreSQL server of its own, with PostGIS, in a temporary folder: what the
tests and the bench run the centre against. It listens on a Unix socket in that
folder only, so it meets no other server. PostgreSQL refuses to run as root; run
as root, the server runs as the `postgres` user (Debian's package makes it).

    with TempServer() as pg:
        centre = Centre(pg.database("trail"))
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from host_sim.exits import ENVIRONMENT, CliError

DEBS = "postgresql postgresql-15-postgis-3"
_TEMPLATE = "emtag_template"  # PostGIS made once; every new database a copy


def _bin(name: str) -> str:
    found = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), key=lambda p: int(p.parts[-3]))
    if not found:
        raise CliError(f"PostgreSQL is not installed (no {name}): apt-get install -y {DEBS}", ENVIRONMENT)
    return str(found[-1])


class TempServer:
    """durable=False: no fsync (the tests); True: a server's usual durability (the bench)."""

    def __init__(self, durable: bool = False) -> None:
        self.durable = durable
        self.folder = Path(tempfile.mkdtemp(prefix="emtag-pg-"))
        self._as = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

    def _run(self, *cmd: str) -> None:
        done = subprocess.run([*self._as, *cmd], capture_output=True, text=True, timeout=120)
        if done.returncode:
            raise CliError(f"PostgreSQL: {' '.join(cmd[:2])} failed: {(done.stderr or done.stdout).strip()}",
                           ENVIRONMENT)

    def start(self) -> TempServer:
        data = self.folder / "data"
        if self._as:
            shutil.chown(self.folder, "postgres")
        self._run(_bin("initdb"), "-D", str(data), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync")
        options = f"-c listen_addresses='' -c unix_socket_directories='{self.folder}'"
        if not self.durable:
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        self._run(_bin("pg_ctl"), "start", "-w", "-D", str(data), "-l", str(self.folder / "server.log"),
                  "-o", options)
        self._sql("postgres", f"CREATE DATABASE {_TEMPLATE}")
        self._sql(_TEMPLATE, "CREATE EXTENSION postgis")
        return self

    def url(self, name: str) -> str:
        return f"postgresql://postgres@/{name}?host={self.folder}"

    def _sql(self, database: str, sql: str) -> None:
        import psycopg

        with psycopg.connect(self.url(database), autocommit=True) as conn:
            conn.execute(sql.encode())

    def database(self, name: str, like: str = _TEMPLATE) -> str:
        """A new, empty database (PostGIS in it), or a copy of another of this server's; its URL."""
        self._sql("postgres", f'CREATE DATABASE "{name}" TEMPLATE "{like}"')
        return self.url(name)

    def stop(self) -> None:
        if (self.folder / "data" / "postmaster.pid").exists():
            self._run(_bin("pg_ctl"), "stop", "-D", str(self.folder / "data"), "-m", "immediate")
        shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> TempServer:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc: object) -> None:
        self.stop()
