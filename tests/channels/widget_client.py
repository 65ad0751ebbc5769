"""The widget's side of the socket.io channel, as python-socketio's client: events out, replies in.

Long polling only (no websocket-client package here): the same Engine.IO protocol the widget
falls back to, against the real Rasa server.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import socketio

from tests.conftest import RunningBot


class WidgetClient:
    def __init__(self, bot: RunningBot) -> None:
        self.bot = bot
        self.replies: list[dict[str, Any]] = []
        self.confirmed: list[Any] = []
        self.changed = threading.Condition()
        self.sio = self._client()

    def _client(self) -> socketio.Client:
        sio = socketio.Client(reconnection=False)
        sio.on("bot_uttered", self._record(self.replies))
        sio.on("session_confirm", self._record(self.confirmed))
        sio.on("disconnect", self._disconnected)
        return sio

    def _disconnected(self, *reason: Any) -> None:
        with self.changed:
            self.changed.notify_all()

    def _record(self, into: list[Any]) -> Any:
        def handler(data: Any) -> None:
            with self.changed:
                into.append(data)
                self.changed.notify_all()
        return handler

    def connect(self) -> None:
        # The demo page's origin, as a browser would send it (the server checks it).
        self.sio.connect(self.bot.base, headers={"Origin": self.bot.web}, transports=["polling"], wait_timeout=10)

    def close(self) -> None:
        """Engine.io's close packet, without waiting for the open long-poll to come back (up to its 25 s ping)."""
        self.sio.eio.disconnect(abort=True)

    def reconnect(self) -> None:
        """After the server closed the socket (a packet over its size limit), connect again, as the widget does."""
        self.close()
        self.sio = self._client()
        self.connect()

    def request_session(self, session_id: Any = None, seconds: float = 10) -> Any:
        """Emit session_request (with this session_id, or a new one) and return what the server confirmed."""
        with self.changed:
            self.confirmed.clear()
            self.replies.clear()
        self.sio.emit("session_request", {"session_id": uuid.uuid4().hex if session_id is None else session_id})
        with self.changed:
            self.changed.wait_for(lambda: self.confirmed, timeout=seconds)
            return self.confirmed[0] if self.confirmed else None

    def send(self, data: Any, seconds: float = 30, quiet: float = 0.4) -> list[dict[str, Any]]:
        """Emit user_uttered with `data` as is; the replies that came before `quiet` seconds passed without one."""
        with self.changed:
            self.replies.clear()
        self.sio.emit("user_uttered", data)
        deadline = time.monotonic() + seconds
        with self.changed:
            if not self.changed.wait_for(lambda: self.replies or not self.sio.connected, timeout=seconds):
                return []
            count = 0
            while len(self.replies) != count and time.monotonic() < deadline:
                count = len(self.replies)
                self.changed.wait_for(lambda: len(self.replies) != count, timeout=quiet)  # noqa: B023
            return list(self.replies)

    def say(self, text: str, session_id: str) -> list[str]:
        return [r.get("text", "") for r in self.send({"message": text, "session_id": session_id})]


def saved_user_texts(bot: RunningBot, session_id: str, count: int, seconds: float = 15) -> list[str]:
    """The patient's messages in the tracker once `count` are there: Rasa sends replies before it saves the turn."""
    deadline = time.monotonic() + seconds
    while True:
        texts = [e["text"] for e in bot.tracker(session_id)["events"] if e["event"] == "user"]
        if len(texts) >= count or time.monotonic() > deadline:
            return texts
        time.sleep(0.1)


@contextmanager
def widget_client(bot: RunningBot) -> Iterator[WidgetClient]:
    client = WidgetClient(bot)
    client.connect()
    try:
        yield client
    finally:
        client.close()
