"""Admins only: staff accounts and the audit log."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, redirect
from sqlalchemy import select

from bot.console.auth import guarded
from bot.console.render import refuse, render
from bot.store import audit, inputs, users
from bot.store.models import StaffUser

bp = Blueprint("admin")
# Messages after a change, by code: the page never echoes text from its own address.
DONE = {"created": "User created.", "role": "Role changed.", "active": "Account status changed.",
        "password": "Password reset; the user has been signed out everywhere."}


def _users_page(request: Request, *, status: int = 200, error: str = "") -> HTTPResponse:
    staff = request.ctx.db.execute(select(StaffUser).order_by(StaffUser.username)).scalars().all()
    return render(request, "users.html", status=status, staff=staff, error=error,
                  done=DONE.get(request.args.get("done") or "", ""))


@bp.get("/admin/users")
@guarded("admin")
async def list_users(request: Request) -> HTTPResponse:
    return _users_page(request)


@bp.post("/admin/users")
@guarded("admin")
async def create_user(request: Request) -> HTTPResponse:
    form, session = request.form, request.ctx.db
    try:
        user = users.create_user(session, form.get("username") or "", form.get("password") or "",
                                 form.get("role") or "")
    except users.UserError as error:
        session.rollback()
        return _users_page(request, status=400, error=str(error))
    audit.record(session, request.ctx.user.username, "user_create", detail=f"{user.username} as {user.role}")
    return redirect("/admin/users?done=created", status=303)


@bp.post("/admin/users/<user_id:id>")
@guarded("admin")
async def update_user(request: Request, user_id: int) -> HTTPResponse:
    form, session, acting = request.form, request.ctx.db, request.ctx.user
    user = session.get(StaffUser, user_id)
    if user is None:
        return refuse(request, 404, "There is no such user.")
    change = form.get("change")
    try:
        if change == "role":
            users.set_role(session, user, form.get("role") or "", acting=acting)
            detail = f"{user.username} role {user.role}"
        elif change == "active":
            users.set_active(session, user, form.get("active") == "yes", acting=acting)
            detail = f"{user.username} {'activated' if user.active else 'deactivated'}"
        elif change == "password":
            users.set_password(session, user, form.get("password") or "")
            detail = f"{user.username} password reset"
        else:
            return refuse(request, 400, "Unknown change.")
    except users.UserError as error:
        session.rollback()
        return _users_page(request, status=400, error=str(error))
    audit.record(session, acting.username, "user_update", detail=detail)
    return redirect(f"/admin/users?done={change}", status=303)


@bp.get("/admin/audit")
@guarded("admin")
async def audit_log(request: Request) -> HTTPResponse:
    entries = audit.recent(request.ctx.db, before_id=inputs.optional_id(request.args.get("before"), "before"))
    return render(request, "audit.html", entries=entries,
                  older=entries[-1].id if len(entries) == 100 else None)
