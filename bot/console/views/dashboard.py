"""The dashboard: outcomes by level and condition, the funnel, conversation length, as SVG charts; for
clinicians also how often the assistant agrees with them, as a CSV too, and the reviewed conversations
as test vignettes."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta

from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from bot.console.auth import guarded
from bot.console.charts import Bar, bar_chart
from bot.console.render import LEVEL_LABELS, condition_label, render
from bot.console.views.inbox import channel_choices, safe_cell
from bot.store import audit, inputs, stats
from bot.store.agreement import KAPPA_WEIGHTS, Agreement, agreement, share
from bot.store.models import TRIAGE_LEVELS
from bot.store.queries import InboxFilter
from bot.store.sync import sync_events
from bot.store.vignettes import to_yaml, vignettes

bp = Blueprint("dashboard")
DEFAULT_DAYS = 30
TOP_CONDITIONS = 12
TOP_DISAGREEMENTS = 10


def _period(request: Request) -> InboxFilter:
    """The period (default: the last 30 days) and channel (default: all) from the address."""
    today = datetime.now(request.app.ctx.settings.timezone).date()
    until = inputs.day(request.args.get("until"), "until") or today
    since = inputs.day(request.args.get("since"), "since") or until - timedelta(days=DEFAULT_DAYS - 1)
    if since > until:
        since, until = until, since
    return InboxFilter(since=since, until=until, channel=inputs.word(request.args.get("channel"), "channel"))


@bp.get("/dashboard")
@guarded("receptionist")
async def dashboard(request: Request) -> HTTPResponse:
    session, tz = request.ctx.db, request.app.ctx.settings.timezone
    sync_events(session)
    selected = _period(request)
    figures = stats.dashboard(session, selected.since, selected.until, tz, selected.channel)
    levels = bar_chart([Bar(LEVEL_LABELS[level], n, f"bar level-{level}") for level, n in figures.by_level],
                       title="Conversations by triage level")
    shown = figures.by_condition[:TOP_CONDITIONS]
    conditions = bar_chart([Bar(condition_label(cid), n) for cid, n in shown],
                           title="Conversations by likely condition")

    def part(n: int) -> str:
        return f"({round(100 * n / figures.started)}%)" if figures.started else ""

    funnel = bar_chart([Bar("Started", figures.started, "bar funnel-1"),
                        Bar("Completed triage", figures.completed, "bar funnel-2", part(figures.completed)),
                        Bar("Booked", figures.booked, "bar funnel-3", part(figures.booked))],
                       title="From first message to booking")
    # Agreement with the clinicians is clinical governance: for clinicians and admins.
    agreed = agreement(session, selected, tz) if request.ctx.user.can("clinician") else None
    channels = channel_choices(request)
    if selected.channel and selected.channel not in channels:  # new since the list was read: still shown chosen
        channels = [*channels, selected.channel]
    return render(request, "dashboard.html", figures=figures, levels=levels, conditions=conditions, funnel=funnel,
                  more_conditions=len(figures.by_condition) - len(shown), selected=selected,
                  args=selected.as_args(), channels=channels, agreement=agreed,
                  disagreements=agreed.conditions[:TOP_DISAGREEMENTS] if agreed else (), share=share,
                  kappa_weights=KAPPA_WEIGHTS)


@bp.get("/dashboard/agreement.csv")
@guarded("clinician")
async def agreement_csv(request: Request) -> HTTPResponse:
    session, tz = request.ctx.db, request.app.ctx.settings.timezone
    sync_events(session)
    selected = _period(request)
    figures = agreement(session, selected, tz)
    audit.record(session, request.ctx.user.username, "export_agreement",
                 detail=f"{figures.reviewed} reviewed; {selected.describe()}")
    buffer = io.StringIO()
    csv.writer(buffer).writerows([[safe_cell(v) for v in row] for row in agreement_rows(figures, str(tz))])
    name = f"agreement-{selected.since:%Y%m%d}-{selected.until:%Y%m%d}.csv"
    return HTTPResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})


def agreement_rows(figures: Agreement, timezone: str) -> list[list[object]]:
    """The dashboard's agreement figures as spreadsheet rows: the figures, the level table, the conditions.

    Blank cells where a figure is undefined (nothing reviewed; kappa with one level only)."""
    selected = figures.selected

    def blank(value: object) -> object:
        return "" if value is None else value

    rows: list[list[object]] = [
        ["figure", "value"],
        ["from", selected.since.isoformat()], ["to", selected.until.isoformat()], ["time zone", timezone],
        ["channel", selected.channel or "all"],
        ["assessed conversations", figures.assessed],
        ["reviewed by a clinician", figures.reviewed],
        ["reviewed (% of assessed)", blank(share(figures.reviewed, figures.assessed))],
        ["same triage level", figures.level_agreed],
        ["same triage level (%)", blank(share(figures.level_agreed, figures.reviewed))],
        [f"Cohen's kappa, {KAPPA_WEIGHTS} weights", blank(figures.kappa)],
        ["under-triage: assistant less urgent", figures.under_triage],
        ["over-triage: assistant more urgent", figures.over_triage],
        ["conditions compared", figures.condition_pairs],
        ["same likely condition (%)", blank(share(figures.top1, figures.condition_pairs))],
        ["clinician's condition in the assistant's top 3 (%)", blank(share(figures.top3, figures.condition_pairs))],
        [],
        ["assistant level \\ clinician level", *(LEVEL_LABELS[level] for level in TRIAGE_LEVELS)],
        *([LEVEL_LABELS[level], *row] for level, row in zip(TRIAGE_LEVELS, figures.confusion, strict=True)),
        [],
        ["condition", "disagreements", "assistant said it, clinician another",
         "clinician said it, assistant another", "of which in the assistant's top 3"],
        *([condition_label(m.condition), m.total, m.assistant_only, m.clinician_only, m.clinician_only_in_top]
          for m in figures.conditions),
    ]
    return rows


@bp.get("/dashboard/vignettes.yml")
@guarded("clinician")
async def vignettes_yaml(request: Request) -> HTTPResponse:
    session, tz = request.ctx.db, request.app.ctx.settings.timezone
    sync_events(session)
    selected = _period(request)
    found = vignettes(session, selected, tz)
    audit.record(session, request.ctx.user.username, "export_vignettes",
                 detail=f"{len(found)} vignettes; {selected.describe()}")
    name = f"vignettes-{selected.since:%Y%m%d}-{selected.until:%Y%m%d}.yml"
    return HTTPResponse(to_yaml(found, since=selected.since, until=selected.until, channel=selected.channel),
                        content_type="application/yaml; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})
