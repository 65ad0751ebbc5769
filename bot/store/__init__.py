"""Case records and staff data for the receptionist console, in the tracker store's database.

The database is the one Rasa's SQL tracker store uses, named by DATABASE_URL (default
sqlite:///var/rasa.db; PostgreSQL in production). Apply the schema first:
`python -m bot.store migrate` (idempotent).

What the action server calls, each inside a session it commits:

    from bot.store import session_scope, record_case, mark_booking, request_callback

    with session_scope() as session:
        record_case(session, conversation_id=tracker.sender_id, channel="rest", answers={...},
                    conditions=[("patellofemoral_pain", 0.71), ("itb_syndrome", 0.12)],
                    triage_level="routine", red_flags=[], advice=[...], reasons=[...],
                    first_message="my knee hurts on the stairs")
        mark_booking(session, tracker.sender_id, "booked")
        request_callback(session, tracker.sender_id, name="Sam", phone="07700 900123",
                         preferred_time="mornings", reason="wants to talk to a physio")

- record_case: create or update (by conversation id) the triage as it stands; call it when a
  triage completes and whenever it changes. `conditions` are ranked, best first (red-flag
  conditions may lead with score 1.0). Raises ValueError for an unknown triage level.
- mark_booking: the booking outcome, a lower-case word; "booked" counts as booked in the console.
- request_callback: a call-back request; it puts the case at the top of the attention queue.

The conversation itself (messages, times, channel) is read from Rasa's events by the console
(bot.store.sync); nothing else needs writing. Commands: `python -m bot.store --help`.
"""

from bot.store.cases import mark_booking, record_case, request_callback
from bot.store.db import database_url, get_engine, new_session, session_scope
from bot.store.models import ROLES, TRIAGE_LEVELS, Callback, Case

__all__ = [
    "ROLES", "TRIAGE_LEVELS", "Callback", "Case", "database_url", "get_engine", "mark_booking", "new_session",
    "record_case", "request_callback", "session_scope",
]
