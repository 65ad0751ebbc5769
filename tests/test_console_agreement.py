"""The dashboard's agreement figures, their CSV and the vignette download, over real HTTP.

The console runs as `python -m bot.console` over SQLite, then PostgreSQL, with the seeded corrections of
tests/test_agreement.py (figures worked out by hand there).
"""

from __future__ import annotations

import csv
import html
import io
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from bot.store.db import session_scope
from bot.store.models import AuditEntry, Case
from tests.console import seed
from tests.console.fixtures import ROOT, Console, new_case
from tests.test_agreement import seed_corrections

pytest_plugins = ["tests.console.fixtures"]
REST = {"channel": "rest"}


@pytest.fixture(scope="module")
def seeded(console_each_db: Console) -> Console:
    seed_corrections(console_each_db.db_url)
    return console_each_db


def last_audit(console: Console, action: str) -> AuditEntry:
    with session_scope(console.db_url) as session:
        return session.execute(select(AuditEntry).where(AuditEntry.action == action)
                               .order_by(AuditEntry.id.desc())).scalars().first()


def inbox_count(http: object, console: Console, href: str) -> int:
    page = http.get(console.url(html.unescape(href)), timeout=10).text
    return int(re.search(r'<p class="count" role="status">([\d,]+) conversation', page).group(1))


def test_clinicians_see_the_agreement_and_each_figure_leads_to_its_cases(seeded: Console) -> None:
    clinician = seeded.as_role("clinician")
    page = clinician.get(seeded.url("/dashboard"), params=REST, timeout=10).text
    section = page[page.index('id="agreement"'):]
    figures = re.findall(r'<span class="figure">(?:<a href="[^"]*">)?([^<]+)', section)
    # assessed, reviewed, same level, kappa, same condition, in top 3, under-triaged
    assert figures == ["10", "8", "62.5%", "0.71", "37.5%", "87.5%", "2"]
    assert 'cohen_kappa_score(weights="linear")' in html.unescape(section) and "linear weights" in section
    # The confusion table: under-triage cells are marked (colour and words), and each links to its cases.
    under = re.findall(r'<td class="under counted"><a href="([^"]+)">(\d+)</a><span class="visually-hidden"> '
                       r'under-triaged</span>', section)
    assert [n for _, n in under] == ["1", "1"]  # routine where the clinician said soon; self-care for routine
    for href, n in under:
        assert inbox_count(clinician, seeded, href) == int(n)
    # The conditions with the most disagreements, first the meniscal tear (1 + 2), each side a link.
    first_row = re.search(r'<table class="disagreements">.*?<tbody>\s*<tr>(.*?)</tr>', section, re.S).group(1)
    assert "Meniscal tear" in first_row and "<td>3</td>" in first_row
    links = re.findall(r'<a href="(/inbox\?[^"]+)">(\d+) cases?</a>', first_row)
    assert [n for _, n in links] == ["1", "2"]
    for href, n in links:
        assert inbox_count(clinician, seeded, href) == int(n)
    reviewed_link = re.search(r'<a href="(/inbox\?[^"]*clinician=reviewed[^"]*)">8</a>', section).group(1)
    assert inbox_count(clinician, seeded, reviewed_link) == 8
    assert "Only where the clinician said" in clinician.get(seeded.url(html.unescape(under[0][0])), timeout=10).text
    assert 'id="agreement"' in seeded.as_role("admin").get(seeded.url("/dashboard"), params=REST, timeout=10).text


def test_receptionists_see_the_dashboard_without_the_clinical_figures(seeded: Console) -> None:
    reception = seeded.as_role("receptionist")
    page = reception.get(seeded.url("/dashboard"), params=REST, timeout=10)
    assert page.status_code == 200 and "Funnel" in page.text
    assert 'id="agreement"' not in page.text and "agreement.csv" not in page.text
    for path in ("/dashboard/agreement.csv", "/dashboard/vignettes.yml"):
        refused = reception.get(seeded.url(path), timeout=10)
        assert refused.status_code == 403 and "Your role does not allow this page." in refused.text


def test_the_agreement_csv_holds_the_same_figures_and_is_audited(seeded: Console) -> None:
    clinician = seeded.as_role("clinician")
    exported = clinician.get(seeded.url("/dashboard/agreement.csv"), params=REST, timeout=10)
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    assert "attachment" in exported.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(exported.text)))
    figures = {row[0]: row[1] for row in rows if len(row) == 2}
    assert figures["channel"] == "rest" and figures["time zone"] == "Europe/London"
    assert (figures["assessed conversations"], figures["reviewed by a clinician"]) == ("10", "8")
    assert (figures["same triage level (%)"], figures["Cohen's kappa, linear weights"]) == ("62.5", "0.707")
    assert figures["under-triage: assistant less urgent"] == "2"
    assert figures["clinician's condition in the assistant's top 3 (%)"] == "87.5"
    table = rows[rows.index(next(r for r in rows if r and r[0].startswith("assistant level"))):][:6]
    assert table[0][1:] == ["Emergency", "Urgent", "Soon", "Routine", "Self-care"]
    assert table[4] == ["Routine", "0", "0", "1", "2", "0"] and table[5] == ["Self-care", "0", "0", "0", "1", "0"]
    conditions = rows[next(i for i, r in enumerate(rows) if r and r[0] == "condition") + 1]
    assert conditions == ["Meniscal tear", "3", "1", "2", "1"]
    entry = last_audit(seeded, "export_agreement")
    assert entry.username == "clinician" and entry.detail.startswith("8 reviewed;") and "channel=rest" in entry.detail


def test_the_vignette_download_runs_in_the_evaluation_and_is_audited(seeded: Console, tmp_path: Path) -> None:
    clinician = seeded.as_role("clinician")
    download = clinician.get(seeded.url("/dashboard/vignettes.yml"), params=REST, timeout=10)
    assert download.status_code == 200 and "attachment" in download.headers["content-disposition"]
    found = yaml.safe_load(download.text)
    assert len(found) == 8 and found[0]["expected"]["triage_level"] == "routine"  # a1, oldest first
    assert {v["expected"]["condition"] for v in found} >= {"meniscal_tear", "bakers_cyst"}
    path = tmp_path / "reviewed.yml"
    path.write_text(download.text)
    scored = subprocess.run([sys.executable, "-m", "bot.triage", "evaluate", str(path), "--json"], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert scored.returncode == 0, scored.stderr
    assert json.loads(scored.stdout.splitlines()[0])["n"] == 8
    entry = last_audit(seeded, "export_vignettes")
    assert entry.username == "clinician" and entry.detail.startswith("8 vignettes;")


def test_a_clinician_agrees_with_one_click(seeded: Console) -> None:
    case_id = new_case(seeded.db_url, "agree-case", seed.short("sore knee after a run"), channel="agreetest",
                       answers={"pain_location": "front"}, conditions=[("patellofemoral_pain", 0.8)],
                       triage_level="self_care", red_flags=[], advice=[], reasons=[])
    clinician = seeded.as_role("clinician")
    page = clinician.get(seeded.url(f"/cases/{case_id}"), timeout=10).text
    assert "Agree with the assistant" in page
    agreed = clinician.post(seeded.url(f"/cases/{case_id}/correction"),
                            data={"csrf": seeded.csrf(clinician), "agree": "yes"}, allow_redirects=False, timeout=10)
    assert agreed.status_code == 303
    page = clinician.get(seeded.url(f"/cases/{case_id}"), timeout=10).text
    assert "Agrees with the assistant" in page and "Clinician agrees" in page
    with session_scope(seeded.db_url) as session:
        case = session.get(Case, case_id)
        assert case.clinician_agrees and case.triage_level == "self_care"
    dashboard = clinician.get(seeded.url("/dashboard"), params={"channel": "agreetest"}, timeout=10).text
    section = dashboard[dashboard.index('id="agreement"'):]
    assert re.findall(r'<span class="figure">(?:<a href="[^"]*">)?([^<]+)', section)[:3] == ["1", "1", "100%"]
    assert "Agree with the assistant" not in seeded.as_role("receptionist").get(
        seeded.url(f"/cases/{case_id}"), timeout=10).text
