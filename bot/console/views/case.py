"""One conversation: transcript, triage summary, notes, review, clinician correction, export, erasure."""

from __future__ import annotations

import json

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, redirect
from sqlalchemy import func, or_, select

from bot.console.auth import guarded
from bot.console.render import refuse, render
from bot.handoff import history as handoff_history
from bot.handoff import queue as handoff_queue
from bot.handoff.availability import LIVE_CHANNELS
from bot.store import audit, cases, transcript
from bot.store.erasure import erase_conversation
from bot.store.models import Booking, Case, as_dict, events
from bot.store.safe_text import clean_data
from bot.store.sync import sync_events
from bot.triage.vocabulary import CONDITIONS, RED_FLAG_CONDITIONS

bp = Blueprint("case")


def _case(request: Request, case_id: int) -> Case | None:
    return request.ctx.db.get(Case, case_id)


NO_CONVERSATION = "There is no such conversation. It may have been erased."


def missing(request: Request, message: str = NO_CONVERSATION) -> HTTPResponse:
    """The console's page for a conversation (or its live chat) that is not there: never saying more."""
    return refuse(request, 404, message)


@bp.get("/cases/<case_id:id>")
@guarded("receptionist")
async def show(request: Request, case_id: int) -> HTTPResponse:
    session = request.ctx.db
    sync_events(session)
    case = _case(request, case_id)
    if case is None:
        return missing(request)
    audit.record(session, request.ctx.user.username, "view", case.id)
    # Bookings made in this conversation, and those it cancelled or moved (made in an earlier one)
    bookings = session.execute(select(Booking).where(or_(Booking.conversation_id == case.conversation_id,
                                                         Booking.changed_in == case.conversation_id))
                               .order_by(Booking.starts_at)).scalars().all()
    return render(request, "case.html", case=case, messages=transcript.messages(session, case.conversation_id),
                  bookings=bookings, error=request.args.get("error"),
                  live_handoff=handoff_queue.live_for(session, case.conversation_id),
                  can_take_over=case.channel in LIVE_CHANNELS)


@bp.post("/cases/<case_id:id>/notes")
@guarded("receptionist")
async def add_note(request: Request, case_id: int) -> HTTPResponse:
    case = _case(request, case_id)
    if case is None:
        return missing(request)
    try:
        cases.add_note(request.ctx.db, case, request.ctx.user.username, request.form.get("note") or "")
    except ValueError:
        return redirect(f"/cases/{case.id}?error=empty-note#notes", status=303)
    audit.record(request.ctx.db, request.ctx.user.username, "note", case.id)
    return redirect(f"/cases/{case.id}#notes", status=303)


@bp.post("/cases/<case_id:id>/review")
@guarded("receptionist")
async def review(request: Request, case_id: int) -> HTTPResponse:
    case = _case(request, case_id)
    if case is None:
        return missing(request)
    reviewed = request.form.get("reviewed") != "no"
    cases.mark_reviewed(request.ctx.db, case, request.ctx.user.username, reviewed)
    audit.record(request.ctx.db, request.ctx.user.username, "review" if reviewed else "unreview", case.id)
    return redirect(f"/cases/{case.id}", status=303)


@bp.post("/cases/<case_id:id>/correction")
@guarded("clinician")
async def correct(request: Request, case_id: int) -> HTTPResponse:
    case = _case(request, case_id)
    if case is None:
        return missing(request)
    if request.form.get("agree") == "yes":  # the clinician confirms the assistant's outcome as it is
        level, condition = case.triage_level, case.top_condition
    else:
        level, condition = request.form.get("level") or None, request.form.get("condition") or None
    try:
        correction = cases.add_correction(request.ctx.db, case, request.ctx.user.username, triage_level=level,
                                          condition=condition, comment=request.form.get("comment") or "",
                                          conditions=(*CONDITIONS, *RED_FLAG_CONDITIONS))
    except ValueError:
        return redirect(f"/cases/{case.id}?error=correction#correction", status=303)
    audit.record(request.ctx.db, request.ctx.user.username, "correct", case.id,
                 f"level={correction.triage_level or '-'} condition={correction.condition or '-'}")
    return redirect(f"/cases/{case.id}#correction", status=303)


@bp.get("/cases/<case_id:id>/export.json")
@guarded("receptionist")
async def export_json(request: Request, case_id: int) -> HTTPResponse:
    session = request.ctx.db
    case = _case(request, case_id)
    if case is None:
        return missing(request)
    audit.record(session, request.ctx.user.username, "export_json", case.id)
    body = {**clean_data(as_dict(case)), "events": list(transcript.raw_events(session, case.conversation_id)),
            "handoffs": clean_data(handoff_history.export(session, case.conversation_id, case.id))}
    return HTTPResponse(json.dumps(body, ensure_ascii=False, indent=2), content_type="application/json",
                        headers={"Content-Disposition": f'attachment; filename="case-{case.id}.json"'})


@bp.get("/cases/<case_id:id>/erase")
@guarded("admin")
async def confirm_erase(request: Request, case_id: int) -> HTTPResponse:
    case = _case(request, case_id)
    if case is None:
        return missing(request)
    count = request.ctx.db.execute(select(func.count()).select_from(events)
                                   .where(events.c.sender_id == case.conversation_id)).scalar_one()
    return render(request, "erase.html", case=case, event_count=count)


@bp.post("/cases/<case_id:id>/erase")
@guarded("admin")
async def erase(request: Request, case_id: int) -> HTTPResponse:
    case = _case(request, case_id)
    if case is None:
        return missing(request)
    if request.form.get("confirm") != "erase":
        return redirect(f"/cases/{case.id}/erase", status=303)
    erased = erase_conversation(request.ctx.db, case.conversation_id)
    audit.record(request.ctx.db, request.ctx.user.username, "erase", erased.case_id, f"{erased.events} events")
    return redirect(f"/inbox?erased={erased.case_id}", status=303)
