"""Applying the Alembic migrations (migrations/, alembic.ini at the repository root)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

from bot.store.db import get_engine

ROOT = Path(__file__).resolve().parents[2]
VERSION_TABLE = "console_alembic_version"  # Rasa's database may host other Alembic projects
# Not described by our models: Rasa's table, the search table whose shape depends on the database
# (on SQLite, FTS5 adds shadow tables named case_search_*), and SQLite's AUTOINCREMENT bookkeeping.
NOT_OURS = ("events", "case_search", "sqlite_sequence")


def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    """Alembic's filter: compare and autogenerate only the tables the models describe."""
    table = obj.table.name if type_ in ("index", "column", "foreign_key_constraint", "unique_constraint") else name
    return table not in NOT_OURS and not table.startswith("case_search_")


def alembic_config() -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    return config


def migrate(url: str | None = None) -> str:
    """Bring the schema to the newest revision (a no-op when it is there already); returns that revision."""
    engine = get_engine(url)
    if engine.dialect.name == "sqlite":
        _write_ahead_log(engine)
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    return current_revision(url) or ""


def _write_ahead_log(engine: Engine) -> None:
    """Readers (the console) then never block the writer (Rasa) nor the reverse.

    The mode is stored in the database file, so every process gets it. Switching needs the file
    to itself: if a server holds it open right now, leave the mode for the next run.
    """
    with engine.connect() as connection:
        if connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal":
            return
        try:
            connection.exec_driver_sql("PRAGMA busy_timeout = 1000")
            connection.exec_driver_sql("PRAGMA journal_mode=WAL")
        except OperationalError:
            pass


def current_revision(url: str | None = None) -> str | None:
    with get_engine(url).connect() as connection:
        return MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE}).get_current_revision()


def head_revision() -> str:
    return ScriptDirectory.from_config(alembic_config()).get_current_head() or ""


def is_current(url: str | None = None) -> bool:
    return current_revision(url) == head_revision()
