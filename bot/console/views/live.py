"""Live hand-off: the queue of chats waiting for a person, the live chat page and its actions.

Every member of staff can take a chat (receptionists answer them); only the person who has it
replies, hands it back or closes it, and anyone can take it over from a colleague. Taking, taking
over, handing back and closing are in the audit log; replies are kept with their author. New
messages reach the page as server-sent events (`/live/<id>/events`), read from the database, so
the console needs nothing from the Rasa server. A chat nobody takes within HANDOFF_WAIT_SECONDS is
timed out by the Rasa server, which sends the patient the notice (bot.handoff.outbox); the queue
page shows when, and the chat then shows as "call back".
"""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, redirect
from sanic.response import json as json_response
from sqlalchemy import select

from bot.clinic import clinic
from bot.console.auth import guarded
from bot.console.render import refuse, render
from bot.console.views.case import missing
from bot.handoff import history, queue
from bot.handoff.availability import LIVE_CHANNELS, wait_seconds
from bot.handoff.wording import sender_name
from bot.store import audit, transcript
from bot.store.db import session_scope
from bot.store.models import Case, Handoff, HandoffMessage
from bot.store.sync import sync_events

bp = Blueprint("live")
POLL_SECONDS = 0.5
STREAM_SECONDS = 300  # then the browser reconnects (EventSource does, with Last-Event-ID)
SSE_HEADERS = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
NO_LIVE_CHAT = "This conversation has no live chat. It may have been erased."


def _case_for(session, conversation_id: str) -> Case | None:
    return session.execute(select(Case).where(Case.conversation_id == conversation_id)).scalar_one_or_none()


def _wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "")


@bp.get("/live")
@guarded("receptionist")
async def live_queue(request: Request) -> HTTPResponse:
    session = request.ctx.db
    sync_events(session)
    live, ended = queue.queue(session)
    cases = {h.conversation_id: _case_for(session, h.conversation_id) for h in (*live, *ended)}
    wait = wait_seconds()  # the Rasa server times a waiting chat out (bot.handoff.outbox); the page says when
    call_back_at = {h.id: h.requested_at + timedelta(seconds=wait) for h in live
                    if wait is not None and h.status == "waiting"}
    return render(request, "live_queue.html", live=live, ended=ended, cases=cases, snapshot=_snapshot(live),
                  outcome=history.outcome, call_back_at=call_back_at)


def _snapshot(live: list[Handoff]) -> str:
    """The queue's state in one string: the page and its event stream compare them to know it changed."""
    return json.dumps([[h.id, h.status, h.taken_by] for h in live])


@bp.get("/live/events")
@guarded("receptionist")
async def queue_events(request: Request) -> HTTPResponse:
    """`event: queue` whenever the live queue changes (a chat waiting, taken or ended)."""
    request.ctx.db.commit()  # each poll reads in its own transaction (SQLite would keep one snapshot)

    def snapshot() -> str:
        with session_scope(request.app.ctx.settings.database_url) as session:
            return _snapshot(queue.queue(session, ended=0)[0])

    response = await request.respond(content_type="text/event-stream", headers=SSE_HEADERS)
    last = None
    for _ in range(int(STREAM_SECONDS / POLL_SECONDS)):
        current = await asyncio.to_thread(snapshot)
        if current != last:
            await response.send(f"event: queue\ndata: {current}\n\n")
            last = current
        await asyncio.sleep(POLL_SECONDS)
    await response.eof()
    return response


def _chat(request: Request, case_id: int) -> tuple[Case | None, Handoff | None]:
    """A conversation and its latest hand-off (the live chat pages are addressed by conversation)."""
    case = request.ctx.db.get(Case, case_id)
    return case, (queue.latest_for(request.ctx.db, case.conversation_id) if case else None)


@bp.get("/live/<case_id:id>")
@guarded("receptionist")
async def chat(request: Request, case_id: int) -> HTTPResponse:
    session = request.ctx.db
    sync_events(session)
    case, handoff = _chat(request, case_id)
    if handoff is None:
        return missing(request, NO_LIVE_CHAT)
    audit.record(session, request.ctx.user.username, "view", case.id, f"live chat {handoff.id}")
    messages = transcript.messages(session, handoff.conversation_id)
    last = max((m.message_id or 0 for m in messages), default=0)
    return render(request, "live_chat.html", handoff=handoff, case=case, messages=messages, last_id=last,
                  ending=history.ending(handoff),
                  sender_name=sender_name(clinic(), request.ctx.user.username), error=request.args.get("error"))


@bp.get("/live/<case_id:id>/events")
@guarded("receptionist")
async def chat_events(request: Request, case_id: int) -> HTTPResponse:
    """`event: message` for each hand-off message after `after` (or Last-Event-ID), `event: status` when the
    chat's state changes (taken, handed back, closed, asked for again)."""
    case, handoff = _chat(request, case_id)
    if handoff is None:
        return missing(request, NO_LIVE_CHAT)
    conversation_id = case.conversation_id
    raw_after = request.headers.get("last-event-id") or request.args.get("after") or "0"
    after = int(raw_after) if raw_after.isdigit() and len(raw_after) < 19 else 0
    request.ctx.db.commit()  # each poll reads in its own transaction (SQLite would keep one snapshot)
    url = request.app.ctx.settings.database_url

    def poll(after_id: int) -> tuple[list[dict], str]:
        with session_scope(url) as session:
            latest = queue.latest_for(session, conversation_id)
            if latest is None:
                return [], "erased"
            found = [_message_data(m) for m in queue.messages_after(session, conversation_id, after_id)]
            return found, _status(latest)

    response = await request.respond(content_type="text/event-stream", headers=SSE_HEADERS)
    status = (request.args.get("status") or "")[:100] or None  # as the page showed it: a change since counts
    for _ in range(int(STREAM_SECONDS / POLL_SECONDS)):
        found, current = await asyncio.to_thread(poll, after)
        for message in found:
            await response.send(f"id: {message['id']}\nevent: message\ndata: {json.dumps(message)}\n\n")
            after = message["id"]
        if status is not None and current != status:
            await response.send(f"event: status\ndata: {json.dumps(current)}\n\n")
        status = current
        if current == "erased":
            break
        await asyncio.sleep(POLL_SECONDS)
    await response.eof()
    return response


def _status(handoff: Handoff) -> str:
    return f"{handoff.id}:{handoff.status}:{handoff.taken_by or ''}"


def _message_data(message: HandoffMessage) -> dict:
    sender = "patient" if message.direction == "in" else ("staff" if message.author else "notice")
    return {"id": message.id, "sender": sender, "text": message.text, "name": message.sender_name or "",
            "author": message.author or "", "at": message.at.isoformat() + "Z"}


async def _act(request: Request, case_id: int, action: str) -> HTTPResponse:
    session, user = request.ctx.db, request.ctx.user
    case, handoff = _chat(request, case_id)
    if handoff is None:
        return missing(request, NO_LIVE_CHAT)
    previous = handoff.taken_by
    try:
        shown = request.form.get("handoff")
        if shown and shown != str(handoff.id):  # the page was of an earlier hand-off of this conversation
            raise queue.HandoffError("This chat has changed since the page was loaded: reload it.")
        if action == "take":
            queue.take(session, handoff, user.username, clinic())
            audit.record(session, user.username, "handoff_take", case.id,
                         f"live chat {handoff.id}" + (f", from {previous}" if previous and previous != user.username
                                                       else ""))
        elif action == "reply":
            queue.reply(session, handoff, user.username, request.form.get("text") or "", clinic())
        elif action == "hand_back":
            queue.hand_back(session, handoff, user.username, clinic())
            audit.record(session, user.username, "handoff_hand_back", case.id, f"live chat {handoff.id}")
        else:
            queue.close(session, handoff, user.username, clinic())
            audit.record(session, user.username, "handoff_close", case.id, f"live chat {handoff.id}")
    except queue.HandoffError as error:
        session.rollback()
        if _wants_json(request):
            return json_response({"error": str(error)}, status=409)
        return render(request, "error.html", status=409, title="Not possible now", message=str(error))
    if _wants_json(request):
        return json_response({"ok": True})
    return redirect(f"/live/{case.id}" if action in ("take", "reply") else "/live", status=303)


@bp.post("/live/<case_id:id>/take")
@guarded("receptionist")
async def take(request: Request, case_id: int) -> HTTPResponse:
    return await _act(request, case_id, "take")


@bp.post("/live/<case_id:id>/reply")
@guarded("receptionist")
async def reply(request: Request, case_id: int) -> HTTPResponse:
    return await _act(request, case_id, "reply")


@bp.post("/live/<case_id:id>/hand-back")
@guarded("receptionist")
async def hand_back(request: Request, case_id: int) -> HTTPResponse:
    return await _act(request, case_id, "hand_back")


@bp.post("/live/<case_id:id>/close")
@guarded("receptionist")
async def close(request: Request, case_id: int) -> HTTPResponse:
    return await _act(request, case_id, "close")


@bp.post("/cases/<case_id:id>/take-over")
@guarded("receptionist")
async def take_over(request: Request, case_id: int) -> HTTPResponse:
    """Step into a conversation the assistant is holding: the assistant goes silent, the patient is told."""
    session, user = request.ctx.db, request.ctx.user
    case = session.get(Case, case_id)
    if case is None:
        return missing(request)
    if case.channel not in LIVE_CHANNELS:
        return refuse(request, 409, "This conversation's channel cannot receive replies from the console.")
    handoff = queue.take_over(session, case.conversation_id, case.channel, user.username, clinic())
    audit.record(session, user.username, "handoff_take_over", case.id, f"live chat {handoff.id}")
    return redirect(f"/live/{case.id}", status=303)
