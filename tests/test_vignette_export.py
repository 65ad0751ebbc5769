"""Clinician-reviewed conversations exported as vignettes, then scored by `python -m bot.triage evaluate`.

End to end as a clinic runs it: conversations in Rasa's events, the triage the action server records,
clinicians' corrections; `python -m bot.store export-vignettes --out FILE`; the engine's evaluation
on FILE. Real SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import yaml
from sqlalchemy import select

from bot.store import record_case, request_callback, session_scope
from bot.store.cases import add_correction
from bot.store.db import get_engine
from bot.store.models import AuditEntry, Case
from bot.store.redact import redact
from bot.store.sync import sync_events
from bot.triage import assess
from bot.triage.vocabulary import CONDITIONS, RED_FLAG_CONDITIONS, normalise
from tests.console import seed
from tests.console.fixtures import ROOT

pytest_plugins = ["tests.console.fixtures"]
DEV = {v["id"]: v for v in yaml.safe_load((ROOT / "tests" / "data" / "vignettes-dev.yml").read_text())}
ALL = (*CONDITIONS, *RED_FLAG_CONDITIONS)
PERSONAL = ("Priya", "Shah", "07700 900123", "priya.shah@example.com", "447700900555", "SW1A 1AA", "Okafor",
            "14/02/1987")


def run(module: str, *args: str, url: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", module, *args], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "DATABASE_URL": url, "CONSOLE_TIMEZONE": "Europe/London"},
                          stdin=subprocess.DEVNULL, timeout=120)


def assessed_conversation(url: str, sender: str, story: str, facts: dict, *, channel: str = "rest",
                          later: list | None = None) -> Case:
    """The conversation's events, and its triage recorded as the action server records it."""
    seed.store(get_engine(url), sender, [seed.Patient(story), seed.Bot("Thanks."), *(later or [])], channel=channel)
    result = assess(facts)
    with session_scope(url) as session:
        sync_events(session)
        return record_case(session, conversation_id=sender, channel=channel, answers=facts,
                           conditions=[*((flag, 1.0) for flag in result.red_flags), *result.conditions],
                           triage_level=result.triage_level, red_flags=result.red_flags, advice=result.advice,
                           reasons=result.reasons)


def correct(url: str, sender: str, level: str | None, condition: str | None) -> None:
    with session_scope(url) as session:
        case = session.execute(select(Case).where(Case.conversation_id == sender)).scalar_one()
        add_correction(session, case, "dr_lee", triage_level=level, condition=condition, comment="Priya Shah, "
                       "rang her", conditions=ALL)


def seed_reviewed(url: str) -> None:
    """Three reviewed conversations whose scores are known by construction, and one not reviewed."""
    # 1. The clinician agrees with the engine's outcome: level and top condition right.
    agreed = assessed_conversation(
        url, "wa-priya", "Hi, my name is Priya Shah (born 14/02/1987), call me on 07700 900123 or "
        "priya.shah@example.com. The front of my knees aches on stairs since HIIT classes.", DEV["d01"]["facts"],
        later=[seed.Slot("booking_first_name", "Priya"), seed.Slot("booking_last_name", "Shah")])
    correct(url, "wa-priya", agreed.triage_level, agreed.top_condition)
    # 2. An emergency with its red flag, left unchanged: right, and the red flag raised.
    assessed_conversation(url, "+447700900555", "I'm on +447700900555, live at SW1A 1AA, my knee is hot, red and "
                          "I feel feverish", DEV["d05"]["facts"], channel="whatsapp")
    correct(url, "+447700900555", "emergency", None)
    with session_scope(url) as session:
        request_callback(session, "+447700900555", name="Ade Okafor", phone="+447700900555")
    # 3. The clinician says soon and a meniscal tear where the engine says urgent and an ACL injury.
    acl = assessed_conversation(url, "acl", "Landed from a rebound and it gave way with a pop", DEV["d02"]["facts"])
    assert (acl.triage_level, acl.top_condition) == ("urgent", "acl_injury")
    correct(url, "acl", "soon", "meniscal_tear")
    # 4. Not reviewed by a clinician: not exported.
    assessed_conversation(url, "unreviewed", "my knee clicks", DEV["d06"]["facts"])


def test_export_then_evaluate_end_to_end(db_url: str, tmp_path: Path) -> None:
    seed_reviewed(db_url)
    out = tmp_path / "reviewed.yml"
    exported = run("bot.store", "export-vignettes", "--out", str(out), url=db_url)
    assert exported.returncode == 0, exported.stderr
    assert "wrote 3 vignette(s)" in exported.stdout

    text = out.read_text()
    for detail in PERSONAL + ("wa-priya", "rang her"):
        assert detail not in text, detail
    found = yaml.safe_load(text)
    assert [v["expected"]["triage_level"] for v in found] == ["self_care", "emergency", "soon"]
    first = found[0]
    assert first["story"] == ("Hi, my name is [name] [name] (born [date]), call me on [phone] or [email]. "
                              "The front of my knees aches on stairs since HIIT classes.")
    assert first["facts"] == normalise(DEV["d01"]["facts"])  # the answers the assistant collected
    assert first["expected"] == {"condition": "patellofemoral_pain", "acceptable": ["patellofemoral_pain"],
                                 "triage_level": "self_care", "red_flags": []}
    assert found[1]["story"] == "I'm on [phone], live at [postcode], my knee is hot, red and I feel feverish"
    assert found[1]["expected"]["red_flags"] == ["septic_arthritis"]
    assert found[2]["expected"]["condition"] == "meniscal_tear"

    scored = run("bot.triage", "evaluate", str(out), "--json", url=db_url)
    assert scored.returncode == 0, scored.stderr
    figures = json.loads(scored.stdout.splitlines()[0])
    # By construction: cases 1 and 2 right, case 3 wrong on level and condition (not in the engine's top 3).
    assert figures["n"] == 3
    assert figures["top1"] == figures["top3"] == figures["level_exact"] == 2 / 3
    assert (figures["emerg_miss"], figures["rf_recall"], figures["under"]) == (0, 1.0, 0.0)

    with session_scope(db_url) as session:
        entry = session.execute(select(AuditEntry).where(AuditEntry.action == "export_vignettes")).scalar_one()
        assert entry.username == "command line" and entry.detail.startswith("3 vignettes")


def test_the_command_refuses_a_malformed_date_and_says_so(db_url: str, tmp_path: Path) -> None:
    refused = run("bot.store", "export-vignettes", "--out", str(tmp_path / "x.yml"), "--since", "last week",
                  url=db_url)
    assert refused.returncode == 2 and "--since" in refused.stderr and not (tmp_path / "x.yml").exists()
    empty = run("bot.store", "export-vignettes", "--out", str(tmp_path / "none.yml"), "--channel", "socketio",
                url=db_url)
    assert empty.returncode == 0 and "wrote 0 vignette(s)" in empty.stdout
    assert yaml.safe_load((tmp_path / "none.yml").read_text()) == []


def test_redaction_keeps_the_clinical_words() -> None:
    story = ("My name is sarah and I run 30 miles a week; pain 6/10 since 2019, worse on 3 flights of stairs. "
             "Text 020 7946 0000, NHS no. 943 476 5919, see www.example.com/me")
    assert redact(story) == ("My name is [name] and I run 30 miles a week; pain 6/10 since 2019, worse on 3 flights "
                             "of stairs. Text [phone], NHS no. [phone], see [link]")
    assert redact("hi im called Tom Jones, my knee", ["Pat Doe"]) == "hi im called [name] [name], my knee"
    assert redact("Pat here: pat's knee", ["Pat Doe"]) == "[name] here: [name]'s knee"
