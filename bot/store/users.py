"""Staff accounts: roles and argon2id password hashes."""

from __future__ import annotations

import re

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.store.db import utcnow
from bot.store.models import ROLES, StaffSession, StaffUser

MIN_PASSWORD = 12
USERNAME = re.compile(r"^[A-Za-z0-9._-]{2,64}$")
_hasher = PasswordHasher()  # argon2id, RFC 9106 low-memory parameters
# Verified when the username is unknown, so a failed login takes as long either way (a constant:
# hashing it at import would cost every command a fifth of a second).
_DUMMY_HASH = "$argon2id$v=19$m=65536,t=3,p=4$2U991SbFs9CiDIi3bALS2Q$49ZCgCkEhjOAPjnj4urVMz5V0lAcZLk3xS7O3bJ66SQ"


class UserError(ValueError):
    """A username, role or password that cannot be used; the message is shown to the admin."""


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise UserError(f"passwords need at least {MIN_PASSWORD} characters")


def create_user(session: Session, username: str, password: str, role: str) -> StaffUser:
    username = username.strip()
    if not USERNAME.match(username):
        raise UserError("usernames are 2-64 letters, digits, dots, dashes or underscores")
    if role not in ROLES:
        raise UserError(f"role must be one of {', '.join(ROLES)}")
    check_password(password)
    if find_user(session, username) is not None:
        raise UserError(f"there is already a user called {username}")
    user = StaffUser(username=username, password_hash=_hasher.hash(password), role=role, active=True,
                     created_at=utcnow())
    session.add(user)
    session.flush()
    return user


def find_user(session: Session, username: str) -> StaffUser | None:
    if not USERNAME.match(username.strip()):
        return None  # no user has such a name, and a NUL in it would be refused by PostgreSQL
    return session.execute(select(StaffUser).where(func.lower(StaffUser.username) == username.strip().lower())
                           ).scalar_one_or_none()


def authenticate(session: Session, username: str, password: str) -> StaffUser | None:
    """The active user with this username and password, or None."""
    user = find_user(session, username)
    if not password_matches(user, password):
        return None
    signed_in(user, password)
    return user


def password_matches(user: StaffUser | None, password: str) -> bool:
    """Slow on purpose (argon2), and as slow for an unknown user; touches no database."""
    try:
        _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return False
    return user is not None and bool(user.active)


def signed_in(user: StaffUser, password: str | None = None) -> None:
    """Note the login, and re-hash with current parameters when they have changed."""
    if password is not None and _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    user.last_login_at = utcnow()


def set_password(session: Session, user: StaffUser, password: str) -> None:
    check_password(password)
    user.password_hash = _hasher.hash(password)
    sign_out_everywhere(session, user)


def set_role(session: Session, user: StaffUser, role: str, *, acting: StaffUser) -> None:
    if role not in ROLES:
        raise UserError(f"role must be one of {', '.join(ROLES)}")
    if user.role == "admin" and role != "admin":
        _keep_an_admin(session, user, acting)
    user.role = role


def set_active(session: Session, user: StaffUser, active: bool, *, acting: StaffUser) -> None:
    if not active:
        if user.role == "admin":
            _keep_an_admin(session, user, acting)
        sign_out_everywhere(session, user)
    user.active = active


def sign_out_everywhere(session: Session, user: StaffUser) -> None:
    session.query(StaffSession).filter(StaffSession.user_id == user.id).delete(synchronize_session=False)


def _keep_an_admin(session: Session, user: StaffUser, acting: StaffUser) -> None:
    if user.id == acting.id:
        raise UserError("you cannot remove your own admin rights; ask another admin")
    admins = session.execute(select(func.count()).select_from(StaffUser)
                             .where(StaffUser.role == "admin", StaffUser.active.is_(True))).scalar_one()
    if admins <= 1:
        raise UserError("the console needs at least one active admin")
