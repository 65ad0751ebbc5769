"""A bot of its own for the hand-off tests (HANDOFF_MODE=always, so a person is offered at any hour),
the fake platform API beside it, a member of staff driving the console over HTTP, and a widget that
went away and comes back."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import requests
from sqlalchemy import select

from bot.store.db import session_scope
from bot.store.models import Case, Handoff, HandoffMessage
from tests.channels.fake_api import FakeApi, serve
from tests.channels.widget_client import WidgetClient
from tests.conftest import ROOT, RunningBot, server_env, serving
from tests.console.fixtures import PASSWORD, csrf_in


@contextmanager
def handoff_bot(workdir: Path) -> Iterator[tuple[RunningBot, FakeApi]]:
    env = {**server_env(workdir), "HANDOFF_MODE": "always", "HANDOFF_POLL_SECONDS": "0.2"}
    base, console, web = (f"http://127.0.0.1:{env[name]}" for name in ("RASA_PORT", "CONSOLE_PORT", "WEB_PORT"))
    ready = [f"{base}/status?token=-test-token", f"http://127.0.0.1:{env['ACTION_PORT']}/health", f"{console}/login",
             f"{web}/health"]
    api, server = serve(int(env["FAKE_API_PORT"]))
    try:
        with serving([str(ROOT / "scripts" / "serve")], env, workdir, ready):
            yield RunningBot(base, "-test-token", workdir / "rasa.db", console, web, int(env["FAKE_API_PORT"])), api
    finally:
        server.shutdown()
        server.server_close()


class Staff:
    """A member of staff signed in to the console (a requests session, like a browser without script)."""

    def __init__(self, console: str, username: str) -> None:
        self.console, self.username, self.http = console, username, requests.Session()
        form = self.http.get(f"{console}/login", timeout=10)
        signed_in = self.http.post(f"{console}/login", data={"username": username, "password": PASSWORD,
                                                             "csrf": csrf_in(form.text), "next": "/live"},
                                   allow_redirects=False, timeout=10)
        assert signed_in.status_code == 303, signed_in.text
        self.csrf = csrf_in(self.http.get(f"{console}/live", timeout=10).text)

    def post(self, path: str, **form: str) -> requests.Response:
        return self.http.post(f"{self.console}{path}", data={"csrf": self.csrf, **form},
                              headers={"Accept": "application/json"}, allow_redirects=False, timeout=10)

    def stream(self, path: str, until: str, seconds: float = 15) -> list[dict]:
        """The messages the chat's event stream sends, until one has `until` in its text."""
        seen: list[dict] = []
        deadline = time.monotonic() + seconds
        with self.http.get(f"{self.console}{path}", stream=True, timeout=seconds) as response:
            assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream")
            event = ""
            for line in response.iter_lines(decode_unicode=True):
                if line.startswith("event: "):
                    event = line[len("event: "):]
                elif line.startswith("data: ") and event == "message":
                    seen.append(json.loads(line[len("data: "):]))
                    if until in seen[-1]["text"]:
                        return seen
                if time.monotonic() > deadline:
                    break
        raise AssertionError(f"{until!r} did not arrive in the stream: {[m['text'] for m in seen]}")


def live_handoff(bot: RunningBot, conversation_id: str, seconds: float = 10) -> Handoff:
    deadline = time.monotonic() + seconds
    while True:
        with session_scope(bot.database_url) as session:
            found = session.execute(select(Handoff).where(Handoff.conversation_id == conversation_id)
                                    .order_by(Handoff.id.desc())).scalars().first()
        if found is not None or time.monotonic() > deadline:
            assert found is not None, "the conversation never reached the queue"
            return found
        time.sleep(0.2)


def case_of(bot: RunningBot, conversation_id: str) -> int:
    """The conversation's number in the console (its live chat is /live/<number>)."""
    with session_scope(bot.database_url) as session:
        return session.execute(select(Case.id).where(Case.conversation_id == conversation_id)).scalar_one()


def backdate(bot: RunningBot, handoff_id: int, seconds: float) -> None:
    """As if the chat had been waiting `seconds` longer: the Rasa server's next check sees it overdue."""
    with session_scope(bot.database_url) as session:
        handoff = session.get(Handoff, handoff_id)
        handoff.requested_at -= timedelta(seconds=seconds)


def wait_sent(bot: RunningBot, handoff_id: int, count: int, seconds: float = 10) -> list[int]:
    """The numbers of the chat's messages to the patient once `count` have gone out (to a widget or not)."""
    deadline = time.monotonic() + seconds
    while True:
        with session_scope(bot.database_url) as session:
            sent = session.execute(select(HandoffMessage.id).where(
                HandoffMessage.handoff_id == handoff_id, HandoffMessage.direction == "out",
                HandoffMessage.delivered_at.is_not(None)).order_by(HandoffMessage.id)).scalars().all()
        if len(sent) >= count or time.monotonic() > deadline:
            assert len(sent) >= count, f"only {len(sent)} of {count} messages went out"
            return list(sent)
        time.sleep(0.2)


def back_again(client: WidgetClient, session_id: str, seen: int, quiet: float = 1.5) -> list[dict]:
    """The widget connects again into its conversation, saying the last team message it showed: what it gets."""
    with client.changed:
        client.confirmed.clear()
        client.replies.clear()
    client.sio.emit("session_request", {"session_id": session_id, "seen": seen})
    with client.changed:
        assert client.changed.wait_for(lambda: client.confirmed, timeout=10), "no session_confirm"
        count = -1
        while len(client.replies) != count:  # until `quiet` seconds pass without another
            count = len(client.replies)
            client.changed.wait_for(lambda: len(client.replies) != count, timeout=quiet)  # noqa: B023
        return list(client.replies)
