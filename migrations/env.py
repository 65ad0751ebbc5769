"""Alembic environment: the console's tables in the database named by DATABASE_URL.

`python -m bot.store migrate` passes an open connection in `config.attributes["connection"]`;
plain `alembic` commands fall back to DATABASE_URL.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from bot.store.db import get_engine
from bot.store.migrate import VERSION_TABLE, include_object
from bot.store.models import metadata


def run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        version_table=VERSION_TABLE,
        include_object=include_object,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying them
    )
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is not None:
    run(connection)
else:
    with get_engine().connect() as fresh:
        run(fresh)
