"""Fixtures for the store and console tests: real databases and the real console over HTTP.

Loaded by the test modules with `pytest_plugins = ["tests.console.fixtures"]`.

PostgreSQL: CONSOLE_TEST_PG_URL (default postgresql://postgres@127.0.0.1:5432/test). Each test
gets its own schema, dropped afterwards, so runs never see each other's rows. Unreachable
PostgreSQL skips those tests locally and fails them in CI (CI=true).
"""

from __future__ import annotations

import os
import re
import secrets
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import pytest
import requests
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import SQLAlchemyError

from bot.store import record_case
from bot.store.cases import case_for
from bot.store.db import get_engine, session_scope
from bot.store.migrate import migrate
from bot.store.sync import sync_events
from bot.store.users import create_user
from tests.conftest import IN_CI, free_port, serving
from tests.console import seed

ROOT = Path(__file__).resolve().parents[2]
PG_URL = os.environ.get("CONSOLE_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
PASSWORD = "correct horse battery staple"  # every test user's
ROLES = ("receptionist", "clinician", "admin")
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@lru_cache(maxsize=1)
def pg_reachable() -> bool:
    try:
        engine = create_engine(PG_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        engine.dispose()
        return True
    except SQLAlchemyError:
        return False


def fresh_sqlite(directory: Path) -> str:
    url = f"sqlite:///{directory / 'rasa.db'}"
    migrate(url)
    return url


@contextmanager
def fresh_postgresql() -> Iterator[str]:
    """A migrated, empty schema of its own in the test database."""
    if not pg_reachable():
        if IN_CI:
            pytest.fail(f"PostgreSQL is not reachable at {PG_URL} (CI must test it)")
        pytest.skip(f"PostgreSQL is not reachable at {PG_URL}")
    schema = f"console_test_{secrets.token_hex(5)}"
    admin = create_engine(PG_URL)
    with admin.begin() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    url = str(make_url(PG_URL).update_query_dict({"options": f"-csearch_path={schema}"}))
    try:
        migrate(url)
        yield url
    finally:
        get_engine(url).dispose()
        with admin.begin() as connection:
            connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A freshly migrated database: SQLite, then PostgreSQL."""
    if request.param == "sqlite":
        url = fresh_sqlite(tmp_path)
        yield url
        get_engine(url).dispose()
    else:
        with fresh_postgresql() as url:
            yield url


@pytest.fixture
def engine(db_url: str) -> Engine:
    return get_engine(db_url)


@dataclass
class Console:
    """The console running as `python -m bot.console` on a free port, over a SQLite file."""

    base: str
    db_url: str
    log: Path
    sessions: dict[str, requests.Session] = field(default_factory=dict)

    @property
    def engine(self) -> Engine:
        return get_engine(self.db_url)

    def url(self, path: str) -> str:
        return self.base + path

    def login(self, username: str, password: str = PASSWORD, http: requests.Session | None = None,
              **headers: str) -> requests.Response:
        http = http or requests.Session()
        form = http.get(self.url("/login"), timeout=10)
        return http.post(self.url("/login"), data={"username": username, "password": password,
                                                    "csrf": csrf_in(form.text), "next": "/inbox"},
                         headers=headers, allow_redirects=False, timeout=10)

    def as_role(self, role: str) -> requests.Session:
        """A signed-in browser session for the test user with this role (its username is the role)."""
        if role not in self.sessions:
            http = requests.Session()
            response = self.login(role, http=http)
            assert response.status_code == 303, response.text
            self.sessions[role] = http
        return self.sessions[role]

    def csrf(self, http: requests.Session, path: str = "/inbox") -> str:
        return csrf_in(http.get(self.url(path), timeout=10).text)


def csrf_in(page: str) -> str:
    found = CSRF.search(page)
    assert found, "no CSRF token on the page"
    return found.group(1)


def add_users(url: str, *names: str) -> None:
    with session_scope(url) as session:
        for name in names:
            create_user(session, name, PASSWORD, name if name in ROLES else "receptionist")


@contextmanager
def running_console(url: str, workdir: Path) -> Iterator[Console]:
    """`python -m bot.console` on a free port over the database at url, with a user for each role."""
    add_users(url, *ROLES)
    port = free_port()
    env = dict(os.environ, DATABASE_URL=url, CONSOLE_PORT=str(port), CONSOLE_SECRET=secrets.token_urlsafe(32),
               CONSOLE_TIMEZONE="Europe/London", CONSOLE_PROXIES_COUNT="1", PYTHONDONTWRITEBYTECODE="1")
    server = Console(f"http://127.0.0.1:{port}", url, workdir / "serve.log")
    try:
        with serving([sys.executable, "-m", "bot.console"], env, workdir, [server.url("/login")]):
            yield server
    finally:
        get_engine(url).dispose()


@pytest.fixture(scope="session")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Console]:
    workdir = tmp_path_factory.mktemp("console")
    with running_console(fresh_sqlite(workdir), workdir) as server:
        yield server


@pytest.fixture(params=["sqlite", "postgresql"], scope="module")
def console_each_db(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Console]:
    """A console of the module's own on a fresh SQLite file, then on a fresh PostgreSQL schema."""
    workdir = tmp_path_factory.mktemp(f"console-{request.param}")
    if request.param == "sqlite":
        with running_console(fresh_sqlite(workdir), workdir) as server:
            yield server
    else:
        with fresh_postgresql() as url, running_console(url, workdir) as server:
            yield server


def new_case(url: str, sender: str, turns: list, *, channel: str = "rest", start: float | None = None,
             intro: str | None = None, **outcome: object) -> int:
    """A conversation in the events table (and its triage, when given); returns its case number."""
    seed.store(get_engine(url), sender, turns, channel=channel, start=start, intro=intro)
    with session_scope(url) as session:
        sync_events(session)
        if outcome:
            case = record_case(session, conversation_id=sender, channel=channel, **outcome)
        else:
            case = case_for(session, sender)
        return case.id
