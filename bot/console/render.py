"""Jinja2 templates (autoescaped: every patient's word is text, never markup) and display labels."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, FileSystemLoader
from sanic import Request
from sanic.response import HTTPResponse, html

from bot.console.settings import Settings
from bot.store.models import ROLES, TRIAGE_LEVELS
from bot.store.queries import CLINICIAN_FILTERS
from bot.store.safe_text import clean
from bot.triage.vocabulary import CONDITIONS, RED_FLAG_CONDITIONS

TEMPLATES = Path(__file__).with_name("templates")
LEVEL_LABELS = {"emergency": "Emergency", "urgent": "Urgent", "soon": "Soon", "routine": "Routine",
                "self_care": "Self-care"}
_ACRONYMS = {"acl": "ACL", "itb": "ITB", "dvt": "DVT", "scfe": "SCFE"}


def condition_label(cid: str | None) -> str:
    """"acl_injury" -> "ACL injury": short names for staff (the knowledge base's are for patients)."""
    if not cid:
        return ""
    words = [_ACRONYMS.get(w, w) for w in cid.split("_")]
    return " ".join([words[0][:1].upper() + words[0][1:], *words[1:]])


def answer_value(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(answer_value(v) for v in value)
    return str(value).replace("_", " ")


def make_environment(settings: Settings) -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True, trim_blocks=True, lstrip_blocks=True)
    tz = settings.timezone

    def local(value: datetime | None) -> datetime | None:
        return value.replace(tzinfo=timezone.utc).astimezone(tz) if value else None

    def when(value: datetime | None) -> str:
        moment = local(value)
        if moment is None:
            return ""
        now = datetime.now(tz)
        day = "Today" if moment.date() == now.date() else moment.strftime("%-d %b" if moment.year == now.year
                                                                          else "%-d %b %Y")
        return f"{day} {moment:%H:%M}"

    env.filters.update(
        when=when,
        clock=lambda value: f"{local(value):%H:%M}" if value else "",
        iso=lambda value: local(value).isoformat(timespec="seconds") if value else "",
        level_label=lambda level: LEVEL_LABELS.get(level or "", "Not completed"),
        condition_label=condition_label,
        answer_key=lambda key: key.replace("_", " ").capitalize(),
        answer_value=answer_value,
        percent=lambda part, whole: f"{round(100 * part / whole)}%" if whole else "–",
    )
    env.globals.update(
        LEVELS=TRIAGE_LEVELS, LEVEL_LABELS=LEVEL_LABELS, ROLES=ROLES, CONDITIONS=CONDITIONS,
        RED_FLAG_CONDITIONS=RED_FLAG_CONDITIONS, CLINICIAN_FILTERS=CLINICIAN_FILTERS, TIMEZONE=str(tz),
        query=_query,
    )
    return env


def _query(args: dict[str, str], **extra: str | None) -> str:
    """A query string: `args` with `extra` added, where an empty extra value removes that key."""
    merged = {**args, **extra}
    return urlencode({k: v for k, v in merged.items() if v})


def render(request: Request, template: str, *, status: int = 200, **context: Any) -> HTTPResponse:
    context.setdefault("user", getattr(request.ctx, "user", None))
    context.setdefault("csrf", getattr(request.ctx, "csrf", ""))
    context.setdefault("path", request.path)
    # Cleaned once more as a whole: a stored value from before the sync cleaned texts must not stop the page.
    return html(clean(request.app.ctx.templates.get_template(template).render(**context)), status=status)


def refuse(request: Request, status: int, message: str) -> HTTPResponse:
    """An error page that says what happened and nothing about the data."""
    titles = {400: "Not accepted", 403: "Not allowed", 404: "Not found", 429: "Too many attempts"}
    return render(request, "error.html", status=status, title=titles.get(status, "Something went wrong"),
                  message=message)
