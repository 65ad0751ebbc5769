"""The console's Sanic application."""

from __future__ import annotations

import logging
import time
from pathlib import Path

from sanic import Request, Sanic
from sanic.exceptions import MethodNotSupported, NotFound, SanicException
from sanic.handlers import ErrorHandler
from sanic.response import HTTPResponse, file, text

from bot.console.auth import PUBLIC
from bot.console.ratelimit import LoginLimiter
from bot.console.render import make_environment, refuse
from bot.console.settings import Settings
from bot.console.views import admin, case, dashboard, inbox, live, login
from bot.store import inputs
from bot.store.db import session_scope
from bot.store.migrate import migrate
from bot.store.sync import sync_events

FORM = "application/x-www-form-urlencoded"
STATIC = Path(__file__).with_name("static")
# All there is: nothing else is served.
STATIC_FILES = {path.name: path for pattern in ("*.css", "*.js") for path in STATIC.glob(pattern)}
MIME = {".css": "text/css", ".js": "text/javascript"}
log = logging.getLogger("bot.console")

# No inline script or style, nothing from another origin, no framing.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
                               "frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}
# The live chat pages run the console's own script (new messages as server-sent events); no inline code, and
# every other page runs none at all.
LIVE_CSP = ("default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; img-src 'self' data:; "
            "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
HSTS = "max-age=31536000"  # sent over https only (a proxy in front says so), never on the plain-http loopback


class ConsoleErrors(ErrorHandler):
    """Error pages that reveal nothing, and error logs without URLs (they can hold search words)."""

    def default(self, request: Request, exception: Exception) -> HTTPResponse:
        if isinstance(exception, inputs.InputError):  # raised outside a page's guard, e.g. mid-export
            return text("Not accepted.\n", status=400)
        status = getattr(exception, "status_code", 500) if isinstance(exception, SanicException) else 500
        if status >= 500:
            route = request.route.name if request and request.route else "-"
            log.error("error in %s: %s", route, type(exception).__name__, exc_info=exception)
        if isinstance(exception, (NotFound, MethodNotSupported)):
            return text("Not found.\n", status=404)
        return text("Something went wrong.\n" if status >= 500 else "Not accepted.\n", status=status)


def create_app(settings: Settings, *, name: str = "knee_console") -> Sanic:
    app = Sanic(name, error_handler=ConsoleErrors())
    app.config.PROXIES_COUNT = settings.proxies_count
    app.config.REQUEST_MAX_SIZE = 1_000_000  # forms only
    app.ctx.settings = settings
    app.ctx.templates = make_environment(settings)
    app.ctx.limiter = LoginLimiter()
    # `<case_id:id>` in a route: an id in the range the databases hold, else the route does not match (404).
    app.router.register_pattern("id", inputs.record_id, r"^[0-9]{1,19}$")
    for module in (login, inbox, case, dashboard, admin, live):
        app.blueprint(module.bp)

    @app.get("/static/<name:str>", name="static")
    async def static(_: Request, name: str) -> HTTPResponse:
        """The stylesheet and the live chat's script, for signed-out pages too (hence no access rule: see the
        `.static` checks). Neither holds anything but code."""
        if name not in STATIC_FILES:
            raise NotFound("not found")
        return await file(STATIC_FILES[name], mime_type=MIME[STATIC_FILES[name].suffix])

    @app.before_server_start
    async def prepare(app: Sanic, _loop: object) -> None:
        unguarded = [route.path for route in app.router.routes
                     if not route.name.endswith(".static") and not hasattr(route.handler, "console_access")]
        if unguarded:
            raise RuntimeError(f"routes without an access rule: {unguarded}")
        migrate(settings.database_url)
        with session_scope(settings.database_url) as session:
            sync_events(session)

    @app.on_request
    async def refuse_unreadable_bodies(request: Request) -> HTTPResponse | None:
        """The console's forms are URL-encoded UTF-8; anything else is refused before Sanic's form parser
        meets it (which would log a traceback and carry on with an empty form)."""
        if not request.body:
            return None
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        try:
            request.body.decode("utf-8")
        except UnicodeDecodeError:
            content_type = ""
        if content_type != FORM:
            return text("Not accepted.\n", status=400)
        return None

    @app.on_request
    async def deny_unguarded(request: Request) -> HTTPResponse | None:
        """Belt and braces: a route that forgot its access rule answers 403, never its page."""
        request.ctx.started = time.perf_counter()
        route = request.route
        if route and not route.name.endswith(".static") and getattr(route.handler, "console_access", None) is None:
            return refuse(request, 403, "This page has no access rule.")
        return None

    @app.on_response
    async def headers(request: Request, response: HTTPResponse) -> None:
        response.headers.update(SECURITY_HEADERS)
        if request.route and request.route.name.split(".")[-2:-1] == ["live"]:
            response.headers["Content-Security-Policy"] = LIVE_CSP
        if request.scheme == "https":
            response.headers["Strict-Transport-Security"] = HSTS
        route = request.route.name if request.route else "-"
        if not route.endswith(".static"):
            response.headers["Cache-Control"] = "no-store"  # pages hold patient data
            # Route names only: paths and query strings can carry personal data.
            elapsed = (time.perf_counter() - getattr(request.ctx, "started", time.perf_counter())) * 1000
            log.info("%s %s %s %.0fms", request.method, route.split(".")[-1], response.status, elapsed)

    return app


__all__ = ["PUBLIC", "create_app"]
