"""Alembic environment: uses the connection handed over by ``insight.db.migrate`` or ``INSIGHT_DATABASE_URL``."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection
from sqlmodel import SQLModel

import models  # noqa: F401  (registers every table on the metadata)

target_metadata = SQLModel.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    from insight.db import make_engine
    from insight.settings import get_settings

    engine = make_engine(get_settings().resolved_database_url)
    with engine.begin() as conn:
        _run(conn)


run_migrations_online()
