"""A small Sanic app serving the demo pages, the widget and its socket.io client.

Security headers (see `headers_for`): the demo pages get a strict Content-Security-Policy (scripts
and styles from this origin only, connections to this origin and the Rasa server's socket.io, no
framing) and refuse to be framed; the widget files are public and made to be loaded by clinics'
own sites, so they are marked cross-origin (CORP and CORS) but never sniffed as another type.
"""

from __future__ import annotations

import html
import mimetypes
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from sanic import Sanic, response
from sanic.exceptions import NotFound
from sanic.request import Request
from sanic.response import HTTPResponse

ROOT = Path(__file__).resolve().parents[2]
PAGES = ROOT / "web" / "demo"
WIDGET = ROOT / "web" / "widget"
SOCKET_IO = ROOT / "node_modules" / "socket.io-client" / "dist" / "socket.io.min.js"
# The browser must always fetch the current widget; it is small.
NO_STORE = {"Cache-Control": "no-cache"}
WIDGET_ROUTES = ("widget", "socket_io")  # route names of the files clinics embed
# Every response: never sniffed as another type, no referrer (the page names a condition), nothing framed.
COMMON_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'; base-uri 'none'",
}
# The widget's files are loaded by <script>/<link> from other origins (clinics' sites), including ones
# that send Cross-Origin-Embedder-Policy or use Subresource Integrity (crossorigin="anonymous").
WIDGET_HEADERS = {"Cross-Origin-Resource-Policy": "cross-origin", "Access-Control-Allow-Origin": "*"}


@dataclass(frozen=True)
class WebSettings:
    socket_url: str  # where the widget's socket.io connects: the Rasa server
    clinic_name: str
    colour: str = "#0b6e4f"
    host: str = "127.0.0.1"
    port: int = 8000


def _file(path: Path, base: Path) -> Path:
    """path if it is a file inside base (no ../ escapes), else 404."""
    resolved = path.resolve()
    if base.resolve() not in resolved.parents or not resolved.is_file():
        raise NotFound("not found")
    return resolved


def create_app(settings: WebSettings) -> Sanic:
    app = Sanic("knee_web")

    page_headers = headers_for_pages(settings.socket_url)

    def page(name: str) -> HTTPResponse:
        text = _file(PAGES / name, PAGES).read_text(encoding="utf-8")
        # The widget's settings as data- attributes on its tag: the strict CSP allows no inline script.
        config = {"clinic-name": settings.clinic_name, "colour": settings.colour, "socket-url": settings.socket_url}
        attributes = " ".join(f'data-{key}="{html.escape(value, quote=True)}"' for key, value in config.items())
        text = text.replace("{{WIDGET_ATTRIBUTES}}", attributes)
        text = text.replace("{{CLINIC_NAME}}", html.escape(settings.clinic_name))
        return response.html(text, headers={**NO_STORE, **page_headers})

    @app.get("/")
    async def home(_: Request) -> HTTPResponse:
        return page("index.html")

    @app.get("/<name:str>")
    async def other_page(_: Request, name: str) -> HTTPResponse:
        if not re.fullmatch(r"[a-z0-9-]+\.html", name):
            raise NotFound("not found")
        return page(name)

    @app.get("/site.css")
    async def site_css(_: Request) -> HTTPResponse:
        return await response.file(PAGES / "site.css", mime_type="text/css", headers=NO_STORE)

    @app.get("/widget/vendor/socket.io.min.js")
    async def socket_io(_: Request) -> HTTPResponse:
        if not SOCKET_IO.is_file():
            return response.text("socket.io-client is not installed: run `npm ci` (scripts/setup does)", status=500)
        return await response.file(SOCKET_IO, mime_type="application/javascript", headers=NO_STORE)

    @app.get("/widget/<name:str>")
    async def widget(_: Request, name: str) -> HTTPResponse:
        if not re.fullmatch(r"[a-z0-9-]+\.(js|css)", name):
            raise NotFound("not found")
        path = _file(WIDGET / name, WIDGET)
        mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return await response.file(path, mime_type=mime, headers=NO_STORE)

    @app.get("/health")
    async def health(_: Request) -> HTTPResponse:
        return response.json({"status": "ok"})

    @app.on_response
    async def security_headers(request: Request, response: HTTPResponse) -> None:
        """Error pages included; a page's own stricter headers (set by `page`) are kept."""
        for name, value in COMMON_HEADERS.items():
            response.headers.setdefault(name, value)
        route = request.route.name.rsplit(".", 1)[-1] if request.route else ""
        if route in WIDGET_ROUTES and response.status == 200:
            response.headers.update(WIDGET_HEADERS)
        else:
            response.headers.setdefault("Cross-Origin-Resource-Policy", "same-origin")

    return app


def headers_for_pages(socket_url: str) -> dict[str, str]:
    """The demo pages' headers. The widget on them connects to the Rasa server (socket.io over a WebSocket,
    falling back to HTTP long-polling): both forms of its origin are allowed to connect, nothing else is."""
    connect = ["'self'"]
    address = urlsplit(socket_url)
    if address.scheme in ("http", "https") and address.netloc:
        secure = address.scheme == "https"
        connect += [f"{address.scheme}://{address.netloc}", f"{'wss' if secure else 'ws'}://{address.netloc}"]
    policy = {
        "default-src": "'none'", "script-src": "'self'", "style-src": "'self'", "img-src": "'self' data:",
        "connect-src": " ".join(connect), "form-action": "'self'", "frame-ancestors": "'none'", "base-uri": "'none'",
    }
    return {
        "Content-Security-Policy": "; ".join(f"{key} {value}" for key, value in policy.items()),
        "X-Frame-Options": "DENY",
        "Cross-Origin-Opener-Policy": "same-origin",
        "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
    }
