"""Console tables: cases, staff users and sessions, notes, corrections, call-backs, audit log, search.

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    sqlite = bind.dialect.name == "sqlite"
    if not sa.inspect(bind).has_table("events"):
        # Rasa's own table, exactly as its SQLTrackerStore creates it (Rasa skips creating a table
        # that exists), so the console works before the bot has ever run.
        op.create_table(
            "events",
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("sender_id", sa.String(255), nullable=False),
            sa.Column("type_name", sa.String(255), nullable=False),
            sa.Column("timestamp", sa.Float),
            sa.Column("intent_name", sa.String(255)),
            sa.Column("action_name", sa.String(255)),
            sa.Column("data", sa.Text),
        )
        op.create_index("ix_events_sender_id", "events", ["sender_id"])

    op.create_table(
        "staff_users",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("last_login_at", sa.DateTime),
        sa.PrimaryKeyConstraint("id", name="pk_staff_users"),
        sa.UniqueConstraint("username", name="uq_staff_users_username"),
    )
    op.create_table(
        "staff_sessions",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("user_id", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("expires_at", sa.DateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_staff_sessions"),
        sa.UniqueConstraint("token_hash", name="uq_staff_sessions_token_hash"),
        sa.ForeignKeyConstraint(["user_id"], ["staff_users.id"], ondelete="CASCADE",
                                name="fk_staff_sessions_user_id_staff_users"),
    )
    op.create_index("ix_staff_sessions_user_id", "staff_sessions", ["user_id"])

    op.create_table(
        "cases",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("conversation_id", sa.String(255), nullable=False),
        sa.Column("channel", sa.String(64)),
        sa.Column("started_at", sa.DateTime, nullable=False),
        sa.Column("last_activity_at", sa.DateTime),
        sa.Column("ended_at", sa.DateTime),
        sa.Column("completed_at", sa.DateTime),
        sa.Column("first_message", sa.Text),
        sa.Column("message_count", sa.Integer, nullable=False),
        sa.Column("duration_seconds", sa.Integer, nullable=False),
        sa.Column("last_event_id", sa.Integer),
        sa.Column("answers", sa.JSON, nullable=False),
        sa.Column("conditions", sa.JSON, nullable=False),
        sa.Column("top_condition", sa.String(64)),
        sa.Column("triage_level", sa.String(16)),
        sa.Column("red_flags", sa.JSON, nullable=False),
        sa.Column("has_red_flag", sa.Boolean, nullable=False),
        sa.Column("advice", sa.JSON, nullable=False),
        sa.Column("reasons", sa.JSON, nullable=False),
        sa.Column("booking_status", sa.String(32)),
        sa.Column("reviewed_at", sa.DateTime),
        sa.Column("reviewed_by", sa.String(64)),
        sa.Column("attention_rank", sa.SmallInteger),
        sa.PrimaryKeyConstraint("id", name="pk_cases"),
        sa.UniqueConstraint("conversation_id", name="uq_cases_conversation_id"),
        sqlite_autoincrement=True,
    )
    # The inbox reads newest first under any one filter: each index ends in the sort key.
    for name, columns in {
        "ix_cases_started": ["started_at", "id"],
        "ix_cases_level_started": ["triage_level", "started_at", "id"],
        "ix_cases_condition_started": ["top_condition", "started_at", "id"],
        "ix_cases_channel_started": ["channel", "started_at", "id"],
        "ix_cases_red_flag_started": ["has_red_flag", "started_at", "id"],
        "ix_cases_booking_started": ["booking_status", "started_at", "id"],
        "ix_cases_attention": ["attention_rank", "started_at", "id"],
        "ix_cases_last_activity": ["last_activity_at"],
    }.items():
        op.create_index(name, "cases", columns)

    for table, extra in {
        "staff_notes": [sa.Column("author", sa.String(64), nullable=False),
                        sa.Column("body", sa.Text, nullable=False)],
        "corrections": [sa.Column("author", sa.String(64), nullable=False),
                        sa.Column("triage_level", sa.String(16)),
                        sa.Column("condition", sa.String(64)),
                        sa.Column("comment", sa.Text, nullable=False)],
        "callbacks": [sa.Column("name", sa.String(200), nullable=False),
                      sa.Column("phone", sa.String(64), nullable=False),
                      sa.Column("preferred_time", sa.String(200), nullable=False),
                      sa.Column("reason", sa.Text, nullable=False),
                      sa.Column("status", sa.String(16), nullable=False)],
    }.items():
        op.create_table(
            table,
            sa.Column("id", sa.Integer, nullable=False),
            sa.Column("case_id", sa.Integer, nullable=False),
            *extra,
            sa.Column("created_at", sa.DateTime, nullable=False),
            sa.PrimaryKeyConstraint("id", name=f"pk_{table}"),
            sa.ForeignKeyConstraint(["case_id"], ["cases.id"], ondelete="CASCADE", name=f"fk_{table}_case_id_cases"),
        )
        op.create_index(f"ix_{table}_case_id", table, ["case_id"])

    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("at", sa.DateTime, nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("case_id", sa.Integer),
        sa.Column("detail", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_log"),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"])
    op.create_index("ix_audit_log_case_id", "audit_log", ["case_id"])

    op.create_table(
        "sync_state",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("value", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_sync_state"),
    )

    # Full-text search over what patients wrote (bot/store/search.py).
    if sqlite:
        op.execute("CREATE VIRTUAL TABLE case_search USING fts5(body, tokenize = 'unicode61 remove_diacritics 2')")
    else:
        # The tsvector is stored (not only indexed) so that matching rows need no re-parsing.
        op.create_table(
            "case_search",
            sa.Column("case_id", sa.Integer, nullable=False),
            sa.Column("body", sa.Text, nullable=False),
            sa.Column("words", postgresql.TSVECTOR, sa.Computed("to_tsvector('simple', body)", persisted=True)),
            sa.PrimaryKeyConstraint("case_id", name="pk_case_search"),
            sa.ForeignKeyConstraint(["case_id"], ["cases.id"], ondelete="CASCADE",
                                    name="fk_case_search_case_id_cases"),
        )
        op.create_index("ix_case_search_words", "case_search", ["words"], postgresql_using="gin")


def downgrade() -> None:
    # Rasa's events table is left alone: it holds the conversations themselves.
    op.drop_table("case_search")
    for table in ("sync_state", "audit_log", "callbacks", "corrections", "staff_notes", "cases", "staff_sessions",
                  "staff_users"):
        op.drop_table(table)
