"""A terminal chat with the running assistant over its REST channel.

Used by `make run` until the web widget arrives; quick replies are shown as numbered choices
and a number picks one.
"""

from __future__ import annotations

import argparse
import sys
import time
import uuid

import requests


def wait_until_ready(url: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{url}/", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(1)
    sys.exit(f"error: the assistant did not start within {seconds:.0f} s (see var/serve.log)")


def show(replies: list[dict]) -> list[dict]:
    """Print the bot's replies; return the buttons of the last one."""
    buttons: list[dict] = []
    for reply in replies:
        if reply.get("text"):
            print(f"bot> {reply['text']}")
        buttons = reply.get("buttons") or buttons
    for i, button in enumerate(buttons, 1):
        print(f"     {i}. {button.get('title')}")
    return buttons


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", default="http://127.0.0.1:5005")
    parser.add_argument("--wait", type=float, default=0, help="seconds to wait for the server")
    args = parser.parse_args()
    url = args.url.rstrip("/")
    if args.wait:
        wait_until_ready(url, args.wait)
    sender = f"terminal-{uuid.uuid4().hex[:12]}"
    print("Chat with the knee assistant. Type 'quit' to leave, 'restart' to start over.\n")
    buttons: list[dict] = []
    text = "hello"
    while True:
        if buttons and text.strip().isdigit() and 1 <= int(text) <= len(buttons):
            text = buttons[int(text) - 1].get("payload") or buttons[int(text) - 1].get("title", "")
        try:
            response = requests.post(f"{url}/webhooks/rest/webhook", json={"sender": sender, "message": text},
                                     timeout=60)
            response.raise_for_status()
            buttons = show(response.json())
        except requests.RequestException as exc:
            print(f"(could not reach the assistant: {exc})")
        try:
            text = input("you> ")
        except (EOFError, KeyboardInterrupt):
            print()
            return
        if text.strip().lower() in {"quit", "exit"}:
            return


if __name__ == "__main__":
    main()
