"""Signing in and out."""

from __future__ import annotations

import asyncio
import secrets

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, redirect

from bot.console import auth
from bot.console.auth import LOGIN_COOKIE, PUBLIC, SESSION_COOKIE, guarded
from bot.console.render import render
from bot.store import audit
from bot.store.users import find_user, password_matches, signed_in

bp = Blueprint("login")


def _next(target: str | None) -> str:
    """Only a path on this site: never an open redirect to another host."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/inbox"


def _login_page(request: Request, *, status: int = 200, error: str = "", username: str = "",
                retry_after: int = 0) -> HTTPResponse:
    settings = request.app.ctx.settings
    pre = request.cookies.get(LOGIN_COOKIE) or ""
    fresh = len(pre) < 20
    if fresh:
        pre = secrets.token_urlsafe(24)
    target = request.form.get("next") if request.method == "POST" else request.args.get("next")
    response = render(request, "login.html", status=status, error=error, username=username, next=_next(target),
                      csrf=auth.csrf_token(settings.secret, pre))
    if fresh:
        auth.set_cookie(request, response, LOGIN_COOKIE, pre, max_age=3600)
    if retry_after:
        response.headers["Retry-After"] = str(retry_after)
    return response


@bp.get("/login")
@guarded(PUBLIC)
async def login_form(request: Request) -> HTTPResponse:
    settings = request.app.ctx.settings
    if auth.user_for(request.ctx.db, settings.secret, request.cookies.get(SESSION_COOKIE)):
        return redirect(_next(request.args.get("next")), status=303)
    return _login_page(request)


@bp.post("/login")
@guarded(PUBLIC)
async def login(request: Request) -> HTTPResponse:
    settings, session, limiter = request.app.ctx.settings, request.ctx.db, request.app.ctx.limiter
    username = (request.form.get("username") or "").strip()[:64]
    password = request.form.get("password") or ""
    if not auth.csrf_valid(settings.secret, request.cookies.get(LOGIN_COOKIE), request.form.get(auth.CSRF_FIELD)):
        return _login_page(request, status=403, username=username,
                           error="The sign-in form had expired. Please try again.")
    address = request.remote_addr or request.ip
    wait = limiter.retry_after(username, address)
    if wait:
        return _login_page(request, status=429, username=username, retry_after=wait,
                           error=f"Too many failed attempts. Try again in {max(1, wait // 60)} minute(s).")
    user = find_user(session, username)
    # argon2 takes tens of milliseconds of CPU: keep the event loop free meanwhile.
    if not await asyncio.to_thread(password_matches, user, password):
        limiter.failed(username, address)
        return _login_page(request, status=401, username=username, error="Wrong username or password.")
    limiter.succeeded(username)
    signed_in(user, password)
    token = auth.start_session(session, settings.secret, user, settings.session_hours)
    audit.record(session, user.username, "login")
    response = redirect(_next(request.form.get("next")), status=303)
    auth.set_cookie(request, response, SESSION_COOKIE, token, max_age=settings.session_hours * 3600)
    del response.cookies[LOGIN_COOKIE]
    return response


@bp.post("/logout")
@guarded("receptionist")
async def logout(request: Request) -> HTTPResponse:
    settings = request.app.ctx.settings
    auth.end_session(request.ctx.db, settings.secret, request.cookies.get(SESSION_COOKIE))
    audit.record(request.ctx.db, request.ctx.user.username, "logout")
    response = redirect("/login", status=303)
    del response.cookies[SESSION_COOKIE]
    return response
