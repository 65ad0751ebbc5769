"""The dashboard: outcomes by level and condition, the funnel, conversation length, as SVG charts."""

from __future__ import annotations

from datetime import datetime, timedelta

from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from bot.console.auth import guarded
from bot.console.charts import Bar, bar_chart
from bot.console.render import LEVEL_LABELS, condition_label, render
from bot.store import inputs, stats
from bot.store.sync import sync_events

bp = Blueprint("dashboard")
DEFAULT_DAYS = 30
TOP_CONDITIONS = 12


@bp.get("/dashboard")
@guarded("receptionist")
async def dashboard(request: Request) -> HTTPResponse:
    session, tz = request.ctx.db, request.app.ctx.settings.timezone
    sync_events(session)
    today = datetime.now(tz).date()
    until = inputs.day(request.args.get("until"), "until") or today
    since = inputs.day(request.args.get("since"), "since") or until - timedelta(days=DEFAULT_DAYS - 1)
    if since > until:
        since, until = until, since
    figures = stats.dashboard(session, since, until, tz)
    levels = bar_chart([Bar(LEVEL_LABELS[level], n, f"bar level-{level}") for level, n in figures.by_level],
                       title="Conversations by triage level")
    shown = figures.by_condition[:TOP_CONDITIONS]
    conditions = bar_chart([Bar(condition_label(cid), n) for cid, n in shown],
                           title="Conversations by likely condition")

    def share(n: int) -> str:
        return f"({round(100 * n / figures.started)}%)" if figures.started else ""

    funnel = bar_chart([Bar("Started", figures.started, "bar funnel-1"),
                        Bar("Completed triage", figures.completed, "bar funnel-2", share(figures.completed)),
                        Bar("Booked", figures.booked, "bar funnel-3", share(figures.booked))],
                       title="From first message to booking")
    return render(request, "dashboard.html", figures=figures, levels=levels, conditions=conditions, funnel=funnel,
                  more_conditions=len(figures.by_condition) - len(shown))
