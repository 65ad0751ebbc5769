"""Full-text search over what patients wrote, one document per case.

SQLite: an FTS5 table whose rowid is the case id. PostgreSQL: a table with a stored tsvector
(`words`, computed from `body` with the "simple" configuration) and a GIN index on it. Both
match every word of the query as a word prefix ("stair" finds "stairs"). The tables are
created by the migrations; this module fills and queries them.
"""

from __future__ import annotations

import re

from sqlalchemy import Integer, column, text
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from bot.store.db import is_sqlite
from bot.store.models import Case

TABLE = "case_search"
PG_CONFIG = "simple"  # no stemming or stop words: patients' words are matched as written
_WORD = re.compile(r"\w+", re.UNICODE)
MAX_TERMS = 8


def terms(query: str) -> list[str]:
    """The words of a search box query; punctuation and operators are dropped, never passed on."""
    return [w.lower() for w in _WORD.findall(query)][:MAX_TERMS]


def set_documents(session: Session, documents: list[tuple[int, str]]) -> None:
    """Replace the search documents of these cases: (case id, everything the patient wrote)."""
    if not documents:
        return
    rows = [{"id": case_id, "body": body} for case_id, body in documents]
    if is_sqlite(session):
        session.execute(text(f"DELETE FROM {TABLE} WHERE rowid = :id"), rows)
        session.execute(text(f"INSERT INTO {TABLE}(rowid, body) VALUES (:id, :body)"), rows)
    else:
        session.execute(text(f"INSERT INTO {TABLE}(case_id, body) VALUES (:id, :body) "
                             "ON CONFLICT (case_id) DO UPDATE SET body = excluded.body"), rows)


def delete_document(session: Session, case_id: int) -> None:
    column = "rowid" if is_sqlite(session) else "case_id"
    session.execute(text(f"DELETE FROM {TABLE} WHERE {column} = :id"), {"id": case_id})


def matching_case_ids(session: Session, query: str) -> ColumnElement | None:
    """A SQL condition `cases.id IN (matches)` for the query, or None when it has no words."""
    words = terms(query)
    if not words:
        return None
    if is_sqlite(session):
        # Each word quoted (so FTS5 syntax in it is inert) and marked as a prefix.
        match = " ".join('"' + w.replace('"', '""') + '"*' for w in words)
        sub = text(f"SELECT rowid AS id FROM {TABLE} WHERE {TABLE} MATCH :match").bindparams(match=match)
    else:
        match = " & ".join(w + ":*" for w in words)
        sub = text(f"SELECT case_id AS id FROM {TABLE} WHERE words @@ to_tsquery('{PG_CONFIG}', :match)"
                   ).bindparams(match=match)
    return Case.id.in_(sub.columns(column("id", Integer)))
