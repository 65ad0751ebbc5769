"""Live hand-off with the real servers (scripts/serve): a patient on the widget in Chromium, on Messenger,
WhatsApp and Twilio (fake platform APIs), and staff in the console. Roles and the audit log too; a chat
nobody takes, a patient who starts over, and a widget that was away while the replies went."""

from __future__ import annotations

import re
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
from tests.channels.handoff import Staff, back_again, backdate, case_of, handoff_bot, live_handoff, wait_sent
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
from tests.channels.widget_client import widget_client
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


# ---- nobody free, starting over, a widget that was away ----------------------------------------------

NOBODY_FREE = "Sorry, nobody from the team at Riverside Physiotherapy is free to chat right now."


def test_a_chat_nobody_takes_is_moved_to_call_back(bot: RunningBot, api: FakeApi) -> None:
    sender = psid()

    def patient(text: str) -> None:
        assert post_meta(bot, "messenger", messenger_batch(messenger_text(sender, text))).status_code == 200

    patient(ASK)
    wait_for_text(api, sender, WAITING)
    handoff, case = live_handoff(bot, sender), case_of(bot, sender)
    sam = Staff(bot.console, "sam")
    queue_page = sam.http.get(f"{bot.console}/live", timeout=10).text
    assert f"#{case} " in queue_page and "moves to call back at" in queue_page  # the default wait, 180 s

    backdate(bot, handoff.id, 181)  # three minutes on, nobody has taken it; the patient types nothing
    texts = wait_for_text(api, sender, NOBODY_FREE)
    told = next(t for t in texts if NOBODY_FREE in t)
    assert 'say "call me back"' in told and told.endswith("If it gets worse, call 999.")
    assert live_handoff(bot, sender).status == "callback"

    queue_page = sam.http.get(f"{bot.console}/live", timeout=10).text
    now, ended = queue_page.split('id="ended-title"')
    assert f"#{case} " not in now  # off the waiting list ...
    assert re.search(rf'Conversation #{case}</a> · messenger ·\s*<span class="badge callback">Call back</span>', ended)
    chat_page = sam.http.get(f"{bot.console}/live/{case}", timeout=10).text
    assert "Nobody took it within 3 minutes: moved to call back" in chat_page and "Take this chat" not in chat_page
    late = sam.post(f"/live/{case}/take")
    assert late.status_code == 409 and "use Take over on the conversation's page" in late.json()["error"]
    [(who, action, detail)] = audit_actions(bot, sender)
    assert (who, action) == ("(nobody free)", "handoff_close")
    assert re.fullmatch(rf"live chat {handoff.id}: nobody took it within 18\d s, moved to call back", detail)

    case_page = sam.http.get(f"{bot.console}/cases/{case}", timeout=10).text
    assert "Nobody took it within 3 minutes: moved to call back (the patient was told)" in case_page
    [record] = sam.http.get(f"{bot.console}/cases/{case}/export.json", timeout=10).json()["handoffs"]
    assert (record["id"], record["outcome"], record["taken_by"], record["ended_by"]) == (handoff.id, "call back",
                                                                                        None, None)
    assert [(s["by"], s["step"]) for s in record["steps"]] == [("(patient)", "asked for a person"),
                                                               ("(nobody free)", "moved to call back")]
    assert record["messages"] == {"from_patient": 0, "staff_replies": 0, "notices": 1}

    # "call me back": the call-back route takes the details, and the queue that had nobody is not tried again.
    before = len(api.to(sender))
    patient("call me back")
    texts = wait_for_text(api, sender, "first name", seconds=30)
    assert "Of course, I'll ask someone from the clinic to call you." in texts[before:]
    with session_scope(bot.database_url) as db:
        assert db.execute(select(Handoff.id).where(Handoff.conversation_id == sender)).scalars().all() == [handoff.id]


def test_starting_over_on_whatsapp_ends_the_live_chat(bot: RunningBot, api: FakeApi) -> None:
    sender = wa_number()

    def patient(text: str) -> None:
        assert post_meta(bot, "whatsapp", whatsapp_webhook(messages=[wa_text(sender, text)])).status_code == 200

    patient(ASK)
    wait_for_text(api, sender, WAITING)
    case = case_of(bot, sender)
    alex = Staff(bot.console, "alex")
    assert alex.post(f"/live/{case}/take").ok
    wait_for_text(api, sender, "Alex from Riverside Physiotherapy has joined the chat.")
    patient("start over")
    wait_for_text(api, sender, "No problem, let's start again.", seconds=30)  # the assistant, from the start
    handoff = live_handoff(bot, sender)
    assert (handoff.status, handoff.ended_by) == ("restarted", None)
    page = alex.http.get(f"{bot.console}/live/{case}", timeout=10).text
    assert "Chat closed: the patient started over" in page and 'id="reply-form"' not in page
    assert alex.post(f"/live/{case}/reply", text="are you still there?").status_code == 409
    assert audit_actions(bot, sender)[-1] == ("(patient)", "handoff_close",
                                              f"live chat {handoff.id}: the patient started over")


def test_a_widget_that_was_away_gets_the_replies_it_missed(bot: RunningBot) -> None:
    session = uuid.uuid4().hex
    with widget_client(bot) as widget:
        assert widget.request_session(session) == session
        assert any(WAITING in t for t in widget.say(ASK, session))
    # The widget has gone (a closed tab, a lost connection) when Sam takes the chat and replies.
    handoff, case = live_handoff(bot, session), case_of(bot, session)
    sam = Staff(bot.console, "sam")
    assert sam.post(f"/live/{case}/take").ok
    assert sam.post(f"/live/{case}/reply", text="Sorry for the wait. How can I help?").ok
    joined, replied = wait_sent(bot, handoff.id, 2)

    with widget_client(bot) as widget:
        missed = back_again(widget, session, seen=0)
        assert [(m["message_id"], m["text"], m.get("sender_name")) for m in missed] == [
            (joined, f"{SAM} has joined the chat.", None), (replied, "Sorry for the wait. How can I help?", SAM)]
        assert back_again(widget, session, seen=replied) == []  # what it has shown is not sent again
        assert back_again(widget, uuid.uuid4().hex, seen=0) == []  # nor anybody else's
    with widget_client(bot) as widget:  # a widget from before the numbering says nothing: gets nothing again
        assert widget.request_session(session) == session
        time.sleep(1)
        assert widget.replies == []
    sam.post(f"/live/{case}/close")


def test_in_chromium_the_widget_catches_up_and_start_over_ends_the_chat(bot: RunningBot, browser: Browser) -> None:
    context = browser.new_context(viewport={"width": 420, "height": 800}, locale="en-GB")
    patient = context.new_page()
    patient.goto(bot.web + "/")
    patient.get_by_role("button", name="Chat about your knee").click()
    expect(patient.locator(".kc-log")).to_contain_text("not a diagnosis", timeout=30_000)
    patient_says(patient, ASK)
    expect(patient.locator(".kc-log")).to_contain_text(WAITING, timeout=30_000)
    session = patient.evaluate("window.KneeChat.session()")
    patient.close()  # the patient leaves the page while waiting

    handoff, case = live_handoff(bot, session), case_of(bot, session)
    sam = Staff(bot.console, "sam")
    assert sam.post(f"/live/{case}/take").ok
    assert sam.post(f"/live/{case}/reply", text="Sorry for the wait, Sam here. How can I help?").ok
    wait_sent(bot, handoff.id, 2)

    patient = context.new_page()
    patient.goto(bot.web + "/")  # back on the site: the chat opens where it was and catches up
    staff = patient.locator(".kc-staff")
    expect(staff.last).to_contain_text("Sam here. How can I help?", timeout=30_000)
    expect(staff.last.locator(".kc-sender")).to_have_text(SAM)
    expect(patient.locator(".kc-log")).to_contain_text(f"{SAM} has joined the chat.")
    patient.reload()
    expect(staff).to_have_count(1, timeout=10_000)  # kept, and not shown twice
    time.sleep(1)
    expect(staff).to_have_count(1)
    patient.screenshot(path=str(ARTIFACTS / "handoff-4-widget-caught-up.png"))

    patient.get_by_role("button", name="Start over").click()
    deadline = time.monotonic() + 15
    while live_handoff(bot, session).status != "restarted" and time.monotonic() < deadline:
        time.sleep(0.2)
    assert live_handoff(bot, session).status == "restarted"
    assert f"#{case} " not in sam.http.get(f"{bot.console}/live", timeout=10).text.split('id="ended-title"')[0]
    assert "Chat closed: the patient started over" in sam.http.get(f"{bot.console}/live/{case}", timeout=10).text
    context.close()
