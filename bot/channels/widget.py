"""Rasa's socket.io channel for the website widget, with two fixes.

- Origins: Rasa 3.6 builds its socket.io server with no origin list, which skips the origin
  check and sends no CORS headers, so a widget on another port or host cannot poll it. Here
  the origins come from credentials.yml (`cors_allowed_origins`, comma-separated; "*" for any).
- Session persistence: Rasa calls python-socketio 5's `enter_room` without awaiting it, so the
  socket never joins its session's room and never receives a reply. The session_request
  handler is replaced by one that awaits it.

The channel keeps the name "socketio", so the URL and the recorded input channel stay the same.
"""

from __future__ import annotations

import inspect
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import InputChannel, UserMessage
from rasa.core.channels.socketio import SocketIOInput
from sanic import Blueprint


class WidgetSocketIOInput(SocketIOInput):
    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        channel = super().from_credentials(credentials)
        raw = str((credentials or {}).get("cors_allowed_origins") or "")
        channel.allowed_origins = [origin.strip().rstrip("/") for origin in raw.split(",") if origin.strip()]
        return channel

    allowed_origins: list[str] = []

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        hook = super().blueprint(on_new_message)
        origins = self.allowed_origins
        # An empty list would switch the check off; with no origin configured only same-origin pages are served.
        self.sio.eio.cors_allowed_origins = "*" if "*" in origins else (origins or None)
        sio = self.sio

        async def session_request(sid: str, data: dict[str, Any] | None) -> None:
            data = data if isinstance(data, dict) else {}
            session_id = data.get("session_id")
            if not isinstance(session_id, str) or not session_id:
                session_id = uuid.uuid4().hex
            if self.session_persistence:
                joined = sio.enter_room(sid, session_id)
                if inspect.isawaitable(joined):
                    await joined
            await sio.emit("session_confirm", session_id, room=sid)

        sio.on("session_request", session_request, namespace=self.namespace)  # replaces Rasa's handler
        return hook
