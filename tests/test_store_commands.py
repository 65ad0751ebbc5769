"""`python -m bot.store` commands, run as a user runs them, against SQLite and PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import MetaData, func, select

from bot.store.db import get_engine, session_scope
from bot.store.migrate import head_revision
from bot.store.models import AuditEntry, Case, StaffUser, events
from bot.store.users import authenticate
from tests.console import seed
from tests.console.fixtures import ROOT, fresh_postgresql

pytest_plugins = ["tests.console.fixtures"]


def run(url: str, *args: str, **env: str) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k not in ("CONSOLE_ADMIN_PASSWORD", "RETENTION_DAYS")}
    return subprocess.run([sys.executable, "-m", "bot.store", *args], cwd=ROOT, capture_output=True, text=True,
                          env={**environment, "DATABASE_URL": url, **env}, stdin=subprocess.DEVNULL, timeout=120)


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database: nothing migrated yet."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'var' / 'rasa.db'}"  # var/ does not exist yet either
        yield url
        get_engine(url).dispose()
    else:
        with fresh_postgresql() as url:  # a schema of its own, emptied below
            engine = get_engine(url)
            tables = MetaData()
            tables.reflect(bind=engine)
            tables.drop_all(bind=engine)  # every table, however many migrations there are
            yield url


def test_migrate_then_create_the_first_admin(empty_db: str) -> None:
    refused = run(empty_db, "create-admin", "--username", "alex", CONSOLE_ADMIN_PASSWORD="a long admin password")
    assert refused.returncode == 1 and "migrate" in refused.stderr
    for _ in range(2):  # the setup runs it every time
        migrated = run(empty_db, "migrate")
        assert migrated.returncode == 0 and f"revision {head_revision()}" in migrated.stdout, migrated.stderr

    created = run(empty_db, "create-admin", "--username", "alex", CONSOLE_ADMIN_PASSWORD="a long admin password")
    assert created.returncode == 0, created.stderr
    again = run(empty_db, "create-admin", "--username", "alex", CONSOLE_ADMIN_PASSWORD="a long admin password")
    assert again.returncode == 1 and "already" in again.stderr
    assert run(empty_db, "create-admin", "--username", "alex", "--exists-ok").returncode == 0
    short = run(empty_db, "create-admin", "--username", "sam", CONSOLE_ADMIN_PASSWORD="short")
    assert short.returncode == 1 and "12 characters" in short.stderr
    no_password = run(empty_db, "create-admin", "--username", "sam")  # no terminal to ask in
    assert no_password.returncode == 1 and "CONSOLE_ADMIN_PASSWORD" in no_password.stderr
    with session_scope(empty_db) as session:
        admin = authenticate(session, "alex", "a long admin password")
        assert admin is not None and admin.role == "admin"
        assert session.execute(select(func.count(StaffUser.id))).scalar_one() == 1
        assert session.execute(select(AuditEntry.action)).scalars().all() == ["user_create"]


def test_erase_older_than_uses_the_retention_setting(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'rasa.db'}"
    assert run(url, "migrate").returncode == 0
    engine = get_engine(url)
    seed.store(engine, "two-years", seed.short("old"), start=time.time() - 730 * 86400)
    seed.store(engine, "half-year", seed.short("older"), start=time.time() - 180 * 86400)
    seed.store(engine, "this-week", seed.short("new"), start=time.time() - 3 * 86400)

    def senders() -> set[str]:
        with engine.connect() as connection:
            return set(connection.execute(select(events.c.sender_id).distinct()).scalars())

    default = run(url, "erase-older-than")  # 365 days
    assert default.returncode == 0 and "erased 1 conversation" in default.stdout, default.stderr
    assert senders() == {"half-year", "this-week"}
    from_env = run(url, "erase-older-than", RETENTION_DAYS="90")
    assert from_env.returncode == 0 and "last 90 days" in from_env.stdout
    assert senders() == {"this-week"}
    assert run(url, "erase-older-than", "--days", "1").returncode == 0
    assert senders() == set()
    with session_scope(url) as session:
        assert session.execute(select(func.count(Case.id))).scalar_one() == 0
        actions = session.execute(select(AuditEntry.action)).scalars().all()
        assert actions == ["retention_erase"] * 3
    engine.dispose()


def test_first_admin_is_created_once_and_its_password_works(empty_db: str) -> None:
    assert run(empty_db, "migrate").returncode == 0
    first = run(empty_db, "first-admin")
    assert first.returncode == 0, first.stderr
    password = first.stdout.split("admin / ")[1].split()[0]
    with session_scope(empty_db) as session:
        assert authenticate(session, "admin", password) is not None
    second = run(empty_db, "first-admin")
    assert second.returncode == 0 and "admin /" not in second.stdout
    with session_scope(empty_db) as session:
        assert session.scalar(select(func.count()).select_from(StaffUser)) == 1
