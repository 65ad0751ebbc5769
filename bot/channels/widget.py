"""Rasa's socket.io channel for the website widget, with its gaps closed.

- Origins: Rasa 3.6 builds its socket.io server with no origin list, which skips the origin
  check and sends no CORS headers, so a widget on another port or host cannot poll it. Here
  the origins come from credentials.yml (`cors_allowed_origins`, comma-separated; "*" for any).
- Sessions: Rasa calls python-socketio 5's `enter_room` without awaiting it, so the socket
  never joins its session's room and never receives a reply; here it is awaited. A session id
  that bot.channels.intake does not accept is replaced by a new one (the widget adopts the id
  in `session_confirm`), and a socket speaks only in the conversation it was confirmed into
  (a message before any `session_request` starts one), so a client cannot make up ids.
- Messages: whatever a client emits is read through bot.channels.intake (text cleaned, length
  limited, anything but text answered with "only text"); `metadata` is ignored; every message
  gets an answer (bot.channels.never_silent).
- Live hand-off (bot.handoff): staff replies and notices carry their number (`message_id`); a widget
  that connects again sends the last one it showed (`seen` in `session_request`) and gets what it
  missed while it was away. "Start over" (a new session on the same socket) ends a live chat.
- Replicas: with REDIS_URL set, the rooms span every Rasa replica (python-socketio's
  AsyncRedisManager), so a staff reply sent by one reaches a widget connected to another. A
  socket's own connection stays on one replica: the load balancer keeps each client on one
  (engine.io's polling transport keeps its session in that process).

The channel keeps the name "socketio", so the URL and the recorded input channel stay the same.
"""

from __future__ import annotations

import contextlib
import inspect
import uuid
from typing import Any

from rasa.core.channels.channel import InputChannel
from rasa.core.channels.socketio import SocketIOInput, SocketIOOutput
from sanic import Blueprint
from socketio import AsyncRedisManager, AsyncServer

from bot.channels.intake import MAX_BODY, read_text, valid_sender
from bot.channels.never_silent import Counted, OnNewMessage, respond
from bot.handoff import outbox
from bot.lock_store import redis_prefix, redis_url

SESSION_KEY = "conversation"  # in python-socketio's per-socket session: the conversation it was confirmed into


def hand_off_payload(text: str, sender_name: str | None, message_id: int) -> dict[str, Any]:
    message: dict[str, Any] = {"text": text, "message_id": message_id}
    if sender_name:
        message["sender_name"] = sender_name
    return message


class WidgetOutput(Counted, SocketIOOutput):
    """Rasa's socket.io output, counting what Rasa sent."""


async def awaited(result: Any) -> None:
    if inspect.isawaitable(result):  # python-socketio 5's AsyncServer room calls are coroutines
        await result


def share_rooms(sio: AsyncServer) -> None:
    """Rooms across replicas through Redis, when it is configured (before the server's first client)."""
    url = redis_url()
    if url:
        manager = AsyncRedisManager(url, channel=f"{redis_prefix()}:socketio")
        manager.set_server(sio)
        sio.manager = manager


class WidgetSocketIOInput(SocketIOInput):
    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        channel = super().from_credentials(credentials)
        raw = str((credentials or {}).get("cors_allowed_origins") or "")
        channel.allowed_origins = [origin.strip().rstrip("/") for origin in raw.split(",") if origin.strip()]
        return channel

    allowed_origins: list[str] = []

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        hook = super().blueprint(on_new_message)
        share_rooms(self.sio)
        origins = self.allowed_origins
        # An empty list would switch the check off; with no origin configured only same-origin pages are served.
        self.sio.eio.cors_allowed_origins = "*" if "*" in origins else (origins or None)
        self.sio.eio.max_http_buffer_size = MAX_BODY  # a bigger packet is refused (413) and the socket closed
        sio, namespace = self.sio, self.namespace

        async def confirmed(sid: str) -> str | None:
            try:
                return (await sio.get_session(sid, namespace=namespace)).get(SESSION_KEY)
            except KeyError:  # the socket has gone
                return None

        async def confirm(sid: str, wanted: object) -> str:
            """Put the socket into a conversation: the one asked for when its id is acceptable, else a new one."""
            session_id = valid_sender(wanted) or uuid.uuid4().hex
            previous = await confirmed(sid)
            if self.session_persistence:
                if previous and previous != session_id:
                    await awaited(sio.leave_room(sid, previous, namespace=namespace))  # "Start over"
                    await outbox.started_over(previous)
                await awaited(sio.enter_room(sid, session_id, namespace=namespace))
            with contextlib.suppress(KeyError):  # the socket has gone
                await sio.save_session(sid, {SESSION_KEY: session_id}, namespace=namespace)
            return session_id

        # *args: a client may emit an event with no data or with several arguments.
        async def session_request(sid: str, *args: Any) -> None:
            data = args[0] if args else None
            wanted = data.get("session_id") if isinstance(data, dict) else None
            session_id = await confirm(sid, wanted)
            await sio.emit("session_confirm", session_id, room=sid)
            if self.session_persistence and session_id == wanted:  # what it missed while away, to this socket
                for m in await outbox.missed(session_id, data.get("seen") if isinstance(data, dict) else None):
                    await sio.emit(self.bot_message_evt, hand_off_payload(m.text, m.sender_name, m.id), room=sid,
                                   namespace=namespace)

        async def handle_message(sid: str, *args: Any) -> None:
            data = args[0] if args and isinstance(args[0], dict) else {}
            if self.session_persistence:
                sender = await confirmed(sid) or await confirm(sid, data.get("session_id"))
            else:
                sender = sid
            output = WidgetOutput(sio, self.bot_message_evt)
            await respond(on_new_message, read_text(data.get("message")), output, sender, self.name())

        async def hand_off_message(recipient: str, text: str, sender_name: str | None, message_id: int) -> None:
            """A staff reply or hand-off notice, to the conversation's room; the widget shows the sender's name."""
            await sio.emit(self.bot_message_evt, hand_off_payload(text, sender_name, message_id), room=recipient,
                           namespace=namespace)

        outbox.attach(hook, self.name(), hand_off_message, numbered=True)
        # These replace Rasa's handlers of the same events.
        sio.on("session_request", session_request, namespace=namespace)
        sio.on(self.user_message_evt, handle_message, namespace=namespace)
        return hook
