"""Bookings that can be found again, cancelled and moved: a confirmation code, a status, when and
where it last changed, the time before a move, and the provider's own appointment id (Cliniko's).

The unique (practitioner, start) constraint becomes a unique index over the built-in scheduler's
active rows, so a cancelled booking frees its slot and a Cliniko record never clashes.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

ACTIVE_BUILTIN = "status != 'cancelled' AND provider = 'builtin'"


def upgrade() -> None:
    with op.batch_alter_table("bookings") as batch:  # SQLite copies the table; PostgreSQL alters it
        batch.drop_constraint("uq_bookings_practitioner_start", type_="unique")
        batch.add_column(sa.Column("confirmation_code", sa.String(16)))
        batch.add_column(sa.Column("status", sa.String(16), nullable=False, server_default="booked"))
        batch.add_column(sa.Column("changed_at", sa.DateTime))
        batch.add_column(sa.Column("changed_in", sa.String(255)))
        batch.add_column(sa.Column("previous_starts_at", sa.DateTime))
        batch.add_column(sa.Column("provider", sa.String(16), nullable=False, server_default="builtin"))
        batch.add_column(sa.Column("external_id", sa.String(64)))
        batch.create_unique_constraint("uq_bookings_confirmation_code", ["confirmation_code"])
    op.create_index("ix_bookings_changed_in", "bookings", ["changed_in"])
    op.create_index("uq_bookings_active_slot", "bookings", ["practitioner_id", "starts_at"], unique=True,
                    sqlite_where=sa.text(ACTIVE_BUILTIN), postgresql_where=sa.text(ACTIVE_BUILTIN))


def downgrade() -> None:
    op.drop_index("uq_bookings_active_slot", "bookings")
    op.drop_index("ix_bookings_changed_in", "bookings")
    op.execute("DELETE FROM bookings WHERE status = 'cancelled' OR provider != 'builtin'")
    with op.batch_alter_table("bookings") as batch:
        batch.drop_constraint("uq_bookings_confirmation_code", type_="unique")
        for column in ("external_id", "provider", "previous_starts_at", "changed_in", "changed_at", "status",
                       "confirmation_code"):
            batch.drop_column(column)
        batch.create_unique_constraint("uq_bookings_practitioner_start", ["practitioner_id", "starts_at"])
