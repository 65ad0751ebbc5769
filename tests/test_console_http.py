"""The console over real HTTP: `python -m bot.console` on a free port, requests as a browser sends them."""

from __future__ import annotations

import csv
import io
import re
import time

import pytest
import requests
from sanic_routing.route import Route
from sqlalchemy import func, select

from bot.console.app import create_app
from bot.console.auth import PUBLIC
from bot.console.settings import Settings
from bot.store import request_callback
from bot.store.db import session_scope
from bot.store.models import ROLES, AuditEntry, Callback, Case, Note, StaffUser, events
from tests.console import seed
from tests.console.fixtures import PASSWORD, Console, add_users, csrf_in, new_case

pytest_plugins = ["tests.console.fixtures"]

ROUTES = [r for r in create_app(Settings.from_env({"DATABASE_URL": "sqlite://", "CONSOLE_SECRET": "x"}),
                                name="route_probe").router.routes if not r.name.endswith(".static")]
ROLE_REFUSAL = "Your role does not allow this page."
XSS = '<script>alert("owned")</script><img src=x onerror=alert(1)>'


def path_of(route: Route, case_id: int, user_id: int) -> str:
    return route.uri.replace("<case_id:id>", str(case_id)).replace("<user_id:id>", str(user_id))


def audit_actions(console: Console, case_id: int) -> list[str]:
    with session_scope(console.db_url) as session:
        return list(session.execute(select(AuditEntry.action).where(AuditEntry.case_id == case_id)
                                    .order_by(AuditEntry.id)).scalars())


def user_id(console: Console, username: str) -> int:
    with session_scope(console.db_url) as session:
        return session.execute(select(StaffUser.id).where(StaffUser.username == username)).scalar_one()


@pytest.fixture(scope="module")
def runner_case(console: Console) -> int:
    return new_case(console.db_url, "http-runner", seed.RUNNERS_KNEE, **seed.RUNNERS_KNEE_CASE)


def test_every_route_declares_who_may_use_it() -> None:
    assert len(ROUTES) >= 15
    for route in ROUTES:
        assert getattr(route.handler, "console_access", None) in (PUBLIC, *ROLES), route.uri
    public = {(r.uri, tuple(r.methods)) for r in ROUTES if r.handler.console_access == PUBLIC}
    assert public == {("/login", ("GET",)), ("/login", ("POST",))}


def test_every_route_refuses_anonymous_access(console: Console, runner_case: int) -> None:
    admin_id = user_id(console, "admin")
    for route in ROUTES:
        if route.handler.console_access == PUBLIC:
            continue
        for method in route.methods:
            response = requests.request(method, console.url(path_of(route, runner_case, admin_id)),
                                        data={"note": "x", "confirm": "erase"}, allow_redirects=False, timeout=10)
            if method == "GET":
                assert response.status_code == 303, route.uri
                assert response.headers["location"].startswith("/login?next="), route.uri
            else:
                assert response.status_code == 401, (method, route.uri)
            assert "stairs" not in response.text and "http-runner" not in response.text
    json_client = requests.get(console.url(f"/cases/{runner_case}/export.json"),
                               headers={"Accept": "application/json"}, allow_redirects=False, timeout=10)
    assert json_client.status_code == 401
    with session_scope(console.db_url) as session:  # and nothing was changed
        assert session.get(Case, runner_case).notes == []


def test_each_role_is_refused_what_it_may_not_do(console: Console, runner_case: int) -> None:
    target = user_id(console, "receptionist")
    for role in ROLES:
        http = console.as_role(role)
        token = console.csrf(http)
        for route in ROUTES:
            rule = route.handler.console_access
            if rule == PUBLIC or ROLES.index(role) >= ROLES.index(rule):
                continue
            for method in route.methods:
                response = http.request(method, console.url(path_of(route, runner_case, target)),
                                        data={"csrf": token, "confirm": "erase", "change": "role", "role": "admin",
                                              "level": "urgent"}, allow_redirects=False, timeout=10)
                assert response.status_code == 403, (role, method, route.uri)
                assert ROLE_REFUSAL in response.text
    with session_scope(console.db_url) as session:
        case = session.get(Case, runner_case)
        assert case is not None and case.corrections == []
        assert session.get(StaffUser, target).role == "receptionist"


def test_roles_can_do_what_they_are_for(console: Console, runner_case: int) -> None:
    reception, clinician = console.as_role("receptionist"), console.as_role("clinician")
    page = reception.get(console.url(f"/cases/{runner_case}"), timeout=10)
    assert page.status_code == 200 and "Patellofemoral pain" in page.text
    assert "Save correction" not in page.text and "Erase" not in page.text  # not offered to a receptionist
    fixed = clinician.post(console.url(f"/cases/{runner_case}/correction"),
                           data={"csrf": console.csrf(clinician), "level": "soon", "condition": "itb_syndrome",
                                 "comment": "outer knee really"}, allow_redirects=False, timeout=10)
    assert fixed.status_code == 303
    page = clinician.get(console.url(f"/cases/{runner_case}"), timeout=10).text
    assert "outer knee really" in page and "ITB syndrome" in page and "Corrected" in page
    with session_scope(console.db_url) as session:
        case = session.get(Case, runner_case)
        assert case.triage_level == "routine" and case.correction.triage_level == "soon"  # kept beside
    assert {"view", "correct"} <= set(audit_actions(console, runner_case))


def test_forms_without_the_csrf_token_are_rejected(console: Console, runner_case: int) -> None:
    reception = console.as_role("receptionist")
    others_token = console.csrf(console.as_role("admin"))
    for data in ({"note": "forged"}, {"note": "forged", "csrf": ""}, {"note": "forged", "csrf": others_token}):
        response = reception.post(console.url(f"/cases/{runner_case}/notes"), data=data, allow_redirects=False,
                                  timeout=10)
        assert response.status_code == 403 and "expired" in response.text
    signed_out = reception.post(console.url("/logout"), allow_redirects=False, timeout=10)
    assert signed_out.status_code == 403
    good = reception.post(console.url(f"/cases/{runner_case}/notes"),
                          data={"note": "called back", "csrf": console.csrf(reception)}, allow_redirects=False,
                          timeout=10)
    assert good.status_code == 303
    with session_scope(console.db_url) as session:
        assert [n.body for n in session.get(Case, runner_case).notes] == ["called back"]
    # The login form has its own token, bound to a pre-login cookie.
    forged_login = requests.post(console.url("/login"), data={"username": "admin", "password": PASSWORD},
                                 allow_redirects=False, timeout=10)
    assert forged_login.status_code == 403 and "console_session" not in forged_login.headers.get("set-cookie", "")


def test_patient_text_is_escaped_everywhere(console: Console) -> None:
    turns = [seed.Patient(XSS + " my knee hurts"), seed.Bot("Tell me more " + XSS, [(XSS, "/inform")]),
             seed.Patient("/inform")]
    case_id = new_case(console.db_url, "xss-sender", turns, answers={"pain_location": XSS},
                       conditions=[("patellofemoral_pain", 0.5)], triage_level="soon", red_flags=[],
                       advice=[XSS], reasons=[XSS])
    with session_scope(console.db_url) as session:
        request_callback(session, "xss-sender", name=XSS, phone="0123 <b>", reason=XSS)
    reception = console.as_role("receptionist")
    reception.post(console.url(f"/cases/{case_id}/notes"), data={"note": XSS, "csrf": console.csrf(reception)},
                   timeout=10)
    for path in (f"/cases/{case_id}", "/inbox?q=hurts", "/attention"):
        page = reception.get(console.url(path), timeout=10)
        assert page.status_code == 200
        assert "<script>alert" not in page.text and "<img src=x" not in page.text, path
        assert "&lt;script&gt;alert(" in page.text, path
        csp = page.headers["content-security-policy"]
        assert "default-src 'none'" in csp and "script-src" not in csp  # no script may run at all
    exported = reception.get(console.url(f"/cases/{case_id}/export.json"), timeout=10)
    assert exported.headers["content-type"].startswith("application/json")
    assert exported.json()["first_message"].startswith(XSS)  # data, not markup: kept as written


def test_admin_erasure_removes_every_event_of_the_sender(console: Console) -> None:
    sender = "+447700900555"  # a phone number, as WhatsApp sender ids are
    case_id = new_case(console.db_url, sender, seed.RUNNERS_KNEE, start=time.time() - 7200,
                       **seed.RUNNERS_KNEE_CASE)
    seed.store(console.engine, sender, seed.short("it's back again"), start=time.time() - 60)  # second session
    keep = new_case(console.db_url, "keep-this-one", seed.short("my other knee"))
    with session_scope(console.db_url) as session:
        request_callback(session, sender, name="Pat", phone=sender)
    admin = console.as_role("admin")
    admin.post(console.url(f"/cases/{case_id}/notes"), data={"note": "seen", "csrf": console.csrf(admin)},
               timeout=10)
    confirm = admin.get(console.url(f"/cases/{case_id}/erase"), timeout=10)
    assert confirm.status_code == 200 and "cannot be undone" in confirm.text
    stored = int(re.search(r"(\d+) stored event", confirm.text).group(1))
    assert stored > 30
    token = csrf_in(confirm.text)
    unconfirmed = admin.post(console.url(f"/cases/{case_id}/erase"), data={"csrf": token}, allow_redirects=False,
                             timeout=10)
    assert unconfirmed.status_code == 303 and unconfirmed.headers["location"].endswith("/erase")

    def events_of(who: str) -> int:
        with console.engine.connect() as connection:
            return connection.execute(select(func.count()).select_from(events)
                                      .where(events.c.sender_id == who)).scalar_one()

    assert events_of(sender) == stored
    erased = admin.post(console.url(f"/cases/{case_id}/erase"), data={"csrf": token, "confirm": "erase"},
                        allow_redirects=False, timeout=10)
    assert erased.status_code == 303 and erased.headers["location"] == f"/inbox?erased={case_id}"
    assert events_of(sender) == 0 and events_of("keep-this-one") == 7
    with session_scope(console.db_url) as session:
        assert session.get(Case, case_id) is None and session.get(Case, keep) is not None
        for model in (Note, Callback):
            assert session.execute(select(func.count(model.id)).where(model.case_id == case_id)).scalar_one() == 0
        entry = session.execute(select(AuditEntry).where(AuditEntry.action == "erase",
                                                         AuditEntry.case_id == case_id)).scalar_one()
        assert entry.username == "admin" and sender not in entry.detail
    assert admin.get(console.url(f"/cases/{case_id}"), timeout=10).status_code == 404
    assert "was erased" in admin.get(console.url(f"/inbox?erased={case_id}"), timeout=10).text


def test_login_is_rate_limited_per_user_and_per_address(console: Console) -> None:
    add_users(console.db_url, "ratelimited")
    here, elsewhere = {"X-Forwarded-For": "198.51.100.1"}, {"X-Forwarded-For": "198.51.100.99"}
    for _ in range(5):
        assert console.login("ratelimited", "wrong password!", **here).status_code == 401
    locked = console.login("ratelimited", PASSWORD, **here)  # even the right password, for now
    assert locked.status_code == 429 and int(locked.headers["retry-after"]) > 0
    assert console.login("ratelimited", PASSWORD, **elsewhere).status_code == 429
    assert console.login("receptionist", PASSWORD, **here).status_code == 303  # other users are not locked out

    spraying = {"X-Forwarded-For": "198.51.100.2"}
    for n in range(20):
        assert console.login(f"guess{n}", "wrong password!", **spraying).status_code == 401
    assert console.login("clinician", PASSWORD, **spraying).status_code == 429
    assert console.login("clinician", PASSWORD, **elsewhere).status_code == 303


def test_session_cookies_and_logout(console: Console) -> None:
    http = requests.Session()
    response = console.login("receptionist", http=http)
    cookie = response.headers["set-cookie"]
    assert "console_session=" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # plain http on the loopback
    proxied = console.login("receptionist", **{"X-Forwarded-For": "198.51.100.7", "X-Forwarded-Proto": "https"})
    assert "Secure" in proxied.headers["set-cookie"]

    form = requests.Session()
    evil = form.post(console.url("/login"), data={"username": "receptionist", "password": PASSWORD,
                                                  "csrf": csrf_in(form.get(console.url("/login"), timeout=10).text),
                                                  "next": "//evil.example/phish"}, allow_redirects=False, timeout=10)
    assert evil.status_code == 303 and evil.headers["location"] == "/inbox"  # no open redirect

    stolen = dict(http.cookies)
    assert http.get(console.url("/inbox"), allow_redirects=False, timeout=10).status_code == 200
    out = http.post(console.url("/logout"), data={"csrf": console.csrf(http)}, allow_redirects=False, timeout=10)
    assert out.status_code == 303
    replay = requests.get(console.url("/inbox"), cookies=stolen, allow_redirects=False, timeout=10)
    assert replay.status_code == 303  # the session ended on the server, not just in the browser


def test_admin_manages_users(console: Console) -> None:
    admin = console.as_role("admin")
    token = console.csrf(admin, "/admin/users")
    short = admin.post(console.url("/admin/users"), data={"csrf": token, "username": "newdesk", "role": "receptionist",
                                                          "password": "short"}, timeout=10)
    assert short.status_code == 400 and "12 characters" in short.text
    made = admin.post(console.url("/admin/users"), data={"csrf": token, "username": "newdesk",
                                                         "role": "receptionist", "password": PASSWORD},
                      allow_redirects=False, timeout=10)
    assert made.status_code == 303
    desk = requests.Session()
    assert console.login("newdesk", http=desk).status_code == 303
    assert desk.get(console.url("/admin/users"), timeout=10).status_code == 403
    new_id = user_id(console, "newdesk")
    promoted = admin.post(console.url(f"/admin/users/{new_id}"), data={"csrf": token, "change": "role",
                                                                        "role": "clinician"}, timeout=10)
    assert promoted.status_code == 200 and "Role changed." in promoted.text
    deactivated = admin.post(console.url(f"/admin/users/{new_id}"),
                             data={"csrf": token, "change": "active", "active": "no"}, timeout=10)
    assert deactivated.status_code == 200
    assert desk.get(console.url("/inbox"), allow_redirects=False, timeout=10).status_code == 303  # signed out
    assert console.login("newdesk").status_code == 401
    own = admin.post(console.url(f"/admin/users/{user_id(console, 'admin')}"),
                     data={"csrf": token, "change": "role", "role": "receptionist"}, timeout=10)
    assert own.status_code == 400 and "your own admin rights" in own.text


def test_inbox_search_filters_and_csv_export(console: Console) -> None:
    new_case(console.db_url, "csv-1", seed.short("=HYPERLINK(\"http://evil\") quokka knee"), channel="csvtest",
             answers={}, conditions=[("acl_injury", 0.6)], triage_level="urgent", red_flags=[], advice=[],
             reasons=[])
    new_case(console.db_url, "csv-2", seed.short("quokka too, both knees"), channel="csvtest")
    new_case(console.db_url, "csv-3", seed.short("nothing in common"), channel="othertest")
    reception = console.as_role("receptionist")
    found = reception.get(console.url("/inbox"), params={"q": "quokka"}, timeout=10).text
    assert "2 conversations" in found and "nothing in common" not in found
    urgent = reception.get(console.url("/inbox"), params={"q": "quokka", "level": "urgent"}, timeout=10).text
    assert "1 conversation<" in urgent and "both knees" not in urgent and "ACL injury" in urgent

    exported = reception.get(console.url("/inbox.csv"), params={"channel": "csvtest"}, timeout=10)
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    assert "attachment" in exported.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert sorted(r["first message"] for r in rows) == ["'=HYPERLINK(\"http://evil\") quokka knee",
                                                        "quokka too, both knees"]  # no formula runs
    assert {r["triage level"] for r in rows} == {"Urgent", ""}
    with session_scope(console.db_url) as session:
        entry = session.execute(select(AuditEntry).where(AuditEntry.action == "export_csv")
                                .order_by(AuditEntry.id.desc())).scalars().first()
        assert entry.username == "receptionist" and entry.detail.startswith("2 rows; channel=csvtest")


def test_json_export_of_one_conversation(console: Console, runner_case: int) -> None:
    reception = console.as_role("receptionist")
    exported = reception.get(console.url(f"/cases/{runner_case}/export.json"), timeout=10)
    assert exported.status_code == 200 and "attachment" in exported.headers["content-disposition"]
    body = exported.json()
    assert body["conversation_id"] == "http-runner" and body["triage_level"] == "routine"
    assert body["conditions"][0] == {"id": "patellofemoral_pain", "score": 0.71}
    texts = [e["data"].get("text") for e in body["events"] if e["type"] == "user"]
    assert texts[0].startswith("hi, my right knee hurts") and len(body["events"]) > 30
    assert "export_json" in audit_actions(console, runner_case)


def test_attention_view_and_review(console: Console) -> None:
    emergency = new_case(console.db_url, "attention-emergency", seed.short("I can't put weight on it after a fall"),
                         answers={}, conditions=[("fracture", 1.0)], triage_level="emergency",
                         red_flags=["fracture"], advice=[], reasons=[])
    flagged = new_case(console.db_url, "attention-flag", seed.short("pain at night and I've lost weight"),
                       answers={}, conditions=[("malignancy", 1.0)], triage_level="soon",
                       red_flags=["malignancy"], advice=[], reasons=[])
    reception = console.as_role("receptionist")
    page = reception.get(console.url("/attention"), timeout=10).text
    # Emergencies first, red flags at a routine level after them, however new.
    assert page.index(f'href="/cases/{emergency}"') < page.index(f'href="/cases/{flagged}"')
    reviewed = reception.post(console.url(f"/cases/{emergency}/review"),
                              data={"csrf": console.csrf(reception), "reviewed": "yes"}, allow_redirects=False,
                              timeout=10)
    assert reviewed.status_code == 303
    assert f'href="/cases/{emergency}"' not in reception.get(console.url("/attention"), timeout=10).text
    assert "Reviewed by receptionist" in reception.get(console.url(f"/cases/{emergency}"), timeout=10).text


def test_dashboard_draws_server_side_svg(console: Console, runner_case: int) -> None:
    page = console.as_role("receptionist").get(console.url("/dashboard"), timeout=10)
    assert page.status_code == 200
    assert page.text.count('<svg class="chart"') == 3 and 'role="img"' in page.text
    assert "Started" in page.text and "Completed triage" in page.text and "Booked" in page.text
    assert re.search(r"<title[^>]*>Conversations by triage level: Emergency \d+; Urgent \d+", page.text)
    assert "median messages" in page.text


def test_pages_load_nothing_from_elsewhere(console: Console, runner_case: int) -> None:
    admin = console.as_role("admin")
    for path in ("/login", "/inbox", "/attention", f"/cases/{runner_case}", "/dashboard", "/admin/users",
                 "/admin/audit"):
        page = admin.get(console.url(path), timeout=10).text
        assert "<script" not in page, path
        assert not re.search(r'(src|href)="(https?:)?//', page), path
    css = requests.get(console.url("/static/console.css"), timeout=10)
    assert css.status_code == 200 and "url(" not in css.text


def test_logs_hold_no_patient_data(console: Console) -> None:
    case_id = new_case(console.db_url, "+447700900321", seed.short("zebrafinch knee pain"))
    reception = console.as_role("receptionist")
    reception.get(console.url("/inbox"), params={"q": "zebrafinch"}, timeout=10)
    reception.get(console.url(f"/cases/{case_id}"), timeout=10)
    reception.get(console.url(f"/cases/{case_id}/export.json"), timeout=10)
    reception.get(console.url("/inbox"), params={"q": "x" * 5000}, timeout=10)
    time.sleep(0.2)
    log = console.log.read_text()
    assert "GET inbox 200" in log and "GET show 200" in log  # it does log requests...
    assert "zebrafinch" not in log and "447700900321" not in log and "xxxx" not in log  # ...but not what is in them


def test_security_headers_on_every_response(console: Console) -> None:
    admin = console.as_role("admin")
    responses = {"page": admin.get(console.url("/inbox"), timeout=10),
                 "sign-in": requests.get(console.url("/login"), timeout=10),
                 "stylesheet": requests.get(console.url("/static/console.css"), timeout=10),
                 "not found": requests.get(console.url("/static/"), timeout=10),
                 "refused": admin.get(console.url("/inbox?since=0000-01-01"), timeout=10)}
    assert [r.status_code for r in responses.values()] == [200, 200, 200, 404, 400]
    for name, response in responses.items():
        headers = response.headers
        assert "frame-ancestors 'none'" in headers["content-security-policy"], name
        assert "default-src 'none'" in headers["content-security-policy"], name
        assert headers["x-frame-options"] == "DENY" and headers["x-content-type-options"] == "nosniff", name
        assert headers["referrer-policy"] == "no-referrer", name
        assert headers["cross-origin-resource-policy"] == "same-origin", name
        assert "strict-transport-security" not in headers, name  # plain http on the loopback
    assert responses["page"].headers["cache-control"] == "no-store"
    proxied = requests.get(console.url("/login"), headers={"X-Forwarded-For": "198.51.100.8",
                                                           "X-Forwarded-Proto": "https"}, timeout=10)
    assert proxied.headers["strict-transport-security"].startswith("max-age=")
