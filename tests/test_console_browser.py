"""A receptionist's round in headless Chromium (Debian's package) driven by Playwright.

Sign in, filter the inbox, open a conversation, add a note, mark it reviewed. Screenshots of
each step go to tests/artifacts/ (git-ignored) for a person to look at.
"""

from __future__ import annotations

import time
import uuid

from playwright.sync_api import Browser
from sqlalchemy import select

from bot.store.db import session_scope
from bot.store.models import AuditEntry, Case
from tests.conftest import ARTIFACTS, RunningBot
from tests.console import seed
from tests.console.fixtures import PASSWORD, Console, add_users, new_case
from tests.test_conversation_e2e import BY_ID, converse

pytest_plugins = ["tests.console.fixtures"]



def test_receptionist_reviews_a_conversation(console: Console, browser: Browser) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    case_id = new_case(console.db_url, "browser-runner", seed.RUNNERS_KNEE, start=time.time() - 1800,
                       **seed.RUNNERS_KNEE_CASE)
    other = new_case(console.db_url, "browser-fall", seed.short("I fell down the stairs and can't stand on it"),
                     answers={"onset": "injury", "cannot_bear_weight": True}, conditions=[("fracture", 1.0)],
                     triage_level="emergency", red_flags=["fracture"], advice=["Call 999 now."],
                     reasons=["you cannot take weight after a fall"])
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="en-GB")
    page = context.new_page()

    page.goto(console.url("/inbox"))
    assert "/login" in page.url  # signed out: sent to the sign-in page
    page.get_by_label("Username").fill("receptionist")
    page.get_by_label("Password").fill(PASSWORD)
    page.screenshot(path=str(ARTIFACTS / "console-1-login.png"))
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/inbox")
    assert page.get_by_role("heading", name="Inbox").is_visible()

    page.get_by_label("Search what patients wrote").fill("stairs")
    page.get_by_label("Triage level").select_option("routine")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url("**/inbox?*level=routine*")
    rows = page.locator("table.cases tbody tr")
    assert rows.count() >= 1
    assert page.locator(f'a[href="/cases/{case_id}"]').is_visible()
    assert page.locator(f'a[href="/cases/{other}"]').count() == 0  # "stairs", but an emergency
    page.screenshot(path=str(ARTIFACTS / "console-2-inbox-filtered.png"), full_page=True)

    page.locator(f'a[href="/cases/{case_id}"]').click()
    page.wait_for_url(f"**/cases/{case_id}")
    transcript = page.locator(".transcript")
    assert "my right knee hurts at the front" in transcript.inner_text()
    assert page.locator(".bubble.patient .text.tapped", has_text="Gradually").is_visible()
    assert "Patellofemoral pain" in page.locator(".summary").inner_text()

    page.get_by_label("Add a note").fill("Rang the patient back; booked for Tuesday 10:00.")
    page.get_by_role("button", name="Add note").click()
    page.wait_for_url(f"**/cases/{case_id}#notes")
    assert page.locator(".notes li", has_text="booked for Tuesday").is_visible()

    page.get_by_role("button", name="Mark reviewed").click()
    page.wait_for_url(f"**/cases/{case_id}")
    assert page.get_by_text("Reviewed by receptionist").is_visible()
    page.screenshot(path=str(ARTIFACTS / "console-3-conversation.png"), full_page=True)

    page.goto(console.url("/dashboard"))
    page.screenshot(path=str(ARTIFACTS / "console-4-dashboard.png"), full_page=True)
    context.close()

    with session_scope(console.db_url) as session:
        case = session.get(Case, case_id)
        assert case.reviewed_by == "receptionist" and case.notes[-1].body.startswith("Rang the patient back")
        actions = session.execute(select(AuditEntry.action).where(AuditEntry.case_id == case_id)).scalars().all()
        assert {"view", "note", "review"} <= set(actions)


def test_clinician_agrees_corrects_and_reads_the_agreement(console: Console, browser: Browser) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    channel = "browseragree"
    outcome = dict(answers={"pain_location": "front"}, conditions=[("patellofemoral_pain", 0.7), ("itb_syndrome", 0.2)],
                   triage_level="routine", red_flags=[], advice=[], reasons=[])
    ids = [new_case(console.db_url, f"browser-agree-{n}", seed.short(f"knee story {n}"), channel=channel, **outcome)
           for n in range(2)]
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="en-GB")
    page = context.new_page()
    page.goto(console.url("/login"))
    page.get_by_label("Username").fill("clinician")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/inbox")
    page.goto(console.url(f"/cases/{ids[0]}"))
    page.get_by_role("button", name="Agree with the assistant").click()
    page.wait_for_url(f"**/cases/{ids[0]}#correction")
    assert page.get_by_text("Agrees with the assistant").is_visible()
    page.goto(console.url(f"/cases/{ids[1]}"))
    page.get_by_label("Your triage level").select_option("urgent")
    page.get_by_label("Your likely condition").select_option("meniscal_tear")
    page.get_by_role("button", name="Save correction").click()
    page.wait_for_url(f"**/cases/{ids[1]}#correction")

    page.goto(console.url(f"/dashboard?channel={channel}"))  # the channel list is re-read once a minute
    assert page.get_by_label("Channel", exact=True).input_value() == channel
    agreement = page.locator("#agreement")
    assert agreement.is_visible() and "50%" in agreement.inner_text()  # one of two on the same level
    under = agreement.locator("td.under a")
    assert under.count() == 1 and under.inner_text() == "1"  # routine where the clinician said urgent
    agreement.screenshot(path=str(ARTIFACTS / "console-6-agreement.png"))
    under.click()
    page.wait_for_url("**/inbox?*clinician_level=urgent*")
    assert page.locator(f'a[href="/cases/{ids[1]}"]').is_visible()
    assert page.locator(f'a[href="/cases/{ids[0]}"]').count() == 0
    context.close()


def test_receptionist_reviews_a_real_conversation_with_the_bot(running_bot: RunningBot, browser: Browser) -> None:
    """The conversation comes from the real bot (scripts/serve), and so does the console."""
    ARTIFACTS.mkdir(exist_ok=True)
    story = "my kneecap grinds going downstairs since I upped my mileage, no swelling <b>ouch</b>"
    sender = f"browser-real-{uuid.uuid4().hex[:8]}"
    facts = {**BY_ID["d06"]["facts"], "age": 29}
    slots, _, _ = converse(running_bot, story, facts, sender=sender)
    add_users(running_bot.database_url, "receptionist")
    with session_scope(running_bot.database_url) as session:
        case_id = session.execute(select(Case.id).where(Case.conversation_id == sender)).scalar_one()

    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="en-GB")
    page = context.new_page()
    page.goto(f"{running_bot.console}/login")
    page.get_by_label("Username").fill("receptionist")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/inbox")
    page.get_by_label("Search what patients wrote").fill("downstairs")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url("**/inbox?*")
    page.locator(f'a[href="/cases/{case_id}"]').click()
    page.wait_for_url(f"**/cases/{case_id}")
    transcript = page.locator(".transcript").inner_text()
    assert "<b>ouch</b>" in transcript  # the patient's markup shown as text, never rendered
    assert "New session" not in transcript  # the greeting comes before Rasa's session start: no divider for it
    assert "fit best with" in transcript
    assert slots["triage_level"].replace("_", " ") in page.locator(".summary").inner_text().lower()
    page.get_by_label("Add a note").fill("Called back, booked a physio assessment.")
    page.get_by_role("button", name="Add note").click()
    page.wait_for_url(f"**/cases/{case_id}#notes")
    page.get_by_role("button", name="Mark reviewed").click()
    page.wait_for_url(f"**/cases/{case_id}")
    assert page.get_by_text("Reviewed by receptionist").is_visible()
    page.screenshot(path=str(ARTIFACTS / "console-5-real-conversation.png"), full_page=True)
    context.close()
