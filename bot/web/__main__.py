"""Run the demo clinic website: `python -m bot.web` on 127.0.0.1:WEB_PORT (default 8000).

WIDGET_SOCKET_URL is where the widget connects (default: the Rasa server on RASA_PORT).
"""

from __future__ import annotations

import os
import sys

from bot.clinic import clinic
from bot.web.app import WebSettings, create_app


def main() -> None:
    port = int(os.environ.get("WEB_PORT", "8000"))
    socket_url = os.environ.get("WIDGET_SOCKET_URL") or f"http://127.0.0.1:{os.environ.get('RASA_PORT', '5005')}"
    settings = WebSettings(socket_url=socket_url, clinic_name=clinic().name, port=port)
    print(f"Demo clinic page with the chat widget on http://{settings.host}:{settings.port}/", file=sys.stderr)
    create_app(settings).run(host=settings.host, port=settings.port, access_log=False, motd=False, workers=1)


if __name__ == "__main__":
    main()
