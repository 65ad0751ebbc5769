"""The console's settings, from the environment."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.store.db import database_url

DEFAULT_PORT = 8080


@dataclass(frozen=True)
class Settings:
    database_url: str
    secret: bytes  # keys session-token hashes and CSRF tokens
    secret_generated: bool  # no CONSOLE_SECRET: sessions end when the process does
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    timezone: ZoneInfo = ZoneInfo("UTC")
    force_secure_cookies: bool = False  # otherwise Secure is set when the request came over https
    proxies_count: int = 0  # reverse proxies in front whose X-Forwarded-* headers are trusted
    session_hours: int = 12

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        secret = env.get("CONSOLE_SECRET", "")
        return cls(
            database_url=database_url(env),
            secret=(secret or secrets.token_urlsafe(32)).encode(),
            secret_generated=not secret,
            host=env.get("CONSOLE_HOST") or "127.0.0.1",
            port=int(env.get("CONSOLE_PORT") or DEFAULT_PORT),
            timezone=_zone(env.get("CONSOLE_TIMEZONE") or env.get("TZ") or ""),
            force_secure_cookies=env.get("CONSOLE_SECURE_COOKIES", "").lower() in ("1", "true", "yes"),
            proxies_count=int(env.get("CONSOLE_PROXIES_COUNT") or 0),
        )


def _zone(name: str) -> ZoneInfo:
    """The clinic's time zone for showing and filtering times; the machine's own when unset."""
    if name:
        try:
            return ZoneInfo(name.lstrip(":"))
        except (ZoneInfoNotFoundError, ValueError):
            pass
    try:
        from tzlocal import get_localzone_name  # a Rasa dependency

        return ZoneInfo(get_localzone_name() or "UTC")
    except (ZoneInfoNotFoundError, ValueError, ImportError):
        return ZoneInfo("UTC")
