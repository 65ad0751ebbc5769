"""Commands: migrate, create-admin, first-admin, erase-older-than, sync, export-vignettes.

    python -m bot.store migrate
    CONSOLE_ADMIN_PASSWORD=... python -m bot.store create-admin --username alex
    python -m bot.store first-admin   # `make run`: an "admin" login on a new install, shown once
    python -m bot.store erase-older-than --days 365   # default: RETENTION_DAYS, else 365
    python -m bot.store export-vignettes --out reviewed.yml   # then: python -m bot.triage evaluate reviewed.yml
"""

from __future__ import annotations

import argparse
import getpass
import os
import secrets
import sys
from pathlib import Path

from bot.store import audit, db, inputs
from bot.store.erasure import erase_older_than
from bot.store.migrate import is_current, migrate
from bot.store.models import StaffUser
from bot.store.queries import InboxFilter
from bot.store.sync import sync_events
from bot.store.users import UserError, create_user, find_user
from bot.store.vignettes import to_yaml, vignettes

DEFAULT_RETENTION_DAYS = 365


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.store", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("migrate", help="create or upgrade the console's tables (safe to repeat)")
    admin = commands.add_parser("create-admin", help="create an admin user; password from CONSOLE_ADMIN_PASSWORD "
                                                     "or a prompt")
    admin.add_argument("--username", required=True)
    admin.add_argument("--exists-ok", action="store_true", help="succeed without change if the user exists")
    erase = commands.add_parser("erase-older-than", help="erase conversations with no activity for this many days")
    erase.add_argument("--days", type=int, default=None,
                       help=f"default: RETENTION_DAYS from the environment, else {DEFAULT_RETENTION_DAYS}")
    commands.add_parser("first-admin", help="on a database with no staff yet, create 'admin' with a random "
                                            "password and print it once")
    commands.add_parser("sync", help="read new Rasa events into the case list now")
    export = commands.add_parser("export-vignettes", help="clinician-reviewed conversations as test vignettes "
                                                          "(personal details removed) for `python -m bot.triage "
                                                          "evaluate`")
    export.add_argument("--out", required=True, type=Path, help="the YAML file to write")
    export.add_argument("--since", help="first day (YYYY-MM-DD, the clinic's time zone) a conversation started")
    export.add_argument("--until", help="last day (YYYY-MM-DD)")
    export.add_argument("--channel", help="only this channel (e.g. socketio, whatsapp)")
    args = parser.parse_args(argv)

    if args.command == "migrate":
        revision = migrate()
        print(f"console schema at revision {revision}")
        return 0
    if not is_current():
        print("the console's tables are missing or out of date: run `python -m bot.store migrate` first",
              file=sys.stderr)
        return 1
    if args.command == "create-admin":
        return _create_admin(args.username, exists_ok=args.exists_ok)
    if args.command == "first-admin":
        return _first_admin()
    if args.command == "export-vignettes":
        return _export_vignettes(args.out, args.since, args.until, args.channel)
    if args.command == "erase-older-than":
        days = args.days if args.days is not None else int(os.environ.get("RETENTION_DAYS") or DEFAULT_RETENTION_DAYS)
        with db.session_scope() as session:
            sync_events(session)  # so conversations not yet listed are judged by their events too
            erased = erase_older_than(session, days)
        print(f"erased {erased} conversation(s) with no activity in the last {days} days")
        return 0
    with db.session_scope() as session:
        print(f"refreshed {sync_events(session)} conversation(s)")
    return 0


def _create_admin(username: str, *, exists_ok: bool) -> int:
    with db.session_scope() as session:
        if find_user(session, username) is not None:
            if exists_ok:
                print(f"user {username} already exists; left as it is")
                return 0
            print(f"there is already a user called {username}", file=sys.stderr)
            return 1
        password = os.environ.get("CONSOLE_ADMIN_PASSWORD")
        if not password:
            if not sys.stdin.isatty():
                print("set CONSOLE_ADMIN_PASSWORD or run this in a terminal to be asked", file=sys.stderr)
                return 1
            password = getpass.getpass(f"Password for {username}: ")
            if getpass.getpass("Again: ") != password:
                print("the passwords differ", file=sys.stderr)
                return 1
        try:
            create_user(session, username, password, "admin")
        except UserError as error:
            print(error, file=sys.stderr)
            return 1
        audit.record(session, "command line", "user_create", detail=f"{username} as admin")
    print(f"created admin user {username}")
    return 0


def _export_vignettes(out: Path, since: str | None, until: str | None, channel: str | None) -> int:
    from bot.console.settings import Settings  # the clinic's time zone, as the console reads it

    try:
        selected = InboxFilter(since=inputs.day(since, "since"), until=inputs.day(until, "until"),
                               channel=inputs.word(channel, "channel"))
    except inputs.InputError as error:
        print(f"--{error.name}: expected {'YYYY-MM-DD' if error.name != 'channel' else 'a channel name'}",
              file=sys.stderr)
        return 2
    with db.session_scope() as session:
        sync_events(session)
        found = vignettes(session, selected, Settings.from_env().timezone)
        try:
            out.write_text(to_yaml(found, since=selected.since, until=selected.until, channel=selected.channel),
                           encoding="utf-8")
        except OSError as error:
            print(f"cannot write {out}: {error.strerror or error}", file=sys.stderr)
            return 1
        audit.record(session, "command line", "export_vignettes", detail=f"{len(found)} vignettes; "
                                                                        f"{selected.describe()}")
    print(f"wrote {len(found)} vignette(s) to {out}" + ("" if found else " (no clinician-reviewed conversations "
                                                                          "matched)"))
    return 0


def _first_admin() -> int:
    with db.session_scope() as session:
        if session.query(StaffUser.id).first() is not None:
            print("Staff console login: your staff account (admins add users in the console).")
            return 0
        password = secrets.token_urlsafe(12)
        create_user(session, "admin", password, "admin")
        audit.record(session, "command line", "user_create", detail="admin as admin (first run)")
    print(f"Staff console login: admin / {password}  (shown once: sign in and change it under Users)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
