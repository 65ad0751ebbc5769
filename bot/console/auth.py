"""Sign-in sessions, CSRF tokens and the access rule every route declares.

The session cookie holds a random token; the database keeps only its HMAC (keyed by
CONSOLE_SECRET), so a leaked database copy cannot be replayed as cookies, and logout or
deactivating a user ends the session at once. CSRF tokens are an HMAC of the session token
(of a pre-login cookie on the login form): nothing to store, and useless on another session.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Awaitable, Callable
from datetime import timedelta
from functools import wraps
from urllib.parse import quote

from sanic import Request
from sanic.response import HTTPResponse, redirect
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bot.console.render import refuse
from bot.store.db import session_scope, utcnow
from bot.store.inputs import InputError
from bot.store.models import ROLES, StaffSession, StaffUser

SESSION_COOKIE = "console_session"
LOGIN_COOKIE = "console_login"
CSRF_FIELD = "csrf"
PUBLIC = "public"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

Handler = Callable[..., Awaitable[HTTPResponse]]


def _mac(secret: bytes, purpose: str, value: str) -> str:
    digest = hmac.new(secret, f"{purpose}:{value}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def csrf_token(secret: bytes, session_token: str) -> str:
    return _mac(secret, "csrf", session_token)


def csrf_valid(secret: bytes, session_token: str | None, submitted: str | None) -> bool:
    if not (session_token and submitted):
        return False
    # As bytes: compare_digest refuses str with non-ASCII characters, which a forged form can hold.
    expected = csrf_token(secret, session_token).encode()
    return hmac.compare_digest(expected, submitted.encode("utf-8", "replace"))


def start_session(session: Session, secret: bytes, user: StaffUser, hours: int) -> str:
    token = secrets.token_urlsafe(32)
    now = utcnow()
    session.execute(delete(StaffSession).where(StaffSession.expires_at < now))  # tidy as we go
    session.add(StaffSession(token_hash=_mac(secret, "session", token), user_id=user.id, created_at=now,
                             expires_at=now + timedelta(hours=hours)))
    return token


def end_session(session: Session, secret: bytes, token: str) -> None:
    session.execute(delete(StaffSession).where(StaffSession.token_hash == _mac(secret, "session", token)))


def user_for(session: Session, secret: bytes, token: str | None) -> StaffUser | None:
    if not token or len(token) > 100:
        return None
    signed_in = session.execute(select(StaffSession).where(StaffSession.token_hash == _mac(secret, "session", token))
                                ).scalar_one_or_none()
    if signed_in is None or signed_in.expires_at < utcnow() or not signed_in.user.active:
        return None
    return signed_in.user


def set_cookie(request: Request, response: HTTPResponse, name: str, value: str, max_age: int) -> None:
    response.cookies[name] = value
    cookie = response.cookies[name]
    cookie["httponly"] = True
    cookie["samesite"] = "Lax"  # Strict would sign people out when they follow a link to a case
    cookie["path"] = "/"
    cookie["max-age"] = max_age
    if request.app.ctx.settings.force_secure_cookies or request.scheme == "https":
        cookie["secure"] = True


def guarded(role: str) -> Callable[[Handler], Handler]:
    """Declare who may use a route: PUBLIC or a role (receptionist < clinician < admin).

    Every route must have one (the app refuses routes without); the wrapper opens the request's
    database session, refuses anonymous and under-privileged users, and checks the CSRF token
    on every unsafe method. The handler finds request.ctx.db, .user and .csrf. A malformed or
    out-of-range query value (inputs.InputError from the handler) is answered with 400, nothing written.
    """
    if role != PUBLIC and role not in ROLES:
        raise ValueError(f"unknown role {role!r}")

    def decorate(handler: Handler) -> Handler:
        @wraps(handler)
        async def wrapper(request: Request, *args, **kwargs) -> HTTPResponse:
            settings = request.app.ctx.settings
            with session_scope(settings.database_url) as session:
                request.ctx.db, request.ctx.user, request.ctx.csrf = session, None, ""
                if role == PUBLIC:
                    return await handler(request, *args, **kwargs)
                token = request.cookies.get(SESSION_COOKIE)
                user = user_for(session, settings.secret, token)
                if user is None:
                    return _anonymous(request)
                request.ctx.user, request.ctx.csrf = user, csrf_token(settings.secret, token)
                if not user.can(role):
                    return refuse(request, 403, "Your role does not allow this page.")
                if request.method not in SAFE_METHODS and not csrf_valid(settings.secret, token, _form(request)):
                    return refuse(
                        request, 403, "This form has expired or did not come from the console. Go back, reload "
                                      "the page and try again.")
                try:
                    return await handler(request, *args, **kwargs)
                except InputError as error:
                    session.rollback()
                    return refuse(request, 400, f"The address has a malformed or out-of-range value for "
                                                f"“{error.name}”.")

        wrapper.console_access = role  # type: ignore[attr-defined]
        return wrapper

    return decorate


def _form(request: Request) -> str | None:
    return request.form.get(CSRF_FIELD) if request.form else None


def _anonymous(request: Request) -> HTTPResponse:
    if request.method in SAFE_METHODS and "json" not in request.headers.get("accept", ""):
        target = request.path + (f"?{request.query_string}" if request.query_string else "")
        return redirect(f"/login?next={quote(target, safe='')}", status=303)
    return HTTPResponse("Sign in first.\n", status=401, content_type="text/plain; charset=utf-8")
