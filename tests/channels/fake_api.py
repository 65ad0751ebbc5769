"""A stand-in for the Graph API and Twilio's Messages API: records what the connectors send.

It answers 200 (or, for the next `failures` requests, `failure_status`) and keeps each request's
method, path, query, headers and body (JSON or form) for the tests to read.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Sent:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any


@dataclass
class FakeApi:
    port: int
    requests: list[Sent] = field(default_factory=list)
    failures: int = 0
    failure_status: int = 500
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def record(self, sent: Sent) -> int:
        with self.lock:
            self.requests.append(sent)
            if self.failures > 0:
                self.failures -= 1
                return self.failure_status
            return 200

    def clear(self) -> None:
        with self.lock:
            self.requests.clear()
            self.failures = 0

    def to(self, recipient: str) -> list[Sent]:
        """Requests addressed to one recipient (Messenger PSID, WhatsApp number or Twilio "To")."""
        def addressee(sent: Sent) -> str | None:
            body = sent.body
            if isinstance(body, dict):
                return (body.get("recipient") or {}).get("id") or body.get("to") or body.get("To")
            return None
        with self.lock:
            return [sent for sent in self.requests if addressee(sent) == recipient]

    def wait_for(self, recipient: str, count: int = 1, seconds: float = 10) -> list[Sent]:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            found = self.to(recipient)
            if len(found) >= count:
                return found
            time.sleep(0.1)
        return self.to(recipient)


def serve(port: int) -> tuple[FakeApi, ThreadingHTTPServer]:
    api = FakeApi(port)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - the http.server API
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
            if "json" in (self.headers.get("Content-Type") or ""):
                body: Any = json.loads(raw)
            else:
                body = {key: values[0] for key, values in parse_qs(raw).items()}
            url = urlsplit(self.path)
            query = {key: values[0] for key, values in parse_qs(url.query).items()}
            status = api.record(Sent("POST", url.path, query, dict(self.headers), body))
            payload = json.dumps({"ok": status == 200}).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return api, server
