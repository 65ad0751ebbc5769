"""The inbox (every conversation, filtered and searched), the attention queue, and the CSV export."""

from __future__ import annotations

import csv
import io
import time
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, redirect

from bot.console.auth import guarded
from bot.console.render import LEVEL_LABELS, condition_label, render
from bot.store import audit, inputs, queries
from bot.store.models import Case
from bot.store.safe_text import clean
from bot.store.sync import sync_events

bp = Blueprint("inbox")
CHANNELS_TTL = 60.0  # seconds
CSV_COLUMNS = ("case", "started", "channel", "first message", "likely condition", "score", "triage level",
               "red flags", "booking", "reviewed", "reviewed by", "clinician level", "clinician condition",
               "messages", "minutes")


@bp.get("/")
@guarded("receptionist")
async def home(request: Request) -> HTTPResponse:
    return redirect("/inbox", status=303)


@bp.get("/inbox")
@guarded("receptionist")
async def inbox(request: Request) -> HTTPResponse:
    session, tz = request.ctx.db, request.app.ctx.settings.timezone
    sync_events(session)
    selected = queries.InboxFilter.from_args(request.args.get)
    page = queries.inbox_page(session, selected, tz, after=request.args.get("after"),
                              before=request.args.get("before"))
    return render(request, "inbox.html", page=page, selected=selected, args=selected.as_args(),
                  total=queries.count(session, selected, tz), channels=channel_choices(request),
                  attention=queries.attention_count(session),
                  erased=inputs.optional_id(request.args.get("erased"), "erased"))


def channel_choices(request: Request) -> list[str]:
    """The channel filter's choices, re-read at most once a minute (a DISTINCT over every case)."""
    now = time.monotonic()
    cached = getattr(request.app.ctx, "channels", None)
    if cached is None or cached[0] < now:
        cached = request.app.ctx.channels = (now + CHANNELS_TTL, queries.channels(request.ctx.db))
    return cached[1]


@bp.get("/attention")
@guarded("receptionist")
async def attention(request: Request) -> HTTPResponse:
    session = request.ctx.db
    sync_events(session)
    page = queries.attention_page(session, after=request.args.get("after"))
    return render(request, "attention.html", page=page, attention=queries.attention_count(session),
                  first_page=not request.args.get("after"))


@bp.get("/inbox.csv")
@guarded("receptionist")
async def export_csv(request: Request) -> None:
    session, tz = request.ctx.db, request.app.ctx.settings.timezone
    selected = queries.InboxFilter.from_args(request.args.get)
    total = queries.count(session, selected, tz)
    audit.record(session, request.ctx.user.username, "export_csv", detail=f"{total} rows; {selected.describe()}")
    session.commit()  # the export is on record even if the download is cut short
    name = f"conversations-{datetime.now(tz):%Y%m%d-%H%M}.csv"
    response = await request.respond(content_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for n, case in enumerate(queries.iter_cases(session, selected, tz), start=1):
        writer.writerow(safe_cell(v) for v in _row(case, tz))
        if n % 500 == 0:
            await response.send(buffer.getvalue())
            buffer.seek(0)
            buffer.truncate()
    await response.send(buffer.getvalue())
    await response.eof()  # streamed: Sanic must not be handed a response to send again


def _row(case: Case, tz: ZoneInfo) -> list:
    correction = case.correction
    top = case.conditions[0] if case.conditions else {}
    started = case.started_at.replace(tzinfo=timezone.utc).astimezone(tz)
    return [case.id, started.isoformat(timespec="seconds"), case.channel or "", case.first_message or "",
            condition_label(top.get("id")), top.get("score", ""), LEVEL_LABELS.get(case.triage_level or "", ""),
            " ".join(case.red_flags or []), case.booking_status or "", "yes" if case.reviewed_at else "no",
            case.reviewed_by or "", LEVEL_LABELS.get(correction.triage_level or "", "") if correction else "",
            condition_label(correction.condition) if correction else "", case.message_count,
            round(case.duration_seconds / 60, 1)]


def safe_cell(value: object) -> object:
    """Spreadsheets run cells that start with = + - @ as formulas: a patient's words must stay text."""
    if not isinstance(value, str):
        return value
    value = clean(value)
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value
