"""Live hand-off with the real servers (scripts/serve): a patient on the widget in Chromium, on Messenger,
WhatsApp and Twilio (fake platform APIs), and staff in the console. Roles and the audit log too."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest
import requests
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from bot.store.db import session_scope
from bot.store.models import AuditEntry, Case, Handoff
from tests.channels.fake_api import FakeApi
from tests.channels.handoff import Staff, case_of, handoff_bot, live_handoff
from tests.channels.webhooks import (
    messenger_batch,
    messenger_text,
    post_meta,
    post_twilio,
    psid,
    wa_number,
    wa_text,
    whatsapp_webhook,
)
from tests.conftest import ARTIFACTS, CHANNEL_SECRETS, RunningBot
from tests.console.fixtures import PASSWORD, add_users

ASK = "can I speak to someone please"
WAITING = "I've asked the team at Riverside Physiotherapy to join this chat"
SAM = "Sam from Riverside Physiotherapy"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, trained_model: object) -> Iterator[tuple[RunningBot, FakeApi]]:
    with handoff_bot(tmp_path_factory.mktemp("handoff")) as (bot, api):
        add_users(bot.database_url, "sam", "alex", "admin")
        yield bot, api


@pytest.fixture(scope="module")
def bot(stack: tuple[RunningBot, FakeApi]) -> RunningBot:
    return stack[0]


@pytest.fixture(scope="module")
def api(stack: tuple[RunningBot, FakeApi]) -> FakeApi:
    return stack[1]


def audit_actions(bot: RunningBot, conversation_id: str) -> list[tuple[str, str, str]]:
    with session_scope(bot.database_url) as session:
        case_id = session.execute(select(Case.id).where(Case.conversation_id == conversation_id)).scalar_one()
        rows = session.execute(select(AuditEntry).where(AuditEntry.case_id == case_id,
                                                        AuditEntry.action.like("handoff_%"))
                               .order_by(AuditEntry.id)).scalars().all()
        return [(r.username, r.action, r.detail) for r in rows]


def user_turns(bot: RunningBot, sender: str) -> int:
    return sum(1 for e in bot.tracker(sender)["events"] if e["event"] == "user")


# ---- the widget and the console, both in Chromium ------------------------------------------------

def patient_says(page: Page, text: str) -> None:
    page.get_by_label("Your message").fill(text)
    page.get_by_role("button", name="Send").click()


def test_patient_and_receptionist_talk_live_and_the_assistant_takes_back(bot: RunningBot, browser: Browser) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    patient = browser.new_context(viewport={"width": 420, "height": 800}, locale="en-GB").new_page()
    desk = browser.new_context(viewport={"width": 1366, "height": 900}, locale="en-GB").new_page()

    desk.goto(f"{bot.console}/login?next=/live")
    desk.get_by_label("Username").fill("sam")
    desk.get_by_label("Password").fill(PASSWORD)
    desk.get_by_role("button", name="Sign in").click()
    desk.wait_for_url("**/live")
    expect(desk.get_by_text("Nobody is waiting.")).to_be_visible()

    patient.goto(bot.web + "/")
    patient.get_by_role("button", name="Chat about your knee").click()
    log = patient.locator(".kc-log")
    expect(log).to_contain_text("not a diagnosis", timeout=30_000)
    patient_says(patient, ASK)
    expect(log).to_contain_text(WAITING, timeout=30_000)
    session = patient.evaluate("window.KneeChat.session()")

    # The queue page updates by itself (server-sent events) and shows the waiting chat.
    open_chat = desk.get_by_role("link", name="Open chat")
    expect(open_chat).to_be_visible(timeout=30_000)
    open_chat.click()
    desk.wait_for_url("**/live/*")
    expect(desk.locator("#live-log")).to_contain_text(ASK)  # what the patient wrote to the assistant
    desk.get_by_role("button", name="Take this chat").click()
    desk.wait_for_url("**/live/*")
    expect(log).to_contain_text(f"{SAM} has joined the chat.", timeout=30_000)

    desk.evaluate("window.notReloaded = true")
    desk.get_by_label("Reply to the patient").fill("Hello, I'm Sam at the front desk. How can I help?")
    desk.get_by_role("button", name="Send").click()
    staff_bubble = patient.locator(".kc-staff").last
    expect(staff_bubble).to_contain_text("How can I help?", timeout=30_000)
    expect(staff_bubble.locator(".kc-sender")).to_have_text(SAM)

    turns = user_turns(bot, session)
    patient_says(patient, "my knee gave way on the stairs this morning, can I come in today?")
    expect(desk.locator("#live-log .bubble.patient").last).to_contain_text("can I come in today?", timeout=30_000)
    assert desk.evaluate("window.notReloaded") is True  # it arrived without a page reload
    time.sleep(1)
    assert user_turns(bot, session) == turns  # the assistant never saw it ...
    assert not log.locator(".kc-bot:not(.kc-staff)").last.inner_text().startswith("Sorry")  # ... nor answered
    desk.screenshot(path=str(ARTIFACTS / "handoff-1-console.png"), full_page=True)
    patient.screenshot(path=str(ARTIFACTS / "handoff-2-widget.png"))

    desk.get_by_label("Reply to the patient").fill("Yes, we have 4pm free. Let me hand you back to book it.")
    desk.get_by_role("button", name="Send").click()
    expect(patient.locator(".kc-staff").last).to_contain_text("4pm", timeout=30_000)
    desk.get_by_role("button", name="Hand back to the assistant").click()
    desk.wait_for_url("**/live")
    expect(log).to_contain_text("Sam has handed you back to the Riverside Physiotherapy assistant", timeout=30_000)

    patient_says(patient, "my knee hurts at the front when I run")
    deadline = time.monotonic() + 30
    while user_turns(bot, session) == turns and time.monotonic() < deadline:
        time.sleep(0.3)
    assert user_turns(bot, session) == turns + 1  # the assistant answers again

    with session_scope(bot.database_url) as db:
        handoff = db.execute(select(Handoff).where(Handoff.conversation_id == session)).scalar_one()
        case_id = db.execute(select(Case.id).where(Case.conversation_id == session)).scalar_one()
        assert (handoff.status, handoff.taken_by, handoff.ended_by) == ("returned", "sam", "sam")
    desk.goto(f"{bot.console}/cases/{case_id}")
    transcript = desk.locator(".transcript")
    for shown in ("Asked to talk to a person", "Taken by sam", "Handed back to the assistant by sam",
                  f"sam (as “{SAM}”)", "can I come in today?"):
        expect(transcript).to_contain_text(shown)
    desk.screenshot(path=str(ARTIFACTS / "handoff-3-transcript.png"), full_page=True)
    assert [(u, a) for u, a, _ in audit_actions(bot, session)] == [("sam", "handoff_take"),
                                                                   ("sam", "handoff_hand_back")]
    patient.context.close()
    desk.context.close()


# ---- Messenger, WhatsApp and Twilio through the fake APIs ----------------------------------------

def sent_texts(api: FakeApi, recipient: str) -> list[str]:
    def text(body: dict) -> str:
        return (body.get("message") or {}).get("text") or (body.get("text") or {}).get("body") or body.get("Body") or ""
    return [text(sent.body) for sent in api.to(recipient)]


def wait_for_text(api: FakeApi, recipient: str, wanted: str, seconds: float = 10) -> list[str]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        texts = sent_texts(api, recipient)
        if any(wanted in t for t in texts):
            return texts
        time.sleep(0.1)
    raise AssertionError(f"{wanted!r} was not sent: {sent_texts(api, recipient)}")


def test_messenger_hand_off(bot: RunningBot, api: FakeApi) -> None:
    sender = psid()

    def patient(text: str) -> None:
        assert post_meta(bot, "messenger", messenger_batch(messenger_text(sender, text))).status_code == 200

    patient(ASK)
    wait_for_text(api, sender, WAITING)
    handoff = live_handoff(bot, sender)
    case = case_of(bot, sender)
    assert (handoff.channel, handoff.status) == ("messenger", "waiting")
    sam = Staff(bot.console, "sam")
    assert sam.post(f"/live/{case}/take").json() == {"ok": True}
    wait_for_text(api, sender, f"{SAM} has joined the chat.")
    assert sam.post(f"/live/{case}/reply", text="Hi, Sam here. What's happening with your knee?").ok
    texts = wait_for_text(api, sender, "What's happening")
    assert f"{SAM}:\nHi, Sam here. What's happening with your knee?" in texts
    sends = api.to(sender)
    assert sends[-1].path == "/v18.0/me/messages" and sends[-1].query["access_token"] == "page-token"

    before = len(api.to(sender))
    patient("it's swollen since Saturday")
    assert [m["text"] for m in sam.stream(f"/live/{case}/events", "swollen")][-1] == "it's swollen since Saturday"
    time.sleep(1)
    assert len(api.to(sender)) == before  # the assistant stayed silent
    assert sam.post(f"/live/{case}/close").ok
    wait_for_text(api, sender, "Sam has ended this chat")
    patient("hi")
    wait_for_text(api, sender, "not a diagnosis", seconds=30)  # the assistant again
    assert [a for _, a, _ in audit_actions(bot, sender)] == ["handoff_take", "handoff_close"]


def test_whatsapp_hand_off_and_back(bot: RunningBot, api: FakeApi) -> None:
    sender = wa_number()

    def patient(text: str) -> None:
        assert post_meta(bot, "whatsapp", whatsapp_webhook(messages=[wa_text(sender, text)])).status_code == 200

    patient(ASK)
    wait_for_text(api, sender, WAITING)
    assert live_handoff(bot, sender).channel == "whatsapp"
    case = case_of(bot, sender)
    alex = Staff(bot.console, "alex")
    alex.post(f"/live/{case}/take")
    alex.post(f"/live/{case}/reply", text="Alex here, how can I help?")
    texts = wait_for_text(api, sender, "Alex here")
    assert "Alex from Riverside Physiotherapy:\nAlex here, how can I help?" in texts
    last = api.to(sender)[-1]
    assert last.path == f"/v18.0/{CHANNEL_SECRETS['WHATSAPP_PHONE_NUMBER_ID']}/messages"
    assert last.headers["Authorization"] == "Bearer wa-token" and last.body["type"] == "text"
    before = len(api.to(sender))
    patient("I'd like to book for my knee")
    alex.stream(f"/live/{case}/events", "book for my knee")
    assert len(api.to(sender)) == before
    alex.post(f"/live/{case}/hand-back")
    wait_for_text(api, sender, "Alex has handed you back")
    patient("my knee hurts at the front when I run")
    wait_for_text(api, sender, "?", seconds=30)
    assert len(api.to(sender)) > before + 1  # the notice and the assistant's question


def test_staff_take_over_a_twilio_conversation(bot: RunningBot, api: FakeApi) -> None:
    sender = f"whatsapp:+{wa_number()}"

    def patient(text: str) -> None:
        params = {"From": sender, "To": CHANNEL_SECRETS["TWILIO_WHATSAPP_NUMBER"], "Body": text,
                  "MessageSid": f"SM{uuid.uuid4().hex}", "NumMedia": "0"}
        assert post_twilio(bot, params).status_code == 200

    patient("my knee hurts")
    wait_for_text(api, sender, "?", seconds=30)
    sam = Staff(bot.console, "sam")
    sam.http.get(f"{bot.console}/inbox", timeout=10)  # the console reads the new conversation
    with session_scope(bot.database_url) as db:
        case_id = db.execute(select(Case.id).where(Case.conversation_id == sender)).scalar_one()
    case_page = sam.http.get(f"{bot.console}/cases/{case_id}", timeout=10).text
    assert "Take over" in case_page
    taken = sam.post(f"/cases/{case_id}/take-over")
    assert taken.status_code == 303 and taken.headers["location"] == f"/live/{case_id}"
    wait_for_text(api, sender, f"{SAM} has joined the chat.")
    handoff = live_handoff(bot, sender)
    case = case_of(bot, sender)
    assert (handoff.reason, handoff.taken_by) == ("staff", "sam")
    sam.post(f"/live/{case}/reply", text="Sam here: shall I call you instead?")
    wait_for_text(api, sender, "shall I call you")
    sent = api.to(sender)[-1]
    assert sent.path.endswith("/Messages.json") and sent.body["From"] == CHANNEL_SECRETS["TWILIO_WHATSAPP_NUMBER"]
    assert sent.body["Body"] == f"{SAM}:\nSam here: shall I call you instead?"
    sam.post(f"/live/{case}/hand-back")
    assert [a for _, a, _ in audit_actions(bot, sender)] == ["handoff_take_over", "handoff_hand_back"]


# ---- who may do what ---------------------------------------------------------------------------

def test_roles_and_audit(bot: RunningBot, api: FakeApi) -> None:
    sender = psid()
    post_meta(bot, "messenger", messenger_batch(messenger_text(sender, ASK)))
    handoff = live_handoff(bot, sender)
    case = case_of(bot, sender)
    url = f"{bot.console}/live/{case}"

    anonymous = requests.Session()
    assert anonymous.get(f"{bot.console}/live", allow_redirects=False, timeout=10).status_code == 303  # to sign in
    assert anonymous.get(f"{url}/events", headers={"Accept": "text/event-stream"}, allow_redirects=False,
                         timeout=10).status_code in (303, 401)
    assert anonymous.post(f"{url}/take", data={}, timeout=10).status_code == 401

    sam, alex = Staff(bot.console, "sam"), Staff(bot.console, "alex")
    forged = sam.http.post(f"{url}/take", data={"csrf": "forged"}, timeout=10)
    assert forged.status_code == 403  # no valid CSRF token: not from the console
    assert alex.post(f"/live/{case}/reply", text="hello").status_code == 409  # nobody has taken it
    assert sam.post(f"/live/{case}/take").ok
    wait_for_text(api, sender, f"{SAM} has joined the chat.")
    before = len(api.to(sender))
    refused = alex.post(f"/live/{case}/reply", text="I'm not on this chat")
    assert refused.status_code == 409 and "someone else has it" in refused.json()["error"]
    assert alex.post(f"/live/{case}/close").status_code == 409
    time.sleep(0.6)
    assert len(api.to(sender)) == before  # nothing went to the patient
    page = alex.http.get(url, timeout=10).text
    assert "Take over from sam" in page and 'id="reply-form"' not in page
    assert alex.post(f"/live/{case}/take").ok  # a colleague takes it over
    wait_for_text(api, sender, "Alex from Riverside Physiotherapy has joined the chat.")
    assert sam.post(f"/live/{case}/reply", text="still me").status_code == 409
    assert alex.post(f"/live/{case}/close").ok
    assert alex.post(f"/live/{case}/reply", text="too late").status_code == 409

    assert audit_actions(bot, sender) == [("sam", "handoff_take", f"live chat {handoff.id}"),
                                          ("alex", "handoff_take", f"live chat {handoff.id}, from sam"),
                                          ("alex", "handoff_close", f"live chat {handoff.id}")]
    admin = Staff(bot.console, "admin")
    log = admin.http.get(f"{bot.console}/admin/audit", timeout=10).text
    assert "handoff take" in log and "handoff close" in log
    assert alex.http.get(f"{bot.console}/admin/audit", allow_redirects=False, timeout=10).status_code == 403
