"""Dashboard figures over a period: outcomes by level and condition, the funnel, conversation length."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from bot.store.models import BOOKED, TRIAGE_LEVELS, Case
from bot.store.queries import day_bounds


@dataclass(frozen=True)
class Dashboard:
    since: date
    until: date
    channel: str | None
    started: int
    completed: int
    booked: int
    by_level: list[tuple[str, int]]  # every level, most urgent first
    by_condition: list[tuple[str, int]]  # most frequent first
    median_messages: float | None
    median_minutes: float | None


def dashboard(session: Session, since: date, until: date, tz: ZoneInfo, channel: str | None = None) -> Dashboard:
    """Conversations started from `since` to `until` inclusive (local dates), on one channel or all."""
    period = (Case.started_at >= day_bounds(since, tz), Case.started_at < day_bounds(until + timedelta(days=1), tz),
              *((Case.channel == channel,) if channel else ()))
    started, completed, booked = session.execute(select(
        func.count(Case.id), func.count(Case.triage_level),
        func.count(Case.id).filter(Case.booking_status == BOOKED)).where(*period)).one()
    levels = dict(session.execute(select(Case.triage_level, func.count(Case.id))
                                  .where(*period, Case.triage_level.is_not(None)).group_by(Case.triage_level)).all())
    conditions = session.execute(select(Case.top_condition, func.count(Case.id).label("n"))
                                 .where(*period, Case.top_condition.is_not(None))
                                 .group_by(Case.top_condition).order_by(func.count(Case.id).desc(),
                                                                         Case.top_condition)).all()
    seconds = _median(session, Case.duration_seconds, period, started)
    return Dashboard(
        since=since, until=until, channel=channel, started=started, completed=completed, booked=booked,
        by_level=[(level, levels.get(level, 0)) for level in TRIAGE_LEVELS],
        by_condition=[(cid, n) for cid, n in conditions],
        median_messages=_median(session, Case.message_count, period, started),
        median_minutes=None if seconds is None else round(seconds / 60, 1),
    )


def _median(session: Session, column: InstrumentedAttribute, period: tuple, n: int) -> float | None:
    """The median by sorting and skipping to the middle: the same SQL on SQLite and PostgreSQL."""
    if n == 0:
        return None
    middle = list(session.execute(select(column).where(*period).order_by(column)
                                  .offset((n - 1) // 2).limit(1 if n % 2 else 2)).scalars())
    return sum(middle) / len(middle)
