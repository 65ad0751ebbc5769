"""`python -m bot.store migrate` upgrades a database that already has bookings (revision 0002): the rows
keep their times, become "booked", and the new unique index lets a cancelled slot be booked again."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from bot.store.db import get_engine
from bot.store.migrate import ROOT, alembic_config, current_revision, head_revision

pytest_plugins = ["tests.console.fixtures"]
INSERT = text("INSERT INTO bookings (conversation_id, practitioner_id, appointment_type_id, starts_at, ends_at, "
              "first_name, last_name, phone, notes, created_at) VALUES (:c, 'anna', 'initial', :s, :e, 'Sam', "
              "'Taylor', '+447700900123', '', :s)")
SLOT = {"s": datetime(2026, 12, 7, 9, 30), "e": datetime(2026, 12, 7, 10, 15)}


def test_an_existing_bookings_table_is_upgraded_in_place(db_url: str) -> None:
    engine = get_engine(db_url)
    config = alembic_config()
    with engine.begin() as connection:  # back to the schema before cancelling and moving existed
        config.attributes["connection"] = connection
        command.downgrade(config, "0002")
    with engine.begin() as connection:
        connection.execute(INSERT, {"c": "old-chat", **SLOT})
    assert current_revision(db_url) == "0002"

    done = subprocess.run([sys.executable, "-m", "bot.store", "migrate"], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "DATABASE_URL": db_url}, timeout=120)
    assert done.returncode == 0, done.stderr
    assert f"revision {head_revision()}" in done.stdout  # upgraded to the newest schema
    with engine.begin() as connection:
        row = connection.execute(text("SELECT status, provider, confirmation_code, starts_at FROM bookings")).one()
        assert row[:3] == ("booked", "builtin", None) and str(row[3]).startswith("2026-12-07 09:30")
        with pytest.raises(IntegrityError), connection.begin_nested():  # the old booking still holds its slot
            connection.execute(INSERT, {"c": "second-chat", **SLOT})
        connection.execute(text("UPDATE bookings SET status = 'cancelled'"))
        connection.execute(INSERT, {"c": "third-chat", **SLOT})  # a cancelled booking frees it
