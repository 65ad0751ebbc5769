"""A small Cliniko look-alike over real HTTP, for the adapter tests and the booking conversation.

It speaks the JSON shapes of Cliniko's API v1 (lists under a named key with total_entries and
links.self/next, ids as strings, times in UTC with Z) and checks what Cliniko checks: Basic
auth with the API key, a User-Agent with a contact email, a from/to range of at most 7 days.
Tests script failures (401, 429 with a reset header, a slow answer) through `fail_next`/`delay`.
Appointments are cancelled (PATCH .../cancel, a cancellation_reason required, 204) and moved
(PATCH /individual_appointments/:id) as Cliniko documents; either frees the old time.
"""

from __future__ import annotations

import base64
import itertools
import json
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

API_KEY = "MS0xLTIzNDU2Nzg5MDEyMzQ1Njc4OS1hYmNkZWZnaGlqa2xtbm9wcXJzdHV2-uk2"
USER_AGENT = re.compile(r"^\S.* \([^()\s]+@[^()\s]+\)$")  # "App name (contact@email)"
AVAILABLE = re.compile(r"^/v1/businesses/(\w+)/practitioners/(\w+)/appointment_types/(\w+)/available_times$")
APPOINTMENT = re.compile(r"^/v1/individual_appointments/(\w+)(/cancel)?$")
CANCELLATION_REASONS = (10, 20, 30, 40, 50, 60)  # feeling better, condition worse, sick, away, other, work


@dataclass
class FakeCliniko:
    page_size: int = 2  # small, so every list is paginated
    # practitioner id -> free start times (UTC, "2026-11-30T09:30:00Z")
    free: dict[str, list[str]] = field(default_factory=dict)
    patients: list[dict[str, Any]] = field(default_factory=list)
    appointments: list[dict[str, Any]] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)  # method, path, query, headers, body
    failures: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    delay: float = 0.0
    base: str = ""
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1000000000000000001))

    def fail_next(self, status: int, **headers: str) -> None:
        self.failures.append((status, headers))

    def next_id(self) -> str:
        return str(next(self._ids))

    def paths(self, method: str = "GET") -> list[str]:
        return [r["path"] for r in self.requests if r["method"] == method]


def _handler(fake: FakeCliniko) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:  # quiet test output
            pass

        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            self._serve("GET")

        def do_POST(self) -> None:  # noqa: N802
            self._serve("POST")

        def do_PATCH(self) -> None:  # noqa: N802
            self._serve("PATCH")

        def _serve(self, method: str) -> None:
            url = urlparse(self.path)
            query = parse_qs(url.query)
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"null") if length else None
            fake.requests.append({"method": method, "path": url.path, "query": query,
                                  "headers": dict(self.headers), "body": body})
            if fake.delay:
                time.sleep(fake.delay)
            expected = "Basic " + base64.b64encode(f"{API_KEY}:".encode()).decode()
            if self.headers.get("Authorization") != expected:
                return self._send(401, {"errors": {"base": ["Unauthorized"]}})
            if not USER_AGENT.match(self.headers.get("User-Agent") or ""):
                return self._send(400, {"message": "User-Agent must name the app and a contact email"})
            if self.headers.get("Accept") != "application/json":
                return self._send(406, {"message": "Accept application/json"})
            if fake.failures:
                status, headers = fake.failures.pop(0)
                return self._send(status, {"message": "scripted failure"}, headers)
            if method == "GET" and (match := AVAILABLE.match(url.path)):
                return self._available_times(match.group(2), query)
            if method == "GET" and url.path == "/v1/patients":
                return self._patients(query)
            if method == "POST" and url.path == "/v1/patients":
                patient = {"id": fake.next_id(), "first_name": body["first_name"], "last_name": body["last_name"],
                           "email": body.get("email"), "patient_phone_numbers": body.get("patient_phone_numbers", [])}
                fake.patients.append(patient)
                return self._send(201, patient)
            if method == "POST" and url.path == "/v1/individual_appointments":
                return self._book(body)
            if method == "PATCH" and (match := APPOINTMENT.match(url.path)):
                return self._change(match.group(1), bool(match.group(2)), body or {})
            return self._send(404, {"message": "Not found"})

        def _change(self, appointment_id: str, cancel: bool, body: dict[str, Any]) -> None:
            appointment = next((a for a in fake.appointments if a["id"] == appointment_id), None)
            if appointment is None or appointment.get("cancelled_at"):
                return self._send(404, {"message": "Not found"})
            if cancel and body.get("cancellation_reason") not in CANCELLATION_REASONS:
                return self._send(422, {"message": "Validation failed",
                                        "errors": {"cancellation_reason": ["is required"]}})
            # The old time is free again (Cliniko's available_times would show it)
            fake.free.setdefault(appointment["practitioner_id"], []).append(appointment["starts_at"])
            if cancel:
                appointment.update(cancelled_at=utc(datetime.utcnow()), cancellation_reason=body["cancellation_reason"],
                                   cancellation_note=body.get("cancellation_note"))
                return self._send(204, {})
            appointment.update({k: body[k] for k in ("starts_at", "ends_at", "practitioner_id") if k in body})
            free = fake.free.get(appointment["practitioner_id"], [])
            if appointment["starts_at"] in free:
                free.remove(appointment["starts_at"])
            self._send(200, appointment)

        def _available_times(self, practitioner: str, query: dict[str, list[str]]) -> None:
            try:
                first, last = date.fromisoformat(query["from"][0]), date.fromisoformat(query["to"][0])
            except (KeyError, ValueError):
                return self._send(422, {"message": "from and to are required dates"})
            if not timedelta(0) <= last - first < timedelta(days=7):
                return self._send(422, {"message": "The date range must be 7 days or less"})
            times = sorted(t for t in fake.free.get(practitioner, []) if first <= date.fromisoformat(t[:10]) <= last)
            self._page("available_times", [{"appointment_start": t} for t in times], query)

        def _patients(self, query: dict[str, list[str]]) -> None:
            found = fake.patients
            for condition in query.get("q[]", []):
                name, _, value = condition.partition(":=")
                found = [p for p in found if str(p.get(name, "")).lower() == value.lower()]
            self._page("patients", found, query)

        def _book(self, body: dict[str, Any]) -> None:
            required = ("business_id", "practitioner_id", "appointment_type_id", "patient_id", "starts_at")
            missing = [k for k in required if not body.get(k)]
            if missing:
                errors = {k: ["is required"] for k in missing}
                return self._send(422, {"message": "Validation failed", "errors": errors})
            if not any(p["id"] == body["patient_id"] for p in fake.patients):
                return self._send(422, {"message": "Validation failed", "errors": {"patient": ["must exist"]}})
            free = fake.free.get(body["practitioner_id"], [])
            if body["starts_at"] in free:
                free.remove(body["starts_at"])
            appointment = {"id": fake.next_id(), **body,
                           "patient": {"links": {"self": f"{fake.base}/patients/{body['patient_id']}"}}}
            fake.appointments.append(appointment)
            self._send(201, appointment)

        def _page(self, key: str, items: list[dict[str, Any]], query: dict[str, list[str]]) -> None:
            per_page = min(int(query.get("per_page", ["50"])[0]), fake.page_size)
            page = int(query.get("page", ["1"])[0])
            chunk = items[(page - 1) * per_page: page * per_page]
            flat = [(k, v) for k, values in query.items() if k != "page" for v in values]
            root = fake.base.removesuffix("/v1")  # the request path already starts with /v1
            links = {"self": f"{root}{urlparse(self.path).path}?{urlencode(flat + [('page', page)])}"}
            if page * per_page < len(items):
                links["next"] = f"{root}{urlparse(self.path).path}?{urlencode(flat + [('page', page + 1)])}"
            self._send(200, {key: chunk, "total_entries": len(items), "links": links})

        def _send(self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None) -> None:
            data = b"" if status == 204 else json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name.replace("_", "-"), value)
            self.end_headers()
            self.wfile.write(data)

    return Handler


@contextmanager
def fake_cliniko(fake: FakeCliniko | None = None) -> Iterator[FakeCliniko]:
    """Serve a FakeCliniko on a free local port; `fake.base` is its /v1 URL."""
    fake = fake or FakeCliniko()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    fake.base = f"http://127.0.0.1:{server.server_address[1]}/v1"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()


def utc(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
