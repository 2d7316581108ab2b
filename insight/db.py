"""Engine and session factory. Nothing is created at import time."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.pool import QueuePool
from sqlmodel import Session

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "models" / "migrations"


# Execution option that marks a write transaction (SQLite: BEGIN IMMEDIATE); ignored by other databases.
WRITE_OPTION = "insight_write"

SQLITE_POOL_SIZE = 16
SQLITE_POOL_OVERFLOW = 48
SQLITE_MMAP_BYTES = 256 * 1024 * 1024
SERVER_POOL_SIZE = 10
SERVER_POOL_OVERFLOW = 20


def make_engine(
    url: str,
    *,
    echo: bool = False,
    pool_size: int | None = None,
    max_overflow: int | None = None,
    pool_timeout_s: float = 30.0,
) -> Engine:
    """Create the engine for ``url``: SQLite in WAL mode with a busy timeout, or PostgreSQL with pre-ping.

    ``pool_size`` / ``max_overflow`` default to 16 / 48 for SQLite and 10 / 20 for a database server.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            echo=echo,
            connect_args={"check_same_thread": False, "timeout": 30},
            # A pool of connections, each used by one thread at a time: opening a connection and setting its
            # pragmas costs more than most reads, so connections are kept. The pool is sized for the API's
            # request threads plus the embedded worker; past it a thread waits for a connection to come back.
            poolclass=QueuePool,
            pool_size=SQLITE_POOL_SIZE if pool_size is None else pool_size,
            max_overflow=SQLITE_POOL_OVERFLOW if max_overflow is None else max_overflow,
            pool_timeout=pool_timeout_s,
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA foreign_keys=ON")
            # Reads go through the OS page cache (memory-mapped) instead of copying every page per connection.
            cur.execute(f"PRAGMA mmap_size={SQLITE_MMAP_BYTES}")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            # Write transactions (session_scope) take the write lock up front with BEGIN IMMEDIATE, so two writers
            # wait on busy_timeout instead of one failing with "database is locked" when it upgrades a read
            # transaction. Read-only sessions use a deferred BEGIN and never block writers (WAL).
            immediate = conn.get_execution_options().get(WRITE_OPTION, False)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

        # pysqlite's own transaction handling would emit a deferred BEGIN; we emit ours in "begin".
        @event.listens_for(engine, "connect")
        def _sqlite_no_autobegin(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None

        return engine
    return create_engine(
        url,
        echo=echo,
        pool_pre_ping=True,
        pool_size=SERVER_POOL_SIZE if pool_size is None else pool_size,
        max_overflow=SERVER_POOL_OVERFLOW if max_overflow is None else max_overflow,
        pool_timeout=pool_timeout_s,
    )


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A write session whose transaction commits on success and rolls back on error."""
    with Session(engine.execution_options(**{WRITE_OPTION: True}), expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def migrate(engine: Engine) -> None:
    """Bring the schema to the latest Alembic revision (idempotent; safe to call at every start-up)."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
