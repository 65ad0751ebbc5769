"""Console input out of range or malformed gets a 4xx, never a 500 (issue 9, item 4).

Real HTTP against `python -m bot.console` on SQLite and on PostgreSQL: ids beyond 64 bits in the
path, year-0 and year-9999 dates, garbage and negative paging cursors, hostile form bodies and
static paths. Each row of the table says what a signed-in admin (or an anonymous visitor) gets;
afterwards the console's log holds no traceback and no 500.
"""

from __future__ import annotations

import http.client
from urllib.parse import urlsplit

import pytest
import requests

from tests.console import seed
from tests.console.fixtures import Console, new_case

pytest_plugins = ["tests.console.fixtures"]

HUGE = "99999999999999999999999"
JUST_PAST_64_BITS = str(2**63)
TOP_64_BITS = str(2**63 - 1)
GOOD_CURSOR = "2024-01-01T10:00:00_1"

# (method, path, form, expected status), for a signed-in admin. Forms get the CSRF token added.
SIGNED_IN = [
    ("GET", f"/cases/{HUGE}", None, 404),
    ("GET", f"/cases/{JUST_PAST_64_BITS}", None, 404),
    ("GET", f"/cases/{TOP_64_BITS}", None, 404),
    ("GET", "/cases/-1", None, 404),
    ("GET", "/cases/1e3", None, 404),
    ("GET", "/cases/%EF%BC%91", None, 404),  # a full-width digit one
    ("GET", f"/cases/{HUGE}/erase", None, 404),
    ("POST", f"/cases/{HUGE}/erase", {"confirm": "erase"}, 404),
    ("GET", f"/cases/{HUGE}/export.json", None, 404),
    ("POST", f"/cases/{HUGE}/notes", {"note": "x"}, 404),
    ("POST", f"/cases/{HUGE}/review", {"reviewed": "yes"}, 404),
    ("POST", f"/cases/{HUGE}/correction", {"level": "urgent"}, 404),
    ("POST", f"/admin/users/{HUGE}", {"change": "role", "role": "admin"}, 404),
    ("POST", f"/admin/users/{JUST_PAST_64_BITS}", {"change": "active", "active": "no"}, 404),
    ("GET", f"/admin/audit?before={HUGE}", None, 400),
    ("GET", "/admin/audit?before=-5", None, 400),
    ("GET", "/admin/audit?before=abc", None, 400),
    ("GET", f"/admin/audit?before={TOP_64_BITS}", None, 200),
    ("GET", "/admin/audit?before=", None, 200),
    ("GET", "/dashboard?since=0000-01-01&until=9999-12-31", None, 400),
    ("GET", "/dashboard?until=9999-12-31", None, 400),
    ("GET", "/dashboard?since=0001-01-01&until=0001-01-02", None, 400),
    ("GET", "/dashboard?since=2024-02-30", None, 400),
    ("GET", "/dashboard?since=20240101", None, 400),
    ("GET", "/dashboard?since=%00", None, 400),
    ("GET", "/dashboard?since=2024-01-01&until=2024-01-31", None, 200),
    ("GET", "/dashboard?since=&until=", None, 200),
    ("GET", "/inbox?since=0000-01-01", None, 400),
    ("GET", "/inbox?until=9999-12-31", None, 400),
    ("GET", "/inbox?since=1969-12-31", None, 400),
    ("GET", "/inbox?since=2024-13-01", None, 400),
    ("GET", "/inbox?since=&until=&level=&condition=&channel=&booked=&reviewed=&q=", None, 200),  # an empty form
    ("GET", "/inbox?after=garbage", None, 400),
    ("GET", f"/inbox?after=2024-01-01T00:00:00_{HUGE}", None, 400),
    ("GET", "/inbox?after=2024-01-01T00:00:00_-5", None, 400),
    ("GET", "/inbox?before=9999-12-31T00:00:00_1", None, 400),
    ("GET", "/inbox?before=0000-01-01T00:00:00_1", None, 400),
    ("GET", "/inbox?after=2024-01-01T00:00:00_1_2", None, 400),
    ("GET", f"/inbox?after={GOOD_CURSOR}", None, 200),
    ("GET", f"/inbox?before={GOOD_CURSOR}", None, 200),
    ("GET", "/attention?after=garbage", None, 400),
    ("GET", f"/attention?after=9_{GOOD_CURSOR}", None, 400),  # no such place in the queue
    ("GET", f"/attention?after=-1_{GOOD_CURSOR}", None, 400),
    ("GET", f"/attention?after=0_{GOOD_CURSOR}", None, 200),
    ("GET", "/inbox.csv?until=9999-12-31", None, 400),
    ("GET", "/inbox?clinician=bogus", None, 400),
    ("GET", "/inbox?clinician_level=very_urgent", None, 400),
    ("GET", "/inbox?clinician_condition=%00", None, 400),
    ("GET", "/inbox?clinician=under_triage&clinician_level=soon&clinician_condition=acl_injury", None, 200),
    ("GET", "/dashboard?channel=%00", None, 400),
    ("GET", "/dashboard?channel=" + "x" * 100, None, 400),
    ("GET", "/dashboard/agreement.csv?since=0000-01-01", None, 400),
    ("GET", "/dashboard/agreement.csv?since=2024-01-01&until=2024-01-31&channel=rest", None, 200),
    ("GET", "/dashboard/vignettes.yml?until=9999-12-31", None, 400),
    ("GET", "/dashboard/vignettes.yml?since=2024-01-01", None, 200),
    ("GET", "/inbox.csv?after=garbage&since=2024-01-01", None, 200),  # the export has no paging
    ("GET", "/inbox?level=bogus", None, 400),
    ("GET", "/inbox?booked=maybe", None, 400),
    ("GET", "/inbox?red_flags=no", None, 400),
    ("GET", "/inbox?channel=%00", None, 400),
    ("GET", "/inbox?condition=" + "x" * 100, None, 400),
    ("GET", "/inbox?erased=abc", None, 400),
    ("GET", "/inbox?q=%00%ED%A0%80knee" + "x" * 5000, None, 200),  # typed text: cleaned, never refused
    ("POST", "/cases/{case}/notes", {"note": "called \x00 back"}, 303),
    ("POST", "/cases/{case}/correction", {"level": "bogus"}, 303),  # back to the page with its error
]

# (method, path, body or form, headers, expected status) for a visitor who is not signed in.
ANONYMOUS = [
    ("GET", "/static/", None, {}, 404),
    ("GET", "/static/../app.py", None, {}, 404),
    ("GET", "/static/%2e%2e/app.py", None, {}, 404),
    ("GET", "/static/..%2fapp.py", None, {}, 404),
    ("GET", "/static/console.css%00", None, {}, 404),
    ("GET", "/static/nothing.css", None, {}, 404),
    ("GET", "/static", None, {}, 404),
    ("GET", f"/cases/{HUGE}", None, {}, 404),
    ("GET", "/dashboard?since=0000-01-01", None, {}, 303),  # the login comes first
    ("GET", "/admin/audit?before=-5", None, {}, 303),
    ("POST", "/login", {"username": "admin", "password": "x", "csrf": "\u00e9\u00e9"}, {}, 403),
    ("POST", "/login", {"username": "ad\x00min", "password": "x", "csrf": "x"}, {}, 403),
    ("POST", "/login", b"username=\xff\xfe&password=\xff&csrf=x",
     {"Content-Type": "application/x-www-form-urlencoded"}, 400),
    ("POST", "/login", b'{"username": "admin"}', {"Content-Type": "application/json"}, 400),
    ("POST", "/login", b"--x\r\nContent-Disposition: form-data; name=\"username\"\r\n\r\n\xff\r\n--x--\r\n",
     {"Content-Type": "multipart/form-data; boundary=x"}, 400),
    ("GET", "/login?next=/%0d%0aSet-Cookie:%20x=1%00", None, {}, 200),
    ("GET", "/inbox", None, {"Cookie": "console_session=" + "\u00e9" * 50}, 303),
]


@pytest.fixture(scope="module")
def case_id(console_each_db: Console) -> int:
    return new_case(console_each_db.db_url, "input-case", seed.short("my knee hurts"))


def raw_request(base: str, method: str, path: str, body: bytes | None = None,
                headers: dict[str, str] | None = None) -> int:
    """The path exactly as written (requests would resolve "../" before sending it)."""
    address = urlsplit(base)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=10)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        return connection.getresponse().status
    finally:
        connection.close()


@pytest.mark.parametrize(("method", "path", "form", "expected"), SIGNED_IN, ids=[f"{m} {p[:60]}" for m, p, *_ in
                                                                                 SIGNED_IN])
def test_signed_in_input(console_each_db: Console, case_id: int, method: str, path: str, form: dict | None,
                         expected: int) -> None:
    admin = console_each_db.as_role("admin")
    data = {**form, "csrf": console_each_db.csrf(admin)} if form is not None else None
    response = admin.request(method, console_each_db.url(path.format(case=case_id)), data=data,
                             allow_redirects=False, timeout=30)
    assert response.status_code == expected, response.text[:300]
    if expected == 400:
        assert "malformed or out-of-range" in response.text and HUGE not in response.text


@pytest.mark.parametrize(("method", "path", "body", "headers", "expected"), ANONYMOUS,
                         ids=[f"{m} {p[:50]} {h.get('Content-Type', '')}" for m, p, _, h, _ in ANONYMOUS])
def test_anonymous_input(console_each_db: Console, method: str, path: str, body: dict | bytes | None,
                         headers: dict[str, str], expected: int) -> None:
    if isinstance(body, dict):  # a form, with the login page's own cookie and a token of the caller's choosing
        http = requests.Session()
        http.get(console_each_db.url("/login"), timeout=10)
        response = http.request(method, console_each_db.url(path), data=body, headers=headers,
                                allow_redirects=False, timeout=10)
        status = response.status_code
    else:
        status = raw_request(console_each_db.base, method, path, body, headers)
    assert status == expected


def test_the_log_holds_no_traceback(console_each_db: Console) -> None:
    """Runs after the tables above (same module, same console)."""
    assert console_each_db.as_role("admin").get(console_each_db.url("/inbox"), timeout=10).status_code == 200
    log = console_each_db.log.read_text()
    assert "GET inbox 200" in log
    assert "Traceback" not in log and " 500 " not in log and "ERROR" not in log
