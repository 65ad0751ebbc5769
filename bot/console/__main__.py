"""Run the console: `python -m bot.console` (127.0.0.1, port CONSOLE_PORT or 8080).

Settings from the environment: DATABASE_URL (the tracker store's database), CONSOLE_PORT,
CONSOLE_SECRET (keys sessions and CSRF tokens; a random one per run when unset, which signs
everybody out on restart), CONSOLE_TIMEZONE (the clinic's, for times and date filters),
CONSOLE_SECURE_COOKIES=1 and CONSOLE_PROXIES_COUNT behind an https reverse proxy.
The schema is migrated at start (as `python -m bot.store migrate` does).
"""

from __future__ import annotations

import logging
import sys

from bot.console.app import create_app
from bot.console.settings import Settings


def main() -> None:
    settings = Settings.from_env()
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    log = logging.getLogger("bot")  # the console's requests and the case sync's warnings
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False  # Sanic configures its own loggers; ours would print twice through the root
    if settings.secret_generated:
        print("CONSOLE_SECRET is not set: using a random one for this run (everyone signs in again after a "
              "restart)", file=sys.stderr)
    app = create_app(settings)
    print(f"Receptionist console on http://{settings.host}:{settings.port}/ (sign in with a staff account; "
          "create the first with `python -m bot.store create-admin --username NAME`)", file=sys.stderr)
    app.run(host=settings.host, port=settings.port, access_log=False, motd=False, workers=1)


if __name__ == "__main__":
    main()
