"""A small Sanic app serving the demo pages, the widget and its socket.io client."""

from __future__ import annotations

import html
import json
import mimetypes
import re
from dataclasses import dataclass
from pathlib import Path

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

    def page(name: str) -> HTTPResponse:
        text = _file(PAGES / name, PAGES).read_text(encoding="utf-8")
        # The config is JSON inside <script> ("<" escaped so no value can close the tag); the name is HTML text.
        config = {"clinicName": settings.clinic_name, "colour": settings.colour, "socketUrl": settings.socket_url}
        text = text.replace("{{WIDGET_CONFIG}}", json.dumps(config).replace("<", "\\u003c"))
        text = text.replace("{{CLINIC_NAME}}", html.escape(settings.clinic_name))
        return response.html(text, headers=NO_STORE)

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

    return app
