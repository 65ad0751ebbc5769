"""Fixtures shared by the booking tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.console.fixtures import fresh_sqlite


@pytest.fixture()
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A migrated SQLite file that the code under test finds through DATABASE_URL, as the servers do."""
    url = fresh_sqlite(tmp_path)
    monkeypatch.setenv("DATABASE_URL", url)
    return url
