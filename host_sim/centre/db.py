"""The centre's database, embedded or at scale: SQLite (a file, the default) or
PostgreSQL with PostGIS (`--db postgresql://user@host/dbname`, through psycopg 3).
The centre writes one SQL for both (`?` placeholders, `INSERT ... ON CONFLICT`,
`RETURNING`); where the two must differ (the schema, the breadcrumbs' spatial index)
the caller asks `kind`."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

SQLITE, POSTGRESQL = "sqlite", "postgresql"


def is_url(target: str | Path) -> bool:
    return isinstance(target, str) and target.startswith(("postgresql://", "postgres://"))


def shown(where: str | Path) -> str:
    """A database as messages may show it: a URL's password hidden."""
    return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", str(where))


def sqlite_files(path: Path) -> list[Path]:
    """A SQLite database's files: itself and its write-ahead log's two."""
    return [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]


def target(text: str) -> str | Path:
    """A --db value: a PostgreSQL URL as given, anything else a SQLite file."""
    return text if is_url(text) else Path(text)


class Database:
    """One connection in autocommit; transaction() groups statements."""

    kind: str

    def __init__(self, where: str | Path) -> None:
        if is_url(where):
            import psycopg

            self.kind = POSTGRESQL
            self._pg = psycopg.connect(str(where), autocommit=True)
            self._lite: sqlite3.Connection | None = None
        else:
            self.kind = SQLITE
            self._lite = sqlite3.connect(str(where), check_same_thread=False, isolation_level=None)
            self._lite.execute("PRAGMA journal_mode=WAL")
        self._depth = 0

    def execute(self, sql: str, args: Sequence[Any] = ()) -> Any:
        """A cursor: fetchone(), fetchall(), rowcount, description, iteration."""
        if self._lite is not None:
            return self._lite.execute(sql, args)
        return self._pg.execute(_pg(sql), args) if args else self._pg.execute(sql.encode())

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if self._lite is not None:
            self._lite.executemany(sql, rows)
        else:
            with self._pg.cursor() as cur:
                cur.executemany(_pg(sql), rows)

    def stream(self, sql: str, args: Sequence[Any], size: int) -> Iterator[list[Any]]:
        """A query's rows, size at a time, never all in memory at once (on PostgreSQL a
        server-side cursor: inside a transaction)."""
        if self._lite is not None:
            cur = self._lite.execute(sql, args)
            while rows := cur.fetchmany(size):
                yield rows
            return
        with self._pg.cursor(name="stream") as named:
            named.execute(_pg(sql), args)
            while rows := named.fetchmany(size):
                yield rows

    def next_ids(self, table: str, n: int) -> list[int]:
        """n ids for rows about to be put in table (its `id` column), inside a transaction:
        SQLite's next after the largest (the transaction holds the only writer's lock),
        PostgreSQL's from the column's sequence."""
        if self._lite is not None:
            top: int = self._lite.execute(f"SELECT coalesce(max(id), 0) FROM {table}").fetchone()[0]
            return list(range(top + 1, top + n + 1))
        return [r[0] for r in self._pg.execute(
            f"SELECT nextval(pg_get_serial_sequence('{table}', 'id')) FROM generate_series(1, %s)", (n,))]

    def script(self, sql: str) -> None:
        """Several statements, no parameters (a schema)."""
        if self._lite is not None:
            self._lite.executescript(sql)
        else:
            self._pg.execute(sql.encode())

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All the statements inside, or none of them; nested, the outermost decides."""
        if self._depth:
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        self._depth = 1
        try:
            if self._lite is not None:
                self._lite.execute("BEGIN IMMEDIATE")
                try:
                    yield
                except BaseException:
                    self._lite.execute("ROLLBACK")
                    raise
                self._lite.execute("COMMIT")
            else:
                with self._pg.transaction():
                    yield
        finally:
            self._depth = 0

    def close(self) -> None:
        if self._lite is not None:
            self._lite.close()
        else:
            self._pg.close()


def _pg(sql: str) -> bytes:
    # with parameters, psycopg's placeholders are %s and a literal % is doubled
    return sql.replace("%", "%%").replace("?", "%s").encode()


def errors() -> tuple[type[Exception], ...]:
    """What a database that cannot be opened or read raises, from either kind."""
    import psycopg

    return sqlite3.DatabaseError, psycopg.Error
