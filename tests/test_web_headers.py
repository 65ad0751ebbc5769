"""The demo website's and the widget files' security headers (issue 9, item 5).

Real HTTP against `python -m bot.web`, and headless Chromium (Debian's package): the widget still
talks to the real Rasa server under the demo page's policy, and it can be embedded by a clinic's
own site on another origin that sends a strict CSP and Cross-Origin-Embedder-Policy, which is
what the README tells clinics to allow.
"""

from __future__ import annotations

import os
import re
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from playwright.sync_api import Browser, Page

from bot.web.app import headers_for_pages
from tests.conftest import RunningBot, free_port, serving

PAGES = ("/", "/contact.html")
WIDGET_FILES = {"/widget/widget.js": "javascript", "/widget/widget.css": "text/css",
                "/widget/vendor/socket.io.min.js": "javascript"}
# Collects every CSP violation the page reports, from before any of its scripts run.
WATCH_VIOLATIONS = ("window.__violations = [];"
                    "document.addEventListener('securitypolicyviolation', e => "
                    "window.__violations.push(e.effectiveDirective + ' ' + e.blockedURI));")


@dataclass(frozen=True)
class Website:
    base: str
    rasa_port: int  # where its pages tell the widget to connect (no Rasa runs there in this fixture)


@pytest.fixture(scope="module")
def website(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Website]:
    workdir = tmp_path_factory.mktemp("web")
    port, rasa_port = free_port(), free_port()
    base = f"http://127.0.0.1:{port}"
    env = dict(os.environ, WEB_PORT=str(port), RASA_PORT=str(rasa_port), PYTHONDONTWRITEBYTECODE="1")
    with serving([sys.executable, "-m", "bot.web"], env, workdir, [base + "/health"]):
        yield Website(base, rasa_port)


def policy(response: requests.Response) -> dict[str, str]:
    """The Content-Security-Policy header as {directive: sources}."""
    directives = [d.strip().split(None, 1) for d in response.headers["content-security-policy"].split(";")]
    return {d[0]: d[1] if len(d) > 1 else "" for d in directives if d}


def test_demo_pages_send_a_strict_policy(website: Website) -> None:
    for path in PAGES:
        response = requests.get(website.base + path, timeout=10)
        assert response.status_code == 200, path
        csp = policy(response)
        assert csp["default-src"] == "'none'" and csp["frame-ancestors"] == "'none'", path
        assert csp["script-src"] == "'self'" and csp["style-src"] == "'self'", path  # no inline, no eval
        rasa = f"127.0.0.1:{website.rasa_port}"
        assert csp["connect-src"].split() == ["'self'", f"http://{rasa}", f"ws://{rasa}"], path
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "no-referrer"
        # Nothing on the page needs what the policy forbids: no inline script or style.
        assert not re.search(r"<script(?![^>]*\bsrc=)", response.text), path
        assert "style=" not in response.text and "<style" not in response.text, path
        assert 'data-socket-url="http://127.0.0.1:' in response.text


def test_https_socket_url_allows_its_secure_websocket() -> None:
    connect = policy_of(headers_for_pages("https://chat.example-clinic.co.uk"))["connect-src"]
    assert connect.split() == ["'self'", "https://chat.example-clinic.co.uk", "wss://chat.example-clinic.co.uk"]
    assert policy_of(headers_for_pages(""))["connect-src"] == "'self'"  # the widget's default: the page's origin


def policy_of(headers: dict[str, str]) -> dict[str, str]:
    return {d.split(None, 1)[0]: d.split(None, 1)[1] for d in headers["Content-Security-Policy"].split("; ")}


def test_widget_files_can_be_loaded_from_any_site_but_never_sniffed(website: Website) -> None:
    for path, kind in WIDGET_FILES.items():
        response = requests.get(website.base + path, headers={"Origin": "https://www.example-clinic.co.uk"},
                                timeout=10)
        assert response.status_code == 200, path
        assert kind in response.headers["content-type"], path
        assert response.headers["x-content-type-options"] == "nosniff", path
        assert response.headers["cross-origin-resource-policy"] == "cross-origin", path
        assert response.headers["access-control-allow-origin"] == "*", path  # for integrity= with crossorigin
        assert response.headers["referrer-policy"] == "no-referrer", path
        assert "x-frame-options" not in response.headers  # a script is not a page


def test_everything_else_is_same_origin_and_errors_are_covered(website: Website) -> None:
    for path, status in (("/site.css", 200), ("/health", 200), ("/no-such-page.html", 404),
                         ("/widget/no-such.js", 404)):
        response = requests.get(website.base + path, timeout=10)
        assert response.status_code == status, path
        assert response.headers["x-content-type-options"] == "nosniff", path
        assert response.headers["cross-origin-resource-policy"] == "same-origin", path
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"], path


def violations(page: Page) -> list[str]:
    return page.evaluate("window.__violations")


def test_the_widget_talks_to_the_real_bot_under_the_policy(running_bot: RunningBot, browser: Browser) -> None:
    context = browser.new_context(locale="en-GB")
    context.add_init_script(WATCH_VIOLATIONS)
    page = context.new_page()
    page.goto(running_bot.web + "/")
    page.get_by_role("button", name="Chat about your knee").click()
    page.locator(".kc-bot .kc-text").first.wait_for(timeout=60_000)  # the greeting came over socket.io
    assert "not a diagnosis" in page.locator(".kc-log").inner_text()
    assert page.evaluate("getComputedStyle(document.querySelector('.kc-launcher')).position") == "fixed"
    assert violations(page) == []
    context.close()


class ClinicSite(BaseHTTPRequestHandler):
    """A clinic's own page on another origin, with the policy the README gives clinics."""

    page = b""
    headers_to_send: dict[str, str] = {}

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        self.send_response(200)
        for name, value in {"Content-Type": "text/html; charset=utf-8", **self.headers_to_send}.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(self.page)

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture
def clinic_site(website: Website) -> Iterator[str]:
    chat, rasa = website.base, f"127.0.0.1:{website.rasa_port}"
    ClinicSite.headers_to_send = {
        # What the README asks a clinic to allow: the chat host's script and stylesheet, its socket.io.
        "Content-Security-Policy": f"default-src 'self'; script-src 'self' {chat}; style-src 'self' {chat}; "
                                   f"connect-src 'self' http://{rasa} ws://{rasa}; frame-ancestors 'none'",
        # The strictest embedding a clinic can choose: every cross-origin file must say it may be embedded.
        "Cross-Origin-Embedder-Policy": "require-corp",
    }
    ClinicSite.page = (f'<!doctype html><html lang="en"><head><title>Clinic</title>'
                       f'<link id="control" rel="stylesheet" href="{chat}/site.css"></head>'
                       f'<body><h1>Our clinic</h1><script src="{chat}/widget/widget.js" '
                       f'data-clinic-name="Hillside Physio" data-socket-url="http://{rasa}"></script>'
                       f'</body></html>').encode()
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), ClinicSite)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_a_clinic_can_embed_the_widget_under_its_own_strict_policy(clinic_site: str, browser: Browser) -> None:
    context = browser.new_context(locale="en-GB")
    context.add_init_script(WATCH_VIOLATIONS)
    page = context.new_page()
    page.goto(clinic_site + "/")
    launcher = page.get_by_role("button", name="Chat about your knee")
    launcher.wait_for(timeout=10_000)  # widget.js loaded and ran
    assert page.evaluate("getComputedStyle(document.querySelector('.kc-launcher')).position") == "fixed"
    # The control: a file without Cross-Origin-Resource-Policy: cross-origin is refused, so the policy is on.
    # (the demo site's stylesheet, which would colour the page's background).
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") != "rgb(251, 250, 247)"
    launcher.click()  # loads socket.io-client from the chat host, which then tries to connect
    page.wait_for_function("typeof window.io === 'function'", timeout=10_000)
    assert page.get_by_role("dialog", name="Hillside Physio").is_visible()
    assert violations(page) == []
    context.close()
