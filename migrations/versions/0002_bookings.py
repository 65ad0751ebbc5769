"""Bookings made in the chat with the built-in scheduler.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "bookings",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("conversation_id", sa.String(255), nullable=False),
        sa.Column("practitioner_id", sa.String(64), nullable=False),
        sa.Column("appointment_type_id", sa.String(64), nullable=False),
        sa.Column("starts_at", sa.DateTime, nullable=False),
        sa.Column("ends_at", sa.DateTime, nullable=False),
        sa.Column("first_name", sa.String(100), nullable=False),
        sa.Column("last_name", sa.String(100), nullable=False),
        sa.Column("phone", sa.String(32)),
        sa.Column("email", sa.String(254)),
        sa.Column("notes", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_bookings"),
        # Double booking is impossible: one row per practitioner and start time.
        sa.UniqueConstraint("practitioner_id", "starts_at", name="uq_bookings_practitioner_start"),
    )
    op.create_index("ix_bookings_conversation_id", "bookings", ["conversation_id"])
    op.create_index("ix_bookings_starts_at", "bookings", ["starts_at"])


def downgrade() -> None:
    op.drop_table("bookings")
