"""Sign-up, sign-in and browser sessions."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, select, text
from sqlalchemy.orm import Session

from tripl.config import Settings
from tripl.core.db import utcnow
from tripl.core.errors import Conflict, Forbidden, Unauthorized
from tripl.core.security import (
    hash_password,
    keyed_hash,
    new_token,
    password_needs_rehash,
    verify_password,
)
from tripl.workspace.audit import service as audit
from tripl.workspace.settings.service import registration_mode
from tripl.workspace.users.models import User, UserRole, UserSession
from tripl.workspace.users.service import count_users

# Any constant: serialises the "is this the first account?" decision on PostgreSQL.
_FIRST_USER_LOCK = 7_310_001


def normalise_email(email: str) -> str:
    return email.strip().lower()


def register(db: Session, settings: Settings, *, email: str, password: str, name: str | None) -> User:
    password_hash = hash_password(password)  # before the first statement takes any lock
    if db.get_bind().dialect.name == "postgresql":
        db.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _FIRST_USER_LOCK})
    existing_users = count_users(db)
    if existing_users and registration_mode(db, settings) == "disabled":
        raise Forbidden("Registration is disabled on this instance; ask an owner for an account")
    email = normalise_email(email)
    if db.scalar(select(User.id).where(User.email == email)) is not None:
        raise Conflict("Email already registered")
    user = User(
        email=email,
        name=name,
        password_hash=password_hash,
        role=UserRole.viewer if existing_users else UserRole.owner,
    )
    db.add(user)
    db.flush()
    audit.record(
        db,
        user,
        "user.register",
        target_type="user",
        target_id=user.id,
        target_name=email,
        payload={"role": user.role.value},
    )
    return user


def authenticate(db: Session, *, email: str, password: str) -> tuple[User, str | None]:
    """The user whose password matches, and a fresh hash when the stored one is outdated.

    Only reads, so callers can verify (slow by design) outside any write transaction.
    """
    user = db.scalar(select(User).where(User.email == normalise_email(email)))
    # verify_password does the same argon2 work for unknown e-mails, so timing tells nothing.
    if not verify_password(user.password_hash if user else None, password) or user is None:
        raise Unauthorized("Invalid email or password")
    return user, hash_password(password) if password_needs_rehash(user.password_hash) else None


def start_session(db: Session, settings: Settings, user: User, new_password_hash: str | None = None) -> str:
    """Create a session row and return the raw cookie token (only its keyed hash is stored)."""
    user = db.merge(user, load=False) if user not in db else user
    if new_password_hash:
        user.password_hash = new_password_hash
    token = new_token(32)
    now = utcnow()
    db.execute(delete(UserSession).where(UserSession.user_id == user.id, UserSession.expires_at <= now))
    db.add(
        UserSession(
            user_id=user.id,
            token_hash=keyed_hash(settings.resolved_secret_key, token),
            expires_at=now + timedelta(hours=settings.session_ttl_hours),
        )
    )
    audit.record(db, user, "auth.login", target_type="user", target_id=user.id, target_name=user.email)
    return token


def end_session(db: Session, settings: Settings, token: str | None, user: User) -> None:
    if token:
        db.execute(
            delete(UserSession).where(
                UserSession.token_hash == keyed_hash(settings.resolved_secret_key, token),
                UserSession.user_id == user.id,
            )
        )
    audit.record(db, user, "auth.logout", target_type="user", target_id=user.id, target_name=user.email)


def purge_expired_sessions(db: Session) -> int:
    result = db.execute(delete(UserSession).where(UserSession.expires_at <= utcnow()))
    return int(getattr(result, "rowcount", 0) or 0)
