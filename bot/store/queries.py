"""Reading cases: the inbox's filters and keyset pagination, the attention queue, exports.

Pages are found by keyset (the last row's start time and id), never OFFSET, so page 2,000 is
as quick as page 1; each filter has an index ending in the sort key (see models.Case).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, fields
from datetime import date, datetime, time, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, or_, select, true, tuple_
from sqlalchemy import case as case_when
from sqlalchemy.orm import Session, aliased, selectinload
from sqlalchemy.sql import ColumnElement, Select

from bot.store import inputs, search
from bot.store.cases import ATTENTION
from bot.store.models import BOOKED, TRIAGE_LEVELS, Case, Correction

PAGE_SIZE = 50
NOT_COMPLETED = "none"  # the level filter's value for conversations without a triage outcome
MAX_SEARCH = 200  # characters of a search box query
# The clinician filter: assessed conversations a clinician reviewed, and where their latest word differs.
REVIEWED, LEVEL_DIFFERS, CONDITION_DIFFERS = "reviewed", "level_differs", "condition_differs"
UNDER_TRIAGE = "under_triage"
CLINICIAN_FILTERS = {REVIEWED: "Reviewed by a clinician", LEVEL_DIFFERS: "Clinician's level differs",
                     CONDITION_DIFFERS: "Clinician's condition differs",
                     UNDER_TRIAGE: "Under-triaged (clinician's level more urgent)"}


@dataclass(frozen=True)
class InboxFilter:
    since: date | None = None
    until: date | None = None
    level: str | None = None
    condition: str | None = None
    channel: str | None = None
    booked: bool | None = None
    reviewed: bool | None = None
    red_flags_only: bool = False
    text: str = ""
    clinician: str | None = None  # one of CLINICIAN_FILTERS
    clinician_level: str | None = None  # the clinician's level (implies reviewed)
    clinician_condition: str | None = None  # the clinician's condition (implies reviewed)

    @classmethod
    def from_args(cls, get: Callable[[str], str | None]) -> InboxFilter:
        """From query-string values; empty ones are unset, malformed ones raise inputs.InputError."""

        def yes_no(name: str) -> bool | None:
            return {"yes": True, "no": False, None: None}[inputs.choice(get(name), name, ("yes", "no"))]

        return cls(
            since=inputs.day(get("since"), "since"), until=inputs.day(get("until"), "until"),
            level=inputs.choice(get("level"), "level", (*TRIAGE_LEVELS, NOT_COMPLETED)),
            condition=inputs.word(get("condition"), "condition"),
            channel=inputs.word(get("channel"), "channel"),
            booked=yes_no("booked"), reviewed=yes_no("reviewed"),
            red_flags_only=inputs.choice(get("red_flags"), "red_flags", ("yes",)) == "yes",
            text=inputs.free_text(get("q"), MAX_SEARCH),
            clinician=inputs.choice(get("clinician"), "clinician", CLINICIAN_FILTERS),
            clinician_level=inputs.choice(get("clinician_level"), "clinician_level", TRIAGE_LEVELS),
            clinician_condition=inputs.word(get("clinician_condition"), "clinician_condition"),
        )

    def as_args(self) -> dict[str, str]:
        """The query-string values that give this filter back (for links and forms)."""
        args = {"since": self.since and self.since.isoformat(), "until": self.until and self.until.isoformat(),
                "level": self.level, "condition": self.condition, "channel": self.channel,
                "booked": None if self.booked is None else ("yes" if self.booked else "no"),
                "reviewed": None if self.reviewed is None else ("yes" if self.reviewed else "no"),
                "red_flags": "yes" if self.red_flags_only else None, "q": self.text or None,
                "clinician": self.clinician, "clinician_level": self.clinician_level,
                "clinician_condition": self.clinician_condition}
        return {k: v for k, v in args.items() if v}

    def describe(self) -> str:
        """For the audit log: which filters, without the search words (they may name a patient)."""
        parts = [f"{k}={v}" for k, v in asdict(self).items() if v not in (None, False, "") and k != "text"]
        if self.text:
            parts.append("text search")
        return ", ".join(parts) or "no filter"

    @property
    def active(self) -> bool:
        return any(getattr(self, f.name) not in (None, False, "") for f in fields(self))


@dataclass(frozen=True)
class Page:
    cases: list[Case]
    newer: str | None  # cursor for the page before this one (newer conversations)
    older: str | None  # cursor for the page after this one


def day_bounds(day: date, tz: ZoneInfo) -> datetime:
    """Local midnight at the start of `day`, as naive UTC (how times are stored)."""
    return datetime.combine(day, time.min, tz).astimezone(timezone.utc).replace(tzinfo=None)


def apply_filter(session: Session, query: Select, f: InboxFilter, tz: ZoneInfo) -> Select:
    conditions: list[Any] = []
    if f.since:
        conditions.append(Case.started_at >= day_bounds(f.since, tz))
    if f.until:
        conditions.append(Case.started_at < day_bounds(f.until + timedelta(days=1), tz))
    if f.level == NOT_COMPLETED:
        conditions.append(Case.triage_level.is_(None))
    elif f.level:
        conditions.append(Case.triage_level == f.level)
    if f.condition:
        conditions.append(Case.top_condition == f.condition)
    if f.channel:
        conditions.append(Case.channel == f.channel)
    if f.booked is True:
        conditions.append(Case.booking_status == BOOKED)
    elif f.booked is False:
        conditions.append(or_(Case.booking_status.is_(None), Case.booking_status != BOOKED))
    if f.reviewed is not None:
        conditions.append(Case.reviewed_at.is_not(None) if f.reviewed else Case.reviewed_at.is_(None))
    if f.red_flags_only:
        conditions.append(Case.has_red_flag == true())  # "= true", which PostgreSQL's index serves; "IS" it does not
    if f.text:
        matches = search.matching_case_ids(session, f.text)
        if matches is not None:
            conditions.append(matches)
    conditions += _clinician_conditions(f)
    return query.where(*conditions) if conditions else query


_earlier = aliased(Correction)
_their_level = func.coalesce(Correction.triage_level, Case.triage_level)  # "Unchanged" keeps the assistant's
_their_condition = func.coalesce(Correction.condition, Case.top_condition)


def _urgency(level: ColumnElement) -> ColumnElement:
    """0 for emergency up to 4 for self-care, so that levels compare in order."""
    return case_when({name: rank for rank, name in enumerate(TRIAGE_LEVELS)}, value=level)


def _clinician_conditions(f: InboxFilter) -> list[Any]:
    """The clinician filters, as models.Case.clinician_level and .clinician_condition define them."""
    tests: list[Any] = []
    if f.clinician == LEVEL_DIFFERS:
        tests.append(_their_level != Case.triage_level)
    elif f.clinician == CONDITION_DIFFERS:
        tests.append(_their_condition != Case.top_condition)
    elif f.clinician == UNDER_TRIAGE:
        tests.append(_urgency(Case.triage_level) > _urgency(_their_level))
    if f.clinician_level:
        tests.append(_their_level == f.clinician_level)
    if f.clinician_condition:
        tests.append(_their_condition == f.clinician_condition)
    if not (tests or f.clinician):
        return []
    latest = select(func.max(_earlier.id)).where(_earlier.case_id == Correction.case_id).scalar_subquery()
    review = select(Correction.id).where(Correction.case_id == Case.id, Correction.id == latest, *tests)
    return [Case.triage_level.is_not(None), review.exists()]


def _cursor(case: Case, *, rank: bool = False) -> str:
    key = f"{case.started_at.isoformat()}_{case.id}"
    return f"{case.attention_rank}_{key}" if rank else key


def _parse_cursor(token: str | None, name: str, *, rank: bool = False) -> tuple | None:
    """A cursor from `_cursor`, range-checked; None when empty. Anything else raises inputs.InputError."""
    if not token:
        return None
    parts = token.split("_")
    if len(parts) != (3 if rank else 2):
        raise inputs.InputError(name)
    key = inputs.moment(parts[-2], name), inputs.record_id(parts[-1], name)
    return (inputs.small_number(parts[0], name, len(ATTENTION)), *key) if rank else key


def _with_details(query: Select) -> Select:
    return query.options(selectinload(Case.callbacks), selectinload(Case.corrections))


def inbox_page(session: Session, f: InboxFilter, tz: ZoneInfo, *, after: str | None = None,
               before: str | None = None, limit: int = PAGE_SIZE) -> Page:
    """Newest first. `after` is an `older` cursor (next page), `before` a `newer` one (previous page)."""
    key = tuple_(Case.started_at, Case.id)
    query = _with_details(apply_filter(session, select(Case), f, tz))
    before_key, after_key = _parse_cursor(before, "before"), _parse_cursor(after, "after")
    if before_key:
        rows = list(session.execute(query.where(key > before_key)
                                    .order_by(Case.started_at.asc(), Case.id.asc()).limit(limit + 1)).scalars())
        more_newer = len(rows) > limit
        rows = rows[:limit][::-1]
        return Page(rows, _cursor(rows[0]) if rows and more_newer else None, _cursor(rows[-1]) if rows else None)
    if after_key:
        query = query.where(key < after_key)
    rows = list(session.execute(query.order_by(Case.started_at.desc(), Case.id.desc()).limit(limit + 1)).scalars())
    more_older = len(rows) > limit
    rows = rows[:limit]
    return Page(rows, _cursor(rows[0]) if rows and after_key else None,
                _cursor(rows[-1]) if rows and more_older else None)


def count(session: Session, f: InboxFilter, tz: ZoneInfo) -> int:
    return session.execute(apply_filter(session, select(func.count(Case.id)), f, tz)).scalar_one()


def attention_page(session: Session, *, after: str | None = None, limit: int = PAGE_SIZE) -> Page:
    """Cases with something pending, most pressing first (cases.ATTENTION), then newest first."""
    query = _with_details(select(Case).where(Case.attention_rank.is_not(None)))
    after_key = _parse_cursor(after, "after", rank=True)
    if after_key:
        rank, started, case_id = after_key
        same_rank_older = and_(Case.attention_rank == rank, tuple_(Case.started_at, Case.id) < (started, case_id))
        query = query.where(or_(Case.attention_rank > rank, same_rank_older))
    rows = list(session.execute(query.order_by(Case.attention_rank.asc(), Case.started_at.desc(), Case.id.desc())
                                .limit(limit + 1)).scalars())
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(rows, None, _cursor(rows[-1], rank=True) if rows and more else None)


def attention_count(session: Session) -> int:
    return session.execute(select(func.count(Case.id)).where(Case.attention_rank.is_not(None))).scalar_one()


def iter_cases(session: Session, f: InboxFilter, tz: ZoneInfo) -> Iterator[Case]:
    """Every case the filter matches, newest first, streamed (CSV export)."""
    query = apply_filter(session, select(Case), f, tz).options(selectinload(Case.corrections))
    query = query.order_by(Case.started_at.desc(), Case.id.desc()).execution_options(yield_per=500)
    yield from session.execute(query).scalars()


def channels(session: Session) -> list[str]:
    """The channels seen so far (the channel filter's choices)."""
    return [c for c in session.execute(select(Case.channel).where(Case.channel.is_not(None)).distinct()).scalars()]
