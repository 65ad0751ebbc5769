"""The website widget in headless Chromium (Debian's package, driven by Playwright) with the real bot.

The demo clinic page comes from bot.web and the conversation from the real Rasa server over
socket.io, both started by scripts/serve. Screenshots go to tests/artifacts/ (git-ignored).
"""

from __future__ import annotations

import json
import time

from playwright.sync_api import Browser, Page

from tests.conftest import ARTIFACTS, RunningBot
from tests.patient import reply
from tests.test_conversation_e2e import BY_ID

LAUNCHER = "Chat about your knee"


def session_id(page: Page) -> str:
    return page.evaluate("window.KneeChat.session()")


def last_bot_text(bot: RunningBot, sender: str) -> str | None:
    events = bot.tracker(sender)["events"]
    texts = [e.get("text") or "" for e in events if e["event"] == "bot"]
    return texts[-1] if texts else None


def settle(page: Page, bot: RunningBot, users_before: int, seconds: float = 60) -> None:
    """Wait until the bot has answered the latest message and the widget shows the answer's last part."""
    sender = session_id(page)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        tracker = bot.tracker(sender)
        users = [e for e in tracker["events"] if e["event"] == "user"]
        if len(users) > users_before and tracker.get("latest_action_name") == "action_listen":
            expected = (last_bot_text(bot, sender) or "").strip().split("\n\n")[-1].strip()
            bubbles = page.locator(".kc-bot .kc-text")
            shown = bubbles.last.inner_text().strip() if bubbles.count() else ""
            if expected and shown == expected:
                return
        time.sleep(0.3)
    raise AssertionError(f"the widget did not show the bot's answer in {seconds} s")


def user_count(bot: RunningBot, sender: str) -> int:
    return sum(1 for e in bot.tracker(sender)["events"] if e["event"] == "user")


def type_message(page: Page, bot: RunningBot, text: str) -> None:
    before = user_count(bot, session_id(page))
    page.get_by_label("Your message").fill(text)
    page.get_by_role("button", name="Send").click()
    settle(page, bot, before)


def open_widget(page: Page, bot: RunningBot) -> None:
    page.get_by_role("button", name=LAUNCHER).click()
    # A new conversation starts with the assistant's greeting (sent by the widget, not shown as the patient's).
    settle(page, bot, 0)


def test_a_full_triage_conversation_survives_reload_and_navigation(running_bot: RunningBot, browser: Browser) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    case = BY_ID["d06"]
    facts = {**case["facts"], "age": 33}
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    page = context.new_page()
    page.goto(running_bot.web + "/")
    assert page.get_by_role("heading", name="Runner's knee (patellofemoral pain)").is_visible()
    assert page.get_by_role("dialog").count() == 0 or not page.locator("#kc-panel").is_visible()
    page.screenshot(path=str(ARTIFACTS / "widget-1-demo-page.png"))

    open_widget(page, running_bot)
    panel = page.get_by_role("dialog", name="Riverside Physiotherapy")
    assert panel.is_visible()
    assert "not a diagnosis" in page.locator(".kc-log").inner_text()
    sender = session_id(page)
    type_message(page, running_bot, case["story"])

    clicked = typed = 0
    reloaded = navigated = False
    for turn in range(1, 21):
        slots = running_bot.slots(sender)
        if slots.get("triage_level"):
            break
        requested = slots["requested_slot"]
        if turn == 2 and not reloaded:
            page.screenshot(path=str(ARTIFACTS / "widget-2-before-reload.png"))
            shown = page.locator(".kc-msg").count()
            page.reload()
            reloaded = True
            assert page.locator("#kc-panel").is_visible()  # still open, same conversation
            assert session_id(page) == sender
            assert page.locator(".kc-msg").count() == shown
        if turn == 4 and not navigated:
            page.get_by_role("link", name="Contact us").click()
            page.wait_for_url("**/contact.html")
            navigated = True
            assert session_id(page) == sender and page.locator("#kc-panel").is_visible()
        choice = None
        for index in range(page.locator(".kc-choice").count()):
            button = page.locator(".kc-choice").nth(index)
            payload = button.get_attribute("data-payload") or ""
            if payload.startswith("/inform") and json.loads(payload[len("/inform"):]).get(requested) == facts.get(
                    requested, object()):
                choice = button
                break
        before = user_count(running_bot, sender)
        if choice is not None:
            title = choice.inner_text()
            choice.click()
            clicked += 1
            settle(page, running_bot, before)
            assert page.locator(".kc-user .kc-text", has_text=title).count() >= 1
        else:
            type_message(page, running_bot, reply(requested, facts))
            typed += 1
    else:
        raise AssertionError("no assessment after 20 answers")

    log = page.locator(".kc-log").inner_text()
    assert "fit best with" in log
    assert reloaded and navigated and clicked >= 1 and typed >= 1
    page.screenshot(path=str(ARTIFACTS / "widget-3-assessment.png"))
    # The conversation is recorded as the website's: the console filters by this channel.
    users = [e for e in running_bot.tracker(sender)["events"] if e["event"] == "user"]
    assert {e.get("input_channel") for e in users} == {"socketio"}
    assert any(e.get("text") == case["story"] for e in users)

    # Start over: an empty conversation under a new id, greeted again.
    page.get_by_role("button", name="Start over").click()
    assert session_id(page) != sender
    settle(page, running_bot, 0)
    assert page.locator(".kc-user").count() == 0 and "not a diagnosis" in page.locator(".kc-log").inner_text()
    context.close()


def test_keyboard_only(running_bot: RunningBot, browser: Browser) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    page = context.new_page()
    page.goto(running_bot.web + "/")
    for _ in range(20):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.classList.contains('kc-launcher')"):
            break
    else:
        raise AssertionError("the launcher cannot be reached with Tab")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline not in ("none", "")  # focus is visible
    assert page.evaluate("document.activeElement.getAttribute('aria-expanded')") == "false"
    page.keyboard.press("Enter")
    settle(page, running_bot, 0)
    assert page.evaluate("document.activeElement.id") == "kc-input"  # focus moves into the chat
    assert page.locator("[role=log][aria-live=polite]").count() == 1
    assert page.get_by_role("dialog", name="Riverside Physiotherapy").is_visible()
    assert page.get_by_role("button", name="Close chat").is_visible()

    page.keyboard.type("the front of my knee aches on stairs since I started running")
    before = user_count(running_bot, session_id(page))
    page.keyboard.press("Enter")
    settle(page, running_bot, before)
    facts = BY_ID["d06"]["facts"] | {"age": 33}
    for _ in range(8):  # answer by typing until a question comes with quick replies
        if page.locator(".kc-choice").count():
            break
        requested = running_bot.slots(session_id(page))["requested_slot"]
        before = user_count(running_bot, session_id(page))
        page.keyboard.type(reply(requested, facts))
        page.keyboard.press("Enter")
        settle(page, running_bot, before)
    else:
        raise AssertionError("no question with quick replies")

    # The quick replies sit just before the input: Shift+Tab reaches the last one.
    page.keyboard.press("Shift+Tab")
    focused = page.evaluate("document.activeElement.className")
    assert "kc-choice" in focused
    title = page.evaluate("document.activeElement.textContent")
    before = user_count(running_bot, session_id(page))
    page.keyboard.press("Enter")
    settle(page, running_bot, before)
    assert page.locator(".kc-user .kc-text").last.inner_text() == title
    page.screenshot(path=str(ARTIFACTS / "widget-4-keyboard.png"))

    page.keyboard.press("Escape")  # closes the chat and gives focus back to the launcher
    assert not page.locator("#kc-panel").is_visible()
    assert page.evaluate("document.activeElement.classList.contains('kc-launcher')")
    context.close()


def test_phone_layout_at_360_px(running_bot: RunningBot, browser: Browser) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    context = browser.new_context(viewport={"width": 360, "height": 740}, device_scale_factor=2, is_mobile=True,
                                  has_touch=True, locale="en-GB")
    page = context.new_page()
    page.goto(running_bot.web + "/")
    launcher = page.get_by_role("button", name=LAUNCHER).bounding_box()
    assert launcher and launcher["x"] >= 0 and launcher["x"] + launcher["width"] <= 360
    open_widget(page, running_bot)
    box = page.locator("#kc-panel").bounding_box()
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= 360 and box["height"] <= 740
    assert page.evaluate("document.documentElement.scrollWidth") <= 360  # nothing sticks out sideways
    for name in ("Your message",):
        field = page.get_by_label(name).bounding_box()
        assert field and field["y"] + field["height"] <= 740
    send = page.get_by_role("button", name="Send").bounding_box()
    assert send and send["x"] + send["width"] <= 360 and send["y"] + send["height"] <= 740
    type_message(page, running_bot, "my kneecap aches when I go down stairs")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert page.locator(".kc-choice").count() >= 2  # quick replies wrap inside the screen
    for index in range(page.locator(".kc-choice").count()):
        choice = page.locator(".kc-choice").nth(index).bounding_box()
        assert choice and choice["x"] >= 0 and choice["x"] + choice["width"] <= 360
    # WCAG AA contrast for the text on the clinic's colour and in the bubbles
    for selector in (".kc-header", ".kc-user", ".kc-bot", ".kc-send", ".kc-choice"):
        colours = page.locator(selector).last.evaluate(
            "e => [getComputedStyle(e).color, getComputedStyle(e).backgroundColor]")
        assert contrast(*colours) >= 4.5, (selector, colours)
    page.screenshot(path=str(ARTIFACTS / "widget-5-phone-360.png"))
    context.close()


def contrast(foreground: str, background: str) -> float:
    """WCAG contrast ratio of two CSS rgb() colours."""
    def luminance(css: str) -> float:
        channels = [int(c) / 255 for c in css[css.index("(") + 1:css.index(")")].split(",")[:3]]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    high, low = sorted((luminance(foreground), luminance(background)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_widget_files_are_served_locally(running_bot: RunningBot) -> None:
    import requests

    page = requests.get(running_bot.web + "/", timeout=10).text
    assert "/widget/widget.js" in page and "cdn" not in page.lower()
    client = requests.get(running_bot.web + "/widget/vendor/socket.io.min.js", timeout=10)
    assert client.status_code == 200 and "Socket.IO v4" in client.text[:200]
    assert requests.get(running_bot.web + "/widget/../conftest.py", timeout=10).status_code == 404
    # The Rasa server's socket.io accepts the demo page's origin and no other.
    polling = f"{running_bot.base}/socket.io/?EIO=4&transport=polling"
    ok = requests.get(polling, headers={"Origin": running_bot.web}, timeout=10)
    assert ok.status_code == 200 and ok.headers.get("Access-Control-Allow-Origin") == running_bot.web
    assert requests.get(polling, headers={"Origin": "http://evil.example"}, timeout=10).status_code == 400
